#!/bin/sh
# Answers only while meet-b.sh runs too: marks its own start, then waits
# up to 5 s for meet-b.sh's mark. Run one after the other, it fails.
cat >/dev/null
: > meet-a.started
i=0
while [ ! -e meet-b.started ]; do
  i=$((i + 1))
  [ $i -gt 100 ] && { echo "meet-b.sh never ran beside me" >&2; exit 1; }
  sleep 0.05
done
echo '{"metrics":[{"name":"meet_a.met","value":1,"unit":"count"}]}'
