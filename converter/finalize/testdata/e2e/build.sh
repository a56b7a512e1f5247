#!/bin/sh
# Rebuilds the fixture of finalize's end-to-end test (gcc 12.2, pahole 1.24, Debian 12).
set -eu
cd "$(dirname "$0")"
gcc -g -O2 -fno-pic -c -o a.o a.c
gcc -g -O2 -fno-pic -c -o b.o b.c
gcc -g -O2 -fno-pic -no-pie -nostdlib -static -Wl,-T,link.ld -o prog a.o b.o
pahole -J --btf_encode_detached=prog.pahole124.btf --btf_gen_floats prog
# pahole 1.32 from Debian sid, in a chroot at $SID (run as root).
SID=${SID:-/opt/offline-bazel/sidroot}
tmp=$(mktemp -d "$SID/tmp/e2e.XXXXXX")
cp prog "$tmp/"
chroot "$SID" sh -c "cd ${tmp#$SID} && pahole -J --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs --btf_encode_detached=prog.pahole132.btf prog"
cp "$tmp/prog.pahole132.btf" .
rm -rf "$tmp"
