#!/bin/bash
# fetch-kernel.sh - a real Linux kernel with DWARF and pahole-made BTF, for fidelity checks
# and benchmarks.
#
# Source: Debian 12's linux-image-<ver>-cloud-amd64-dbg package (about 280 MB download,
# 1.7 GB unpacked): vmlinux (587 MB, DWARF 5 from GCC 12, ~2,170 CUs, with the .BTF section
# Debian's kernel build made with pahole 1.24) and ~1,120 modules (ET_REL .ko files with
# DWARF and split .BTF whose base is vmlinux's BTF).
#
# Layout written under $RULES_BTF_DATA (default /var/cache/rules_btf/kernel):
#   vmlinux                 the ELF (read-only; copy it before any tool rewrites it)
#   vmlinux.btf             its embedded .BTF section, raw
#   modules/<path>.ko       every module, as packaged
#   VERSION                 the Debian package and version
#   pahole/vmlinux.btf      (--pahole) pahole's single-threaded output for vmlinux
#   pahole/modules/<path>.btf  (--pahole) pahole's split BTF for each module, base vmlinux.btf
#   pahole-1.32/...         (--pahole-new) the same with pahole 1.32 and its default features
#
# The pahole references use the flags Linux 6.1's scripts/pahole-flags.sh passes to
# pahole 1.24 (--btf_gen_floats --lang_exclude=rust), without -j: pahole 1.24's -j output is
# not deterministic (it duplicates some same-named static functions), and the embedded
# .BTF of this vmlinux was made with -j. So: all non-function types of the embedded BTF and
# of pahole/vmlinux.btf are the same; the embedded one has ~380 extra duplicate FUNCs.
#
# pahole 1.32 (--pahole-new) comes from Debian sid and needs sid's glibc: it runs inside the
# sid chroot that tools/ci/setup-bazel.sh makes ($OFFLINE_BAZEL_HOME/sidroot; run that first). Its
# flags are the ones Linux 6.12+ passes for pahole >= 1.26: --btf_features=encode_force,var,
# float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs
# --lang_exclude=rust. pahole >= 1.29 is deterministic, -j or not.
#
# Usage: fetch-kernel.sh [--pahole] [--pahole-new]   Idempotent; prints the data directory last.
set -euo pipefail

DEST=${RULES_BTF_DATA:-/var/cache/rules_btf/kernel}
PKG=${KERNEL_DBG_PKG:-linux-image-6.1.0-47-cloud-amd64-dbg}
want_pahole=false want_new=false
for a in "$@"; do
  case $a in
    --pahole) want_pahole=true ;;
    --pahole-new) want_new=true ;;
    *) echo "usage: fetch-kernel.sh [--pahole] [--pahole-new]" >&2; exit 2 ;;
  esac
done

log() { printf 'fetch-kernel: %s\n' "$*" >&2; }

if [ ! -e "$DEST/.done" ]; then
  command -v objcopy >/dev/null || { apt-get update -q && apt-get install -y -q binutils; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && apt-get download "$PKG" >/dev/null 2>&1); then
    log "apt-get download $PKG failed; updating package lists and retrying"
    apt-get update -q >/dev/null
    if ! (cd "$tmp" && apt-get download "$PKG" >/dev/null 2>&1); then
      # The pinned version left the mirror: take the current cloud kernel's debug package.
      PKG=$(apt-cache depends linux-image-cloud-amd64-dbg | sed -n 's/.*Depends: \(linux-image-.*-dbg\)$/\1/p' | head -1)
      log "falling back to $PKG"
      (cd "$tmp" && apt-get download "$PKG" >/dev/null)
    fi
  fi
  deb=$(ls "$tmp"/*.deb)
  log "unpacking $(basename "$deb")"
  dpkg -x "$deb" "$tmp/root"
  rm -rf "$DEST"; mkdir -p "$DEST"
  dbg=$tmp/root/usr/lib/debug
  mv "$(ls "$dbg"/boot/vmlinux-*)" "$DEST/vmlinux"
  mv "$(ls -d "$dbg"/lib/modules/*)/kernel" "$DEST/modules"
  chmod -R a-w "$DEST/vmlinux" "$DEST/modules"
  objcopy --dump-section .BTF="$DEST/vmlinux.btf" "$DEST/vmlinux" /dev/null
  dpkg-deb -f "$deb" Package Version > "$DEST/VERSION"
  touch "$DEST/.done"
fi

if $want_pahole && [ ! -e "$DEST/pahole/.done" ]; then
  command -v pahole >/dev/null || { apt-get update -q && apt-get install -y -q dwarves; }
  flags=(--btf_gen_floats --lang_exclude=rust)
  mkdir -p "$DEST/pahole/modules"
  log "pahole $(pahole --version) on vmlinux"
  pahole "${flags[@]}" --btf_encode_detached="$DEST/pahole/vmlinux.btf" "$DEST/vmlinux"
  log "pahole on $(find "$DEST/modules" -name '*.ko' | wc -l) modules (2 at a time)"
  (cd "$DEST/modules" && find . -name '*.ko' -printf '%P\n') |
    xargs -P 2 -I{} sh -c 'mkdir -p "$(dirname "$1/pahole/modules/$2")" &&
      pahole '"${flags[*]}"' --btf_base "$1/vmlinux.btf" \
        --btf_encode_detached="$1/pahole/modules/${2%.ko}.btf" "$1/modules/$2"' _ "$DEST" {}
  touch "$DEST/pahole/.done"
fi

if $want_new && [ ! -e "$DEST/pahole-1.32/.done" ]; then
  R=${OFFLINE_BAZEL_HOME:-/opt/offline-bazel}/sidroot
  [ -x "$R/usr/bin/bazel" ] || { log "no sid chroot at $R: run tools/ci/setup-bazel.sh first"; exit 1; }
  mkdir -p "$DEST/pahole-1.32/modules"
  log "pahole 1.32 (sid chroot) on vmlinux and modules"
  unshare --mount --propagation private /bin/bash -ec '
    R=$1 D=$2
    mount -t proc proc "$R/proc"; mount --rbind /dev "$R/dev"
    mkdir -p "$R/data"; mount --bind "$D" "$R/data"
    inroot() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
    inroot sh -c "command -v pahole >/dev/null || { apt-get install -y -q --no-install-recommends pahole >/dev/null; }"
    F="--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs --lang_exclude=rust"
    inroot pahole -j2 $F --btf_encode_detached=/data/pahole-1.32/vmlinux.btf /data/vmlinux
    (cd "$D/modules" && find . -name "*.ko" -printf "%P\n") |
      while read -r m; do
        mkdir -p "$(dirname "$D/pahole-1.32/modules/$m")"
        inroot pahole $F --btf_base /data/vmlinux.btf --btf_encode_detached="/data/pahole-1.32/modules/${m%.ko}.btf" "/data/modules/$m"
      done
  ' _ "$R" "$DEST"
  touch "$DEST/pahole-1.32/.done"
fi

cat "$DEST/VERSION" >&2
echo "$DEST"
