#!/bin/sh
# Answers, but leaves a child behind that keeps stdout open.
sleep 30 &
echo $! > leftover.pid
echo '{"metrics":[{"name":"users.logged_in","value":1,"unit":"count"}]}'
