#!/bin/sh
# Overruns its deadline with a child in its process group; records the
# child's pid so the test can check that it was killed too.
sleep 30 &
echo $! > sleeper.pid
wait
