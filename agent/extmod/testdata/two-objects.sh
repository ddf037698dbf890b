#!/bin/sh
# Prints two JSON objects.
echo '{} {}'
