#!/bin/sh
# Rebuilds the fixture of finalize's end-to-end test (gcc 12.2, pahole 1.24, Debian 12).
set -eu
cd "$(dirname "$0")"
gcc -g -O2 -fno-pic -c -o a.o a.c
gcc -g -O2 -fno-pic -c -o b.o b.c
gcc -g -O2 -fno-pic -no-pie -nostdlib -static -Wl,-T,link.ld -o prog a.o b.o
pahole -J --btf_encode_detached=prog.pahole124.btf --btf_gen_floats prog
