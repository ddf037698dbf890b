#!/usr/bin/env bash
# Runs every Go fuzz target of the workspace (core, SDK, examples), one at a time (go test takes one
# -fuzz target per run), for FUZZTIME each: a duration such as 30s, or a
# count of executions such as 2000x. The targets are found, not listed:
# every package with a `func Fuzz` in a test file, every target that
# `go test -list` names there.
#
#   FUZZTIME=60s bash scripts/fuzz.sh            # every target, 60 s each
#   FUZZPKGS=./core/config bash scripts/fuzz.sh  # one package's targets
#
# A target that fails leaves the input in its package's
# testdata/fuzz/<Target>/; the others still run, a summary of executions
# per target is printed at the end, and the script exits 1. Reproduce a
# failure with go test -run '<Target>/<file>' ./<package>.
set -uo pipefail

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
# FUZZPARALLEL caps the fuzzing workers (go test -parallel); empty: one per CPU.
FUZZPARALLEL=${FUZZPARALLEL:-}
cd "$(dirname "$0")/.." || exit 1

if [ -n "${FUZZPKGS:-}" ]; then
	read -r -a pkgs <<<"$FUZZPKGS"
else
	mapfile -t pkgs < <({ git ls-files '*_test.go' 2>/dev/null || find . -name '*_test.go'; } | xargs grep -l '^func Fuzz' | xargs -n1 dirname | sort -u | sed 's|^|./|')
fi
if [ ${#pkgs[@]} -eq 0 ]; then
	echo "fuzz: no package has a fuzz target" >&2
	exit 1
fi

parallel=()
[ -n "$FUZZPARALLEL" ] && parallel=(-parallel "$FUZZPARALLEL")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
summary=()
failed=0
start=$SECONDS
for pkg in "${pkgs[@]}"; do
	targets=$($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz') || {
		echo "fuzz: cannot list the fuzz targets of $pkg" >&2
		failed=1
		continue
	}
	for t in $targets; do
		echo "== $pkg $t ($FUZZTIME)"
		# Go's fuzzing engine can end a short run with a bare "context
		# deadline exceeded" when the time is up while a worker is busy
		# (loaded machine); that is no finding: no input is written. Such a
		# run is tried again, twice at most, and then reported, not failed.
		result=
		for try in 1 2 3; do
			if $GO test -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" "${parallel[@]}" "$pkg" >"$log" 2>&1; then
				result=ok
				break
			fi
			if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
				echo "fuzz: $t: the engine stopped at its deadline without a finding (try $try)"
				result=ok?
				continue
			fi
			result=FAIL
			failed=1
			cat "$log"
			break
		done
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
		summary+=("$(printf '%-4s %-36s %-28s %10s execs' "$result" "$pkg" "$t" "${execs:-?}")")
	done
done
echo "== fuzz summary (FUZZTIME=$FUZZTIME, $((SECONDS - start)) s)"
printf '%s\n' "${summary[@]}"
if [ $failed -ne 0 ]; then
	echo "fuzz: a target failed; its input is in the package's testdata/fuzz/ (go test -run '<Target>/<file>' ./<package> reproduces it)" >&2
fi
exit $failed
