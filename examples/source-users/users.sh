#!/bin/sh
# users: a CSCS agent module (exec protocol, see sdk/agentmod) that counts
# login sessions and distinct logged-in users with who(1).
#
# stdin:  one agentmod.Request, e.g. {"version":1,"source":"users","deadline_ms":5000}
# stdout: one agentmod.Result with users.logged_in and users.distinct
# Exit 0 with a result, or 1 with one line on stderr.
#
# Try it by hand:
#   echo '{"version":1,"source":"users","deadline_ms":5000}' | sh users.sh

# The request carries nothing this module needs; read it so the agent
# never blocks on a full pipe.
cat >/dev/null

if ! sessions=$(who); then
	echo "users: who failed; is it installed and is utmp readable?" >&2
	exit 1
fi

# One line per session; the first field is the user name.
counts=$(printf '%s\n' "$sessions" | awk '
	NF > 0 { n++; if (!($1 in seen)) { seen[$1] = 1; d++ } }
	END    { printf "%d %d\n", n, d }
') || {
	echo "users: awk failed while counting sessions" >&2
	exit 1
}
logged_in=${counts% *}
distinct=${counts#* }

printf '{"metrics":[{"name":"users.logged_in","value":%d,"unit":"count"},{"name":"users.distinct","value":%d,"unit":"count"}]}\n' \
	"$logged_in" "$distinct"
