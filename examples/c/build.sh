#!/bin/sh
# build.sh OUTDIR - builds the example outside Bazel, with the same flags as
# //examples/c:example (BUILD.bazel there; //examples/c:build_sh_flags_test checks that the
# two agree): one object per .c file, then the linked program.
#
#   OUTDIR/main.o OUTDIR/a.o OUTDIR/b.o   objects, in link order (btf shard, one each)
#   OUTDIR/example                        the linked program (btf merge --elf; pahole -J)
#
# CC defaults to gcc. CFLAGS, if set, come after the example's own flags (CFLAGS=-O0
# overrides -O2, CFLAGS=-gdwarf-4 the default DWARF version). The reference BTF for the same program:
#   pahole -J --btf_gen_floats --btf_encode_detached=OUTDIR/pahole.btf OUTDIR/example
set -eu
out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-gcc}
COPTS="-g -O2"
SRCS="main a b"
mkdir -p "$out"
objs=""
for s in $SRCS; do
	# shellcheck disable=SC2086 # word splitting of the flags is intended
	$CC $COPTS ${CFLAGS:-} -c "$here/$s.c" -o "$out/$s.o"
	objs="$objs $out/$s.o"
done
# shellcheck disable=SC2086 # word splitting of $objs is intended
$CC -o "$out/example" $objs -Wl,-T,"$here/percpu.ld"
