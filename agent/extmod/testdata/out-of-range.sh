#!/bin/sh
# Ignores stdin and prints a huge non-finite number.
echo '{"metrics":[{"name":"users.x","value":1e999,"unit":""}]}'
