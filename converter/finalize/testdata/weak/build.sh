#!/bin/sh
# Rebuilds the weak/strong fixture (gcc 12.2, Debian 12) and its pahole 1.32
# reference (Debian sid's pahole 1.32, in a chroot at $SID). Run as root.
# strong.c's tramp calls a cold function, so GCC splits it into tramp and
# tramp.cold and describes it with DW_AT_ranges; weak.c and weak2.c define
# tramp weak, with other parameter names.
set -eu
cd "$(dirname "$0")"
SID=${SID:-/opt/offline-bazel/sidroot}
gcc -g -O2 -c strong.c weak.c weak2.c
gcc -g -O2 -o prog strong.o weak.o weak2.o
rm -f strong.o weak.o weak2.o
tmp=$(mktemp -d "$SID/tmp/weak.XXXXXX")
cp prog "$tmp/"
chroot "$SID" sh -c "cd ${tmp#$SID} && pahole -J --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs --btf_encode_detached=prog.pahole132.btf prog"
cp "$tmp/prog.pahole132.btf" .
rm -rf "$tmp"
