#!/bin/sh
# Regenerates the annotation fixtures from annot.c and pahole's BTF for them.
# Run from this directory, as root (for chroot).
#   clang 14.0.6 (Debian 12)                      annot.clang5.o, annot.clang4.o
#   gcc 16.2 (Debian sid, in a chroot at $SID)    annot.gcc16.o
#   pahole 1.24 (Debian 12)                       *.pahole124.btf (--btf_gen_floats)
#   pahole 1.32 (Debian sid, in the chroot)       *.pahole132.btf (--btf_gen_floats)
set -eu
SID=${SID:-/opt/offline-bazel/sidroot}
clang -c -O2 -g -gdwarf-5 -o annot.clang5.o annot.c
clang -c -O2 -g -gdwarf-4 -o annot.clang4.o annot.c
# A fixed directory: it is the gcc object's DW_AT_comp_dir.
in=/tmp/rules_btf-annot
tmp=$SID$in
rm -rf "$tmp" && mkdir "$tmp"
trap 'rm -rf "$tmp"' EXIT
cp annot.c "$tmp/"
chroot "$SID" sh -c "cd $in && gcc -c -O2 -g -gdwarf-5 -o annot.gcc16.o annot.c 2>/dev/null"
cp "$tmp/annot.gcc16.o" .
for o in annot.clang5.o annot.clang4.o annot.gcc16.o; do
	pahole -J --btf_gen_floats --btf_encode_detached="${o%.o}.pahole124.btf" "$o" >/dev/null 2>&1
	cp "$o" "$tmp/"
	chroot "$SID" sh -c "cd $in && pahole -J --btf_gen_floats --btf_encode_detached=${o%.o}.pahole132.btf $o"
	cp "$tmp/${o%.o}.pahole132.btf" .
done
