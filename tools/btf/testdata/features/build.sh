#!/bin/sh
# build.sh - rebuilds the features fixture (features.c and other.c by gcc -O2, tags.c by
# clang; linked into features, and into the relocatable features.o whose .data..percpu
# stays a section of its own) and pahole's BTF of both for every line of flagsets
# (features.NAME.btf, features.o.NAME.btf): pahole 1.24 (Debian 12) and pahole 1.32
# (tools/ci/setup-bazel.sh's sid chroot). Run it only to change the fixture.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=${SIDROOT:-/opt/offline-bazel/sidroot}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
gcc -g -O2 -c "$here/features.c" "$here/other.c"
clang -g -O2 -c "$here/tags.c"
gcc -o "$here/features" features.o other.o tags.o
ld -r -o "$here/features.o" features.o other.o tags.o
rm -f "$here"/features.*.btf
mkdir -p "$root/tmp/features-fixture"
cp "$here/features" "$here/features.o" "$root/tmp/features-fixture/"
for bin in features features.o; do
	grep -v '^#' "$here/flagsets" | while IFS='|' read -r name version flags; do
		case $version in
		1.24)
			# shellcheck disable=SC2086
			set -- $flags
			for a; do shift; case $a in -j|-j[0-9]*) ;; *) set -- "$@" "$a" ;; esac; done
			pahole "$@" --btf_encode_detached="$here/$bin.$name.btf" "$here/$bin" ;;
		1.32)
			# shellcheck disable=SC2086
			chroot "$root" pahole $flags --btf_encode_detached="/tmp/features-fixture/$name.btf" "/tmp/features-fixture/$bin"
			mv "$root/tmp/features-fixture/$name.btf" "$here/$bin.$name.btf" ;;
		esac
	done
done
rm -rf "$root/tmp/features-fixture"
