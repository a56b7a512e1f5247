#!/bin/sh
# build.sh - rebuilds the LTO and dwz fixtures of lto_test.go from examples/c's sources.
# The binaries are committed (so the test needs no clang, dwz or particular gcc): run this
# only to change them, then check them with `go test ./tools/btf -run LTO`.
#
#   gcc-lto          gcc -O2 -flto: LTRANS units refer to the early-debug units (DW_FORM_ref_addr)
#   gcc-lto-noinline the same with -fno-inline, so that more functions survive as FUNCs
#   clang-lto        clang -O2 -flto: units share types across units (DW_FORM_ref_addr)
#   clang-lto-noinline
#   gcc-dwz          gcc -O2, then dwz: DW_TAG_partial_unit + DW_TAG_imported_unit
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../../../examples/c
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build() { # build NAME CC CFLAGS...
	name=$1 cc=$2
	shift 2
	objs=""
	for s in main a b; do
		$cc -g "$@" -c "$src/$s.c" -o "$tmp/$s.o"
		objs="$objs $tmp/$s.o"
	done
	if [ -n "${NOTE:-}" ]; then
		$cc -g "$@" -DLTO_NOTE="$NOTE" -c "$here/note.c" -o "$tmp/note.o"
		objs="$objs $tmp/note.o"
	fi
	# shellcheck disable=SC2086 # word splitting of $objs is intended
	$cc -g "$@" -o "$here/$name" $objs -Wl,-T,"$src/percpu.ld"
}
build gcc-lto gcc -O2 -flto
build gcc-lto-noinline gcc -O2 -flto -fno-inline
build clang-lto clang -O2 -flto
build clang-lto-noinline clang -O2 -flto -fno-inline
build gcc-dwz gcc -O2
dwz "$here/gcc-dwz"
# The Linux LTO note decides before any DW_FORM_ref_addr does (note.c): note-lto has no
# cross-unit references but a note saying LTO, gcc-lto-note0 has them and a note saying not.
NOTE=1 build note-lto gcc -O2
NOTE=0 build gcc-lto-note0 gcc -O2 -flto

# pahole's BTF for each, committed so that the test checks both generations whatever pahole
# the machine has (it also runs the installed one): pahole 1.24 (Debian 12) with Linux 6.1's
# flags, and pahole 1.32 (tools/ci/setup-bazel.sh's sid chroot) with Linux 6.12's. pahole
# 1.24 writes no BTF for gcc-dwz (it stops at a variable "that has void type").
F124="--btf_gen_floats --btf_encode_force --lang_exclude=rust"
F132="--lang_exclude=rust --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs"
root=${SIDROOT:-/opt/offline-bazel/sidroot}
for f in gcc-lto gcc-lto-noinline clang-lto clang-lto-noinline gcc-dwz; do
	rm -f "$here/$f.pahole124.btf"
	# shellcheck disable=SC2086 # word splitting of the flags is intended
	pahole $F124 --btf_encode_detached="$here/$f.pahole124.btf" "$here/$f" 2>/dev/null || true
	cp "$here/$f" "$root/tmp/$f"
	# shellcheck disable=SC2086
	chroot "$root" pahole $F132 --btf_encode_detached="/tmp/$f.pahole132.btf" "/tmp/$f" 2>/dev/null
	mv "$root/tmp/$f.pahole132.btf" "$here/"
	rm -f "$root/tmp/$f"
done
