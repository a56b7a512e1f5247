#!/bin/sh
# build.sh - rebuilds the kfunc fixture of kfunc_test.go and pahole's BTF for it: pahole
# 1.24 (Debian 12) with Linux 6.1's flags and pahole 1.32 (tools/ci/setup-bazel.sh's sid
# chroot) with Linux 6.12's, decl_tag_kfuncs included. Run it only to change the fixture.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=${SIDROOT:-/opt/offline-bazel/sidroot}
gcc -g -O2 -o "$here/kfunc" "$here/kfunc.c"
pahole --btf_gen_floats --lang_exclude=rust --btf_encode_detached="$here/kfunc.pahole124.btf" "$here/kfunc"
cp "$here/kfunc" "$root/tmp/kfunc"
chroot "$root" pahole --lang_exclude=rust \
	--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs \
	--btf_encode_detached=/tmp/kfunc.pahole132.btf /tmp/kfunc
mv "$root/tmp/kfunc.pahole132.btf" "$here/"
rm -f "$root/tmp/kfunc"
