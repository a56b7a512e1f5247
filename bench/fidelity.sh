#!/bin/bash
# fidelity.sh - is our BTF pahole's BTF on a real kernel, through every path we offer?
#
# Fetches the data (bench/fetch-kernel.sh: Debian 12's vmlinux and modules with pahole 1.24
# and 1.32 references; needs root and, for 1.32, tools/ci/setup-bazel.sh's chroot), then
# prints one line per check and exits non-zero if any check failed:
#   - btf encode in 1.24 mode vs pahole 1.24 (all kinds) and vs the embedded .BTF
#     (FUNC/FUNC_PROTO left out: that one was made with pahole -j, which duplicates FUNCs)
#   - btf encode in 1.32 mode with Linux 6.12's --btf_features vs pahole 1.32
#   - the same bytes from encode -j 1, 2, 8, from N = 1, 2, 7, 64 CU-range shards merged, and
#     from Bazel (//bench/vmlinux: 7 and 64 BtfConvert actions + one BtfMerge)
#   - the kernel accepts the output (BPF_BTF_LOAD; skipped when not root)
#   - LTO and dwz input (committed fixtures): equal to pahole, and unsplit by CU ranges
#   - kernel modules: split BTF on vmlinux.btf (btf encode --base), one summary line per
#     reference: equal/total, against pahole 1.24 (1.24 mode) and pahole 1.32 (1.32 mode);
#     and the kernel accepts each (base + split loaded as one blob); and the same modules
#     as requests to one `btf --persistent_worker` (as Bazel's BtfModule actions run) give
#     the same bytes
#   - distilled base (1.32 mode): .BTF and .BTF.base equal to pahole 1.32's, byte for byte,
#     for about 25 modules of the sample
#
# Usage: bench/fidelity.sh [--no-fetch] [--modes 124,132] [--modules all|N]
#   --modes    which pahole generations to check (default both)
#   --modules  all modules, or a fixed sample of at least N (every k-th in path order;
#              default 200; 0: no modules)
# RULES_BTF_DATA overrides the data directory.
set -uo pipefail
cd "$(dirname "$0")/.."
fetch=true modes="124 132" modules=200
usage() { echo "usage: bench/fidelity.sh [--no-fetch] [--modes 124,132] [--modules all|N]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --no-fetch) fetch=false ;;
    --modes) [ $# -ge 2 ] || usage; modes=${2//,/ }; shift ;;
    --modules) [ $# -ge 2 ] || usage; modules=$2; shift ;;
    *) usage ;;
  esac
  shift
done

K=${RULES_BTF_DATA:-/var/cache/rules_btf/kernel}
if $fetch; then
  want=(--pahole)
  case " $modes " in *" 132 "*) want+=(--pahole-new) ;; esac
  RULES_BTF_DATA=$K bash bench/fetch-kernel.sh "${want[@]}" >/dev/null || exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/btf" ./tools/btf || exit 1
btf=$work/btf

F124=(--compat 1.24 --btf_gen_floats --lang_exclude=rust)
F132=(--compat 1.32 --lang_exclude=rust
  --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs)

# The Bazel checks build //bench/vmlinux, which converts bench/vmlinux/vmlinux: a hard link
# to (or copy of) the data's vmlinux, since Bazel may not see files outside the workspace.
bazel=false
if tools/ci/bazel info >/dev/null 2>&1; then
  bazel=true
  ln -f "$K/vmlinux" bench/vmlinux/vmlinux 2>/dev/null || cp "$K/vmlinux" bench/vmlinux/vmlinux
else
  echo "SKIP  Bazel checks: no Bazel (tools/ci/setup-bazel.sh installs one)"
fi

# worker_same REQUESTS ONE WORKER: runs the requests in one `btf --persistent_worker`;
# every response must succeed and every output in the directory WORKER equal the file of
# the same name in ONE, which has no other files.
worker_same() {
  local resp=$work/resp.$RANDOM f bad=0
  "$btf" --persistent_worker < "$1" > "$resp" || return 1
  [ "$(grep -c '"exitCode":0,' "$resp")" = "$(wc -l < "$1")" ] || { grep -v '"exitCode":0,' "$resp" | head -5; return 1; }
  for f in "$2"/*; do
    cmp -s "$f" "$3/${f##*/}" || { echo "${f##*/}: differs"; bad=$((bad + 1)); }
  done
  [ "$(ls "$2" | wc -l)" = "$(ls "$3" | wc -l)" ] || { echo "$(ls "$3" | wc -l) outputs, want $(ls "$2" | wc -l)"; return 1; }
  [ "$bad" = 0 ]
}

failed=0 passed=0
check() { # check NAME COMMAND... : one line per check
  local name=$1; shift
  local log=$work/log.$RANDOM
  if "$@" >"$log" 2>&1; then
    printf 'PASS  %s\n' "$name"
    passed=$((passed + 1))
  else
    printf 'FAIL  %s\n' "$name"
    sed 's/^/      /' "$log" | head -40
    failed=$((failed + 1))
  fi
}
same() { cmp -s "$1" "$2" || { echo "$1 and $2 differ"; return 1; }; }
# types NAME FILE: "NAME: N types (KIND n, ...)"
types() { "$btf" stat "$2" | awk -v n="$1" '$1=="total"{t=$2; next} {s=s sep $1" "$2; sep=", "} END{printf "%s: %d types (%s)\n", n, t, s}'; }

for mode in $modes; do
  if [ $mode = 124 ]; then flags=("${F124[@]}"); ref=$K/pahole/vmlinux.btf; else flags=("${F132[@]}"); ref=$K/pahole-1.32/vmlinux.btf; fi
  out=$work/vmlinux.$mode.btf
  check "vmlinux $mode: btf encode -j 2 runs" "$btf" encode -j 2 "${flags[@]}" -o "$out" "$K/vmlinux"
  [ -f "$out" ] || continue
  types "vmlinux $mode ours" "$out"
  types "vmlinux $mode pahole" "$ref"
  check "vmlinux $mode: equal to pahole ${mode:0:1}.${mode:1}" "$btf" diff "$out" "$ref"
  if [ $mode = 124 ]; then
    check "vmlinux 124: equal to the embedded .BTF without FUNC, FUNC_PROTO" \
      "$btf" diff --ignore FUNC,FUNC_PROTO "$out" "$K/vmlinux.btf"
  fi
  for j in 1 8; do
    check "vmlinux $mode: encode -j $j gives the same bytes" \
      bash -c '"$1" encode -j '$j' "${@:4}" -o "$2.j" "$3" && cmp "$2.j" "$2"' _ "$btf" "$out" "$K/vmlinux" "${flags[@]}"
  done
  for n in 1 2 7 64; do
    shards=()
    for i in $(seq 1 $n); do shards+=("$work/s$n.$i"); done
    check "vmlinux $mode: $n CU-range shards + merge --elf give the same bytes" bash -c '
      btf=$1 out=$2 k=$3 n=$4; shift 4
      for i in $(seq 1 $n); do "$btf" shard --cus $i/$n "$@" -o "$out.s$n.$i" "$k" || exit 1; done
      set -- "$@" --elf "$k" -o "$out.m$n"
      for i in $(seq 1 $n); do set -- "$@" "$out.s$n.$i"; done
      "$btf" merge "$@" && cmp "$out.m$n" "$out"' _ "$btf" "$out" "$K/vmlinux" "$n" "${flags[@]}"
    rm -f "$out".s$n.* "$out.m$n"
  done
  if $bazel; then
    for n in 7 64; do
      check "vmlinux $mode: Bazel, $n BtfConvert actions + BtfMerge give the same bytes" bash -c '
        tools/ci/bazel build //bench/vmlinux:vmlinux_'$mode'_'$n' &&
        cmp bazel-bin/bench/vmlinux/vmlinux_'$mode'_'$n'.btf "$1"' _ "$out"
    done
  fi
  if [ "$(id -u)" = 0 ]; then
    check "vmlinux $mode: the kernel accepts it" "$btf" load "$out"
  else
    echo "SKIP  vmlinux $mode: the kernel accepts it (not root)"
  fi
done

# LTO and dwz: units that refer to each other (tools/btf/testdata/lto, built from
# examples/c with gcc/clang -flto and dwz; pahole's BTF for them committed beside them).
# Equal to pahole, and the same bytes from 3 CU-range shards merged as from encode.
for mode in $modes; do
  if [ $mode = 124 ]; then flags=("${F124[@]}" --btf_encode_force); else flags=("${F132[@]}"); fi
  for bin in tools/btf/testdata/lto/*-lto tools/btf/testdata/lto/*-lto-noinline tools/btf/testdata/lto/*-dwz; do
    ref=$bin.pahole$mode.btf
    [ -f "$ref" ] || continue # pahole 1.24 writes no BTF for the dwz fixture
    name=$(basename "$bin")
    check "lto $name $mode: equal to pahole ${mode:0:1}.${mode:1}; 3 CU-range shards give the same bytes" bash -c '
      btf=$1 bin=$2 ref=$3 out=$4; shift 4
      "$btf" encode "$@" -o "$out" "$bin" && "$btf" diff "$out" "$ref" || exit 1
      for i in 1 2 3; do "$btf" shard --cus $i/3 "$@" -o "$out.$i" "$bin" || exit 1; done
      "$btf" merge "$@" --elf "$bin" -o "$out.m" "$out.1" "$out.2" "$out.3" && cmp "$out.m" "$out"' \
      _ "$btf" "$bin" "$ref" "$work/lto.btf" "${flags[@]}"
  done
done

# Modules: split BTF on the base pahole used, compared with pahole's split BTF.
list=$work/modules.txt
(cd "$K/modules" && find . -name '*.ko' -printf '%P\n' | LC_ALL=C sort) > "$list"
total=$(wc -l < "$list")
if [ "$modules" != all ] && [ "$modules" != 0 ]; then
  step=$(( total / modules > 0 ? total / modules : 1 ))
  awk -v s="$step" 'NR % s == 1 || s == 1' "$list" > "$list.sample" && mv "$list.sample" "$list"
fi
[ "$modules" = 0 ] && : > "$list"
for mode in $modes; do
  [ -s "$list" ] || break
  if [ $mode = 124 ]; then flags=("${F124[@]}"); refdir=$K/pahole/modules; else flags=("${F132[@]}"); refdir=$K/pahole-1.32/modules; fi
  : > "$work/mod.$mode.fail"
  mkdir -p "$work/one.$mode" "$work/wk.$mode"
  # Two modules at a time; each result is a line "ok" or the module's name. The outputs
  # are kept for the worker check below.
  xargs -P 2 -I{} bash -c '
    m=$1 btf=$2 k=$3 refdir=$4 work=$5 mode=$6; shift 6
    out=$work/one.$mode/${m//\//_}.btf
    if "$btf" encode -j 1 "$@" --base "$k/vmlinux.btf" -o "$out" "$k/modules/$m" &&
       "$btf" diff --base "$k/vmlinux.btf" "$out" "$refdir/${m%.ko}.btf" >/dev/null; then echo ok; else echo "$m"; fi
    if [ "$(id -u)" = 0 ] && [ -f "$out" ]; then
      "$btf" load --base "$k/vmlinux.btf" "$out" >/dev/null 2>&1 && echo loaded || echo "$m: rejected by the kernel"
    fi' _ {} "$btf" "$K" "$refdir" "$work" "$mode" "${flags[@]}" < "$list" > "$work/mod.$mode.out"
  n=$(wc -l < "$list"); eq=$(grep -c '^ok$' "$work/mod.$mode.out")
  if [ "$(id -u)" = 0 ]; then
    loaded=$(grep -c '^loaded$' "$work/mod.$mode.out")
    name="modules $mode: the kernel accepts base + split BTF: $loaded/$n"
    if [ "$loaded" = "$n" ]; then printf 'PASS  %s\n' "$name"; passed=$((passed + 1)); else
      printf 'FAIL  %s\n' "$name"; grep 'rejected' "$work/mod.$mode.out" | head -10 | sed 's/^/      /'
      failed=$((failed + 1)); fi
  fi
  # The same command lines as requests to one persistent worker, as Bazel's BtfModule
  # actions run: the same bytes as the one-shot runs above.
  DIR=$K/modules OUT=$work/wk.$mode ARGS=$(printf '%s\n' encode -j 1 "${flags[@]}" --base "$K/vmlinux.btf") \
    awk -f bench/requests.awk -v p=1 -v lane=0 "$list" > "$work/req.$mode"
  check "modules $mode: a persistent worker writes the same bytes as one-shot runs: $n modules" \
    worker_same "$work/req.$mode" "$work/one.$mode" "$work/wk.$mode"
  rm -rf "$work/one.$mode" "$work/wk.$mode"
  name="modules $mode: split BTF equal to pahole ${mode:0:1}.${mode:1}: $eq/$n"
  if [ "$eq" = "$n" ]; then
    printf 'PASS  %s\n' "$name"
    passed=$((passed + 1))
  else
    printf 'FAIL  %s\n' "$name"; grep -v '^ok$\|^loaded$' "$work/mod.$mode.out" | head -10 | sed 's/^/      /'
    failed=$((failed + 1))
  fi
done

# Distilled base (1.32 mode, pahole's distilled_base, as Linux passes it for out-of-tree
# modules): .BTF and .BTF.base of our ELF copy byte-identical to those pahole 1.32 -J
# writes into a copy of the module, for about 25 modules of the sample. pahole only
# distills with -J, and needs an objcopy (LLVM_OBJCOPY).
chroot=${OFFLINE_BAZEL_HOME:-/opt/offline-bazel}/sidroot
case " $modes " in *" 132 "*) distill=true ;; *) distill=false ;; esac
if $distill && [ -s "$list" ] && [ -x "$chroot/usr/bin/pahole" ] && [ "$(id -u)" = 0 ]; then
  pdir=$chroot/tmp/rules_btf-distill.$$
  mkdir -p "$pdir" && cp "$K/vmlinux.btf" "$pdir/base.btf"
  D=(--lang_exclude=rust --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs,distilled_base)
  n=0 eq=0 bad=()
  step=$(( $(wc -l < "$list") / 25 )); [ "$step" -ge 1 ] || step=1
  for m in $(awk -v s="$step" 'NR % s == 1 || s == 1' "$list"); do
    n=$((n + 1)); name=$(basename "$m" .ko)
    cp "$K/modules/$m" "$pdir/$name.ko" && chmod u+w "$pdir/$name.ko"
    if chroot "$chroot" env LLVM_OBJCOPY=objcopy pahole -J "${D[@]}" --btf_base "/tmp/rules_btf-distill.$$/base.btf" "/tmp/rules_btf-distill.$$/$name.ko" >/dev/null 2>&1 &&
       objcopy --dump-section .BTF="$work/p.btf" --dump-section .BTF.base="$work/p.base" "$pdir/$name.ko" /dev/null &&
       "$btf" encode -j 1 --compat 1.32 "${D[@]}" --base "$K/vmlinux.btf" -o "$work/o.btf" --base-out "$work/o.base" --elf-out "$work/o.ko" "$K/modules/$m" >/dev/null 2>&1 &&
       objcopy --dump-section .BTF="$work/e.btf" --dump-section .BTF.base="$work/e.base" "$work/o.ko" /dev/null &&
       cmp -s "$work/p.btf" "$work/e.btf" && cmp -s "$work/p.base" "$work/e.base" && cmp -s "$work/o.btf" "$work/e.btf"; then
      eq=$((eq + 1))
    else
      bad+=("$m")
    fi
    rm -f "$pdir/$name.ko" "$work"/[peo].btf "$work"/[peo].base "$work/o.ko"
  done
  rm -rf "$pdir"
  name="modules 132: distilled .BTF and .BTF.base byte-identical to pahole 1.32: $eq/$n"
  if [ "$eq" = "$n" ]; then printf 'PASS  %s\n' "$name"; passed=$((passed + 1)); else
    printf 'FAIL  %s\n' "$name"; printf '      %s\n' "${bad[@]:0:10}"; failed=$((failed + 1)); fi
elif $distill && [ -s "$list" ]; then
  echo "SKIP  modules 132: distilled base (needs root and the sid chroot's pahole 1.32)"
fi

echo "fidelity: $passed passed, $failed failed"
[ $failed = 0 ]
