#!/usr/bin/env bash
# Installs what a make target needs on a fresh Debian/Ubuntu machine.
#   install-deps.sh build   gcc and libc headers (the SQLite driver uses cgo)
#   install-deps.sh test    the above, plus OpenSSH's sshd and ssh-keygen: the
#                           integration tests start their own sshd processes;
#                           and chromium, which the status pages' browser test
#                           drives headless (core/serve)
#   install-deps.sh dist    the build's, plus the arm64 cross compiler and C library
#                           (the core for linux/arm64 links SQLite through cgo)
#   install-deps.sh bench   the above, plus parallel-ssh and Ansible, the tools
#                           `make bench-fleet` compares cscs with
#   install-deps.sh windows Wine (wine64, which runs the windows/amd64 agent
#                           and its tests) and the mingw-w64 C compiler (it
#                           builds the bcryptprimitives.dll shim Wine 8.0
#                           lacks): `make test-windows`
#   install-deps.sh proto   protoc, which `make proto` runs
# As non-root it only says what is missing (the build then fails with the
# compiler's message; integration tests skip, or fail when CI=true).
set -euo pipefail

mode=${1:-build}
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
if [ "$mode" = test ] || [ "$mode" = bench ]; then
	[ -x /usr/sbin/sshd ] || need+=(openssh-server)
	command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
	[ -x /usr/bin/chromium ] || need+=(chromium)
fi

if [ "$mode" = dist ]; then
	command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need+=(gcc-aarch64-linux-gnu)
	[ -f /usr/aarch64-linux-gnu/include/stdio.h ] || need+=(libc6-dev-arm64-cross)
fi

if [ "$mode" = windows ]; then
	command -v wine64 >/dev/null 2>&1 || [ -x /usr/lib/wine/wine64 ] || need+=(wine64)
	command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
fi

if [ "$mode" = proto ]; then
	command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
fi

if [ "$mode" = bench ]; then
	command -v parallel-ssh >/dev/null 2>&1 || command -v pssh >/dev/null 2>&1 || need+=(pssh)
	command -v ansible >/dev/null 2>&1 || need+=(ansible-core)
fi

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing: ${need[*]}; install them (sudo apt-get install -y ${need[*]}) or run make as root" >&2
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "missing: ${need[*]}; this script knows only apt-get: install them with your package manager" >&2
	exit 0
fi
echo "installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
	apt-get update >/dev/null
	apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
}
