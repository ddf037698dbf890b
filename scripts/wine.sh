#!/usr/bin/env bash
# make test-windows: the windows/amd64 agent and its tests under Wine.
#   1. a Wine prefix in WINE_PREFIX_DIR (default: a directory under the temp
#      dir, kept between runs: `wineboot -i` takes ~10-40 s the first time)
#   2. bcryptprimitives.dll (agent/testdata/wine/bcryptprimitives.c, built
#      with mingw-w64) in its system32: Go's runtime calls ProcessPrng,
#      which Wine 8.0 lacks
#   3. GOOS=windows GOARCH=amd64 go test -exec wine64 ./agent/...
#      (CSCS_WINE=1: tests of APIs Wine lacks skip, saying why)
#   4. the windows agent built as make agents builds it, run under Wine on
#      a request as the core builds it, the report opened with core/report
#      (TestWindowsAgentUnderWine)
# Without Wine or mingw-w64 (not root: install-deps.sh windows only says
# what is missing) it says so and skips, or fails when CI=true.
set -euo pipefail

GO=${GO:-go}
WINE=${WINE:-$(command -v wine64 || echo /usr/lib/wine/wine64)}
if [ ! -x "$WINE" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
	echo "test-windows needs wine64 and x86_64-w64-mingw32-gcc: run make as root, or apt-get install -y wine64 gcc-mingw-w64-x86-64; skipped" >&2
	[ "${CI:-}" = true ] && exit 1
	exit 0
fi
export WINEPREFIX=${WINE_PREFIX_DIR:-${TMPDIR:-/tmp}/cscs-wine-$(id -u)}
export WINEDEBUG=-all
export CSCS_WINE=1

if [ ! -f "$WINEPREFIX/system.reg" ]; then
	echo "wine: creating the prefix $WINEPREFIX (wineboot -i)"
	start=$(date +%s)
	"$WINE" wineboot -i >/dev/null 2>&1 || true
	echo "wine: prefix ready in $(($(date +%s) - start)) s"
fi
sys32="$WINEPREFIX/drive_c/windows/system32"
dll="$sys32/bcryptprimitives.dll"
src=agent/testdata/wine/bcryptprimitives.c
if [ ! -f "$dll" ] || [ "$src" -nt "$dll" ] || ! grep -q ProcessPrng "$dll"; then
	x86_64-w64-mingw32-gcc -shared -O2 -s -o "$dll" "$src" -ladvapi32
fi

echo "wine: go test ./agent/... under $($WINE --version 2>/dev/null || echo wine)"
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 "$GO" test -exec "$WINE" ./agent/...

agent=$(mktemp -d)/cscs-agent-windows-amd64.exe
trap 'rm -rf "$(dirname "$agent")"' EXIT
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 "$GO" build -trimpath -ldflags "-s -w" -o "$agent" ./agent/cmd/cscs-agent
echo "wine: smoke run of $agent"
CSCS_WINE_EXEC="$WINE" CSCS_WINE_AGENT="$agent" "$GO" test -count=1 -run TestWindowsAgentUnderWine -v ./core/report
