#!/bin/sh
# Saves the request it received, then reports nothing.
cat > request.json
echo '{}'
