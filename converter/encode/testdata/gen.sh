#!/bin/sh
# Regenerates the committed objects from types.c. Run from this directory.
# gcc 12.2 (Debian 12) on x86_64.
set -eu
gcc -c -O2 -g -gdwarf-5 -fno-eliminate-unused-debug-types -o types.dwarf5.o types.c
gcc -c -O2 -g -gdwarf-4 -fno-eliminate-unused-debug-types -o types.dwarf4.o types.c
# pahole 1.24 --btf_gen_floats fails on complex types: this one is for comparing with it.
gcc -c -O2 -g -gdwarf-4 -fno-eliminate-unused-debug-types -DNO_COMPLEX -o types.nocomplex.o types.c
gcc -c -O0 -g -gdwarf-5 -gz=zlib -o types.zlib.o types.c
# A linked, position-dependent image (no relocations applied by us).
gcc -O2 -g -gdwarf-5 -nostdlib -static -Wl,-e,use_all -o types.exec types.c -Wl,--unresolved-symbols=ignore-all
