#!/bin/sh
# Answers only while meet-a.sh runs too: marks its own start, then waits
# up to 5 s for meet-a.sh's mark. Run one after the other, it fails.
cat >/dev/null
: > meet-b.started
i=0
while [ ! -e meet-a.started ]; do
  i=$((i + 1))
  [ $i -gt 100 ] && { echo "meet-a.sh never ran beside me" >&2; exit 1; }
  sleep 0.05
done
echo '{"metrics":[{"name":"meet_b.met","value":1,"unit":"count"}]}'
