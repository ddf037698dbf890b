#!/bin/sh
# Misspells "metrics".
echo '{"metric":[{"name":"users.logged_in","value":3,"unit":"count"}]}'
