#!/bin/sh
# Installed as meet-a.sh and meet-b.sh: each answers only while the other
# runs too. It marks its own start, then waits up to 5 s for the other's
# mark; run one after the other, the first fails.
cat >/dev/null
me=${0##*/}
me=${me%.sh}
case $me in meet-a) other=meet-b ;; *) other=meet-a ;; esac
: > "$me.started"
i=0
while [ ! -e "$other.started" ]; do
  i=$((i + 1))
  [ $i -gt 100 ] && { echo "$other.sh never ran beside me" >&2; exit 1; }
  sleep 0.05
done
printf '{"metrics":[{"name":"%s.met","value":1,"unit":"count"}]}\n' "$(echo "$me" | tr - _)"
