#!/bin/sh
# build.sh - rebuilds the fixtures of packed_test.go from packed.c and pahole's BTF for
# them: pahole 1.24 (Debian 12) with Linux 6.1's flags and pahole 1.32
# (tools/ci/setup-bazel.sh's sid chroot) with Linux 6.12's. Run it only to change the
# fixtures.
#
#   gcc           gcc -g -O2, DWARF 5 (bitfields at DW_AT_data_bit_offset)
#   gcc-dwarf4    gcc -gdwarf-4 -O2 (DW_AT_bit_offset from the storage unit's top bit)
#   clang         clang -g -O2 (functions in source order: GCC -O2 reverses them)
#   clang-s390x.o big-endian DWARF 4, 5 argument registers (an object: no s390x libc)
#   clang-i386.o  pahole knows no argument registers for i386: every parameter counts
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=${SIDROOT:-/opt/offline-bazel/sidroot}
cd "$here"
gcc -g -O2 -o gcc packed.c
gcc -gdwarf-4 -O2 -o gcc-dwarf4 packed.c
clang -g -O2 -Wno-gnu-variable-sized-type-not-at-end -o clang packed.c
clang --target=s390x-linux-gnu -gdwarf-4 -O2 -Wno-gnu-variable-sized-type-not-at-end -c -o clang-s390x.o packed.c
clang --target=i386-linux-gnu -g -O2 -Wno-gnu-variable-sized-type-not-at-end -c -o clang-i386.o packed.c
for bin in gcc gcc-dwarf4 clang clang-s390x.o clang-i386.o; do
	pahole --btf_gen_floats --lang_exclude=rust --btf_encode_detached="$bin.pahole124.btf" "$bin"
	cp "$bin" "$root/tmp/packed-$bin"
	chroot "$root" pahole --lang_exclude=rust \
		--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs \
		--btf_encode_detached="/tmp/packed-$bin.pahole132.btf" "/tmp/packed-$bin"
	mv "$root/tmp/packed-$bin.pahole132.btf" "$bin.pahole132.btf"
	rm -f "$root/tmp/packed-$bin"
done
