#!/bin/sh
# Prints something that is not JSON.
echo "Users logged in: 3"
