#!/bin/bash
# make.sh - regenerates the pahole 1.32 references: each module's .BTF and .BTF.base as
# Debian sid's pahole 1.32 (libbpf 1.7.0) writes them with --btf_features=...,distilled_base.
# Needs root, the kernel data of bench/fetch-kernel.sh and the sid chroot of
# tools/ci/setup-bazel.sh. pahole distills only when it writes an ELF (-J without
# --btf_encode_detached), so it runs on a copy of each module; the base is the vmlinux
# BTF the modules' references under pahole-1.32/modules are split on.
set -euo pipefail
K=${RULES_BTF_DATA:-/var/cache/rules_btf/kernel}
R=${OFFLINE_BAZEL_HOME:-/opt/offline-bazel}/sidroot
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "$R/tmp/distill.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$K/vmlinux.btf" "$work/vmlinux.btf"
for m in drivers/hid/hid-steam.ko fs/exfat/exfat.ko; do
  n=$(basename "$m" .ko)
  cp "$K/modules/$m" "$work/$n.ko" && chmod u+w "$work/$n.ko"
  chroot "$R" env LLVM_OBJCOPY=objcopy pahole -J --lang_exclude=rust \
    --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs,distilled_base \
    --btf_base "/tmp/${work##*/}/vmlinux.btf" "/tmp/${work##*/}/$n.ko"
  objcopy --dump-section .BTF="$out/$n.btf" --dump-section .BTF.base="$out/$n.base.btf" "$work/$n.ko" /dev/null
done
