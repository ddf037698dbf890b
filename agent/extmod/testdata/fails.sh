#!/bin/sh
# Fails: exit status 2 with an explanation (and a control character) on stderr.
printf 'cannot read /var/run/utmp: \033[31mpermission denied\n' >&2
echo "second line" >&2
exit 2
