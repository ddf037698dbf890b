#!/usr/bin/env bash
# The Debian package, end to end (`make package-test`, run by `make test`):
# builds cscs_<v>_amd64.deb into a scratch directory, installs it with dpkg,
# checks where its files went, runs `cscs version` and `cscs validate` on the
# packaged configuration, purges it and checks that none of its files is left.
# The cscs system user stays after the purge (Debian policy allows it: files
# it owned elsewhere, such as /var/lib/cscs, keep a known owner).
# Root and dpkg only; elsewhere it says so and exits 0. It refuses to run
# where a cscs package is already installed, not to remove the operator's.
set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null 2>&1; then
	echo "package-test: skipped (needs root and dpkg)"
	exit 0
fi
if dpkg-query -W -f '${Status}' cscs 2>/dev/null | grep -q 'installed'; then
	echo "package-test: a cscs package is installed here already; not touching it" >&2
	exit 1
fi
arch=$(dpkg --print-architecture)
case $arch in
amd64 | arm64) ;;
*)
	echo "package-test: skipped (no package for $arch)"
	exit 0
	;;
esac

tmp=$(mktemp -d)
installed=0
cleanup() {
	[ "$installed" = 1 ] && dpkg --purge cscs >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "package-test: $*" >&2
	exit 1
}

deb=$(DIST=$tmp bash scripts/dist.sh deb "$arch" | tail -n 1)
[ -f "$deb" ] || fail "no package built ($deb)"
echo "package-test: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
[ "$(dpkg-deb -f "$deb" Package)" = cscs ] || fail "the package is not named cscs"

installed=1
dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || {
	cat "$tmp/dpkg.log" >&2
	fail "dpkg -i failed"
}
dpkg -L cscs | sort >"$tmp/files"

# Every file where the README and docs/operations.md say it is.
for f in /usr/bin/cscs /etc/cscs/config.xml /etc/cscs/email_config.json \
	/usr/lib/systemd/system/cscs.service /usr/lib/sysusers.d/cscs.conf /usr/lib/tmpfiles.d/cscs.conf \
	/usr/share/doc/cscs/operations.md /usr/share/doc/cscs/README.md; do
	grep -qx "$f" "$tmp/files" || fail "the package has no $f"
	[ -f "$f" ] || fail "$f is not installed"
done
[ -d /etc/cscs/overlays ] || fail "no /etc/cscs/overlays"
for p in linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64; do
	os=${p%/*} parch=${p#*/} ext=
	[ "$os" = windows ] && ext=.exe
	[ -x "/usr/lib/cscs/agents/cscs-agent-$os-$parch$ext" ] || fail "no agent for $p in /usr/lib/cscs/agents"
done
[ "$(find /usr/lib/cscs/agents -type f | wc -l)" = 6 ] || fail "/usr/lib/cscs/agents does not hold exactly 6 agents"
getent passwd cscs >/dev/null || fail "no cscs user"
for f in /etc/cscs/config.xml /etc/cscs/email_config.json; do
	[ "$(stat -c '%U:%G %a' "$f")" = "root:cscs 640" ] || fail "$f is $(stat -c '%U:%G %a' "$f"), want root:cscs 640"
done
[ "$(stat -c '%U:%G %a' /etc/cscs)" = "root:cscs 750" ] || fail "/etc/cscs is $(stat -c '%U:%G %a' /etc/cscs)"

out=$(/usr/bin/cscs version) || fail "cscs version failed"
echo "package-test: $out"
[[ $out == "cscs "* ]] || fail "cscs version printed $out"
# As the service's user, with the unit's files (a scratch data directory).
install -d -o cscs -g cscs -m 0700 "$tmp/data"
chmod 0755 "$tmp"
if command -v runuser >/dev/null 2>&1; then
	as_cscs=(runuser -u cscs --)
else
	as_cscs=()
fi
"${as_cscs[@]}" /usr/bin/cscs validate --config /etc/cscs/config.xml --email-config /etc/cscs/email_config.json \
	--overlay /etc/cscs/overlays --data-dir "$tmp/data" >"$tmp/validate.log" 2>&1 || {
	cat "$tmp/validate.log" >&2
	fail "cscs validate failed on the packaged configuration"
}
echo "package-test: cscs validate accepts /etc/cscs"

dpkg --purge cscs >"$tmp/dpkg.log" 2>&1 || {
	cat "$tmp/dpkg.log" >&2
	fail "dpkg --purge failed"
}
installed=0
left=()
while IFS= read -r f; do
	# Directories the package shares with the system (/usr, /etc …) stay.
	[ -d "$f" ] && [ -n "$(ls -A "$f")" ] && [[ $f != /etc/cscs* && $f != /usr/lib/cscs* && $f != /usr/share/doc/cscs* ]] && continue
	[ -e "$f" ] || [ -L "$f" ] && left+=("$f")
done <"$tmp/files"
[ ${#left[@]} -eq 0 ] || fail "left after dpkg --purge: ${left[*]}"
[ -e /etc/cscs ] && fail "/etc/cscs is left after dpkg --purge"
echo "package-test: installed, ran, purged; nothing of it is left (the cscs user stays)"
