#!/bin/sh
# Floods stdout.
exec yes
