#!/usr/bin/env bash
# Release builds (`make dist`; README.md, "Installing"):
#   dist.sh all          dist/cscs-<v>-linux-{amd64,arm64}.tar.gz, dist/cscs_<v>_{amd64,arm64}.deb
#                        and dist/SHA256SUMS
#   dist.sh archive ARCH dist/cscs-<v>-linux-ARCH.tar.gz
#   dist.sh deb ARCH     dist/cscs_<v>_ARCH.deb (goreleaser's nfpm, packaging/nfpm.yaml)
#   dist.sh check ARCH   builds the archive twice, from two copies of the tree in different
#                        directories, the second core with an empty Go build cache (with
#                        DIST_CHECK_CACHED=1 the same cache), and fails unless both have
#                        the same SHA-256
#
# Reproducible: the same commit gives the same archive bytes. Go builds with -trimpath,
# -buildvcs=false and an empty build id, stripped (-s -w): the cgo part (SQLite) keeps Go's
# default CGO_CFLAGS, so `make core` and the tests share its compiled objects (Go maps its
# work directory away, and no source path is left once stripped; `check` verifies it with an
# empty cache, in another directory). Every file in the archive has the
# commit's time (SOURCE_DATE_EPOCH, from `git log -1`), owner 0:0 and a fixed mode, in name
# order, and gzip stores no name or time.
#
# Environment: GO, VERSION (default: git describe, as the Makefile), SOURCE_DATE_EPOCH,
# DIST (output directory, default dist), AGENT_PLATFORMS (as the Makefile).
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH
DIST=${DIST:-dist}
AGENT_PLATFORMS=${AGENT_PLATFORMS:-linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64}
# nfpm v2.48.0 is the newest v2 release (2026-12) and builds with the Go of go.mod.
NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0

# pkgversion turns git describe into a Debian-sortable version: v1.2.3 → 1.2.3,
# v1.2.3-4-gabc1234[-dirty] → 1.2.3+4.gabc1234[.dirty] (after 1.2.3), and a
# commit with no tag before it, abc1234 → 0.0.0+git.abc1234.
pkgversion() {
	local v=${1#v} base rest
	if [[ $v =~ ^[0-9]+(\.[0-9]+)*(-|$) ]]; then
		base=${v%%-*}
		rest=${v#"$base"}
		rest=${rest#-}
		[ -n "$rest" ] && v=$base+${rest//-/.}
	else
		v=0.0.0+git.${v//-/.}
	fi
	printf '%s\n' "$v"
}
PKGVERSION=$(pkgversion "$VERSION")

# The C compiler for the core's cgo (SQLite) on linux/ARCH.
cc_for() {
	local arch=$1
	if [ "$arch" = "$($GO env GOHOSTARCH)" ]; then
		echo "${CC:-gcc}"
		return
	fi
	case $arch in
	arm64) echo aarch64-linux-gnu-gcc ;;
	amd64) echo x86_64-linux-gnu-gcc ;;
	*)
		echo "dist: no cross compiler known for linux/$arch" >&2
		return 1
		;;
	esac
}

# stage ARCH: $DIST/.stage/cscs-<v>-linux-ARCH/ holds what the archive holds.
stage() {
	local arch=$1 dir cc
	dir=$DIST/.stage/cscs-$PKGVERSION-linux-$arch
	cc=$(cc_for "$arch")
	command -v "$cc" >/dev/null 2>&1 || {
		echo "dist: $cc is missing (the core links SQLite through cgo): run 'bash scripts/install-deps.sh dist' as root" >&2
		return 1
	}
	rm -rf "$dir"
	mkdir -p "$dir/agents" "$dir/docs" "$dir/systemd" "$dir/sysusers.d" "$dir/tmpfiles.d"
	echo "core linux/$arch ($cc)"
	CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC=$cc GOCACHE=${CORE_GOCACHE:-$($GO env GOCACHE)} \
		$GO build -trimpath -buildvcs=false -ldflags "-s -w -buildid= -X main.version=$VERSION" \
		-o "$dir/cscs" ./core/cmd/cscs
	local p os parch ext
	for p in $AGENT_PLATFORMS; do
		os=${p%/*} parch=${p#*/} ext=
		[ "$os" = windows ] && ext=.exe
		CGO_ENABLED=0 GOOS=$os GOARCH=$parch $GO build -trimpath -buildvcs=false \
			-ldflags "-s -w -buildid= -X main.version=$VERSION" \
			-o "$dir/agents/cscs-agent-$os-$parch$ext" ./agent/cmd/cscs-agent
	done
	cp config.xml email_config.json README.md "$dir/"
	cp docs/*.md "$dir/docs/"
	cp packaging/systemd/cscs.service "$dir/systemd/"
	cp packaging/sysusers.d/cscs.conf "$dir/sysusers.d/"
	cp packaging/tmpfiles.d/cscs.conf "$dir/tmpfiles.d/"
	# No LICENSE in the repository yet: the archive ships one as soon as there is.
	[ -f LICENSE ] && cp LICENSE "$dir/"
	find "$dir" -type d -exec chmod 0755 {} +
	find "$dir" -type f -exec chmod 0644 {} +
	chmod 0755 "$dir/cscs" "$dir"/agents/*
}

archive() {
	local arch=$1 name
	name=cscs-$PKGVERSION-linux-$arch
	stage "$arch"
	tar -C "$DIST/.stage" --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" \
		--owner=0 --group=0 --numeric-owner -cf - "$name" | gzip -n -9 >"$DIST/$name.tar.gz"
	echo "$DIST/$name.tar.gz"
}

# deb ARCH: the package from the staged files (stage ARCH first).
deb() {
	local arch=$1 stagedir
	stagedir=$(cd "$DIST/.stage/cscs-$PKGVERSION-linux-$arch" && pwd)
	CSCS_STAGE=$stagedir CSCS_ARCH=$arch CSCS_VERSION=$PKGVERSION \
		$GO run "$NFPM" package --config packaging/nfpm.yaml --packager deb --target "$DIST/" >/dev/null
	echo "$DIST/cscs_${PKGVERSION}_$arch.deb"
}

# check ARCH: two copies of the working tree (tracked and new files), built apart.
check() {
	local arch=$1 sums
	if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		echo "dist check: skipped (not a git checkout: the tree to copy is unknown)"
		return 0
	fi
	# Global: the EXIT trap runs after the function returned.
	checktmp=$(mktemp -d)
	trap 'chmod -R u+w "$checktmp" 2>/dev/null; rm -rf "$checktmp"' EXIT
	local tmp=$checktmp
	mkdir -p "$tmp/a/cscs" "$tmp/b/elsewhere/cscs-copy" "$tmp/cache"
	git ls-files -z -co --exclude-standard | xargs -0 tar -cf - | tar -C "$tmp/a/cscs" -xf -
	git ls-files -z -co --exclude-standard | xargs -0 tar -cf - | tar -C "$tmp/b/elsewhere/cscs-copy" -xf -
	local env=(GO="$GO" VERSION="$VERSION" SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" AGENT_PLATFORMS="$AGENT_PLATFORMS")
	env "${env[@]}" DIST="$tmp/a/out" bash "$tmp/a/cscs/scripts/dist.sh" archive "$arch" >/dev/null
	# The second core (the cgo part is where paths could slip in) from an empty
	# build cache, unless DIST_CHECK_CACHED=1 (quicker: the same cache, so only
	# linking and packing are built twice).
	local cache=$tmp/cache
	[ "${DIST_CHECK_CACHED:-0}" = 1 ] && cache=$($GO env GOCACHE)
	env "${env[@]}" DIST="$tmp/b/out" CORE_GOCACHE="$cache" \
		bash "$tmp/b/elsewhere/cscs-copy/scripts/dist.sh" archive "$arch" >/dev/null
	sums=$(cd "$tmp" && sha256sum a/out/*.tar.gz b/out/*.tar.gz)
	echo "$sums"
	if [ "$(echo "$sums" | awk '{print $1}' | sort -u | wc -l)" -ne 1 ]; then
		echo "dist check: the two builds of linux/$arch differ" >&2
		(cd "$tmp" && for d in a b; do mkdir "$d/x" && tar -C "$d/x" -xzf "$d"/out/*.tar.gz && (cd "$d/x" && find . -type f -exec sha256sum {} + | sort -k2) >"$d/files"; done
			diff a/files b/files) >&2 || true
		return 1
	fi
	echo "dist check: linux/$arch builds the same bytes twice"
}

mkdir -p "$DIST"
case ${1:-all} in
all)
	for arch in amd64 arm64; do
		archive "$arch"
		deb "$arch"
	done
	(cd "$DIST" && sha256sum "cscs-$PKGVERSION"-linux-*.tar.gz "cscs_${PKGVERSION}"_*.deb >SHA256SUMS)
	echo "$DIST/SHA256SUMS"
	;;
archive) archive "${2:?arch}" ;;
deb)
	stage "${2:?arch}"
	deb "$2"
	;;
check) check "${2:-amd64}" ;;
version) echo "$PKGVERSION" ;;
*)
	echo "usage: dist.sh all|archive ARCH|deb ARCH|check ARCH|version" >&2
	exit 2
	;;
esac
