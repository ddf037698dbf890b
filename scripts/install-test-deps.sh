#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian/Ubuntu machine:
# OpenSSH's sshd (the integration tests start their own sshd processes on
# loopback addresses) and gcc for the cgo SQLite driver. As non-root it only
# says what is missing; the integration tests then skip (or fail when CI=true).
set -euo pipefail

need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)

if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "missing: ${need[*]}; install them (e.g. sudo apt-get install -y ${need[*]}) or run make test as root" >&2
	exit 0
fi
echo "installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
	apt-get update >/dev/null
	apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
}
