#!/bin/bash
# modules.sh - every kernel module's split BTF on vmlinux's: total CPU of `btf encode -j 1
# --base` over all modules against pahole's over the same modules, interleaved. The
# issue's target is CPU(ours) / CPU(pahole) <= 0.5 over all 1,121 modules.
#
# One side of one run converts every module of the list, one process per module, one
# module after the other (--parallel P: P at a time), inside a single /usr/bin/time: its
# wall is the whole list's, its CPU the sum over the modules' processes, its peak RSS
# the largest single process's.
#
#   1.24 mode: btf encode --compat 1.24 vs the host's pahole 1.24 (--btf_gen_floats
#              --lang_exclude=rust --btf_base vmlinux.btf)
#   1.32 mode: btf encode --compat 1.32 vs pahole 1.32 in the sid chroot (Linux 6.12's
#              --btf_features); the modules are hard-linked into the chroot
# The base is the vmlinux's embedded BTF (vmlinux.btf), as for the pahole references.
#
# Usage: bench/modules.sh [--runs N] [--modes 124,132] [--sample N] [--parallel P]
#   --runs      interleaved runs per side (default 5)
#   --modes     which peers (default 124; 132 needs the sid chroot)
#   --sample N  a fixed sample of at least N modules (every k-th in path order, as in
#               bench/fidelity.sh) instead of all
#   --parallel  modules converted at a time by each side (default 1)
# RULES_BTF_DATA overrides the data directory (default /var/cache/rules_btf/kernel).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=5 modes=124 sample=all par=1
usage() { echo "usage: bench/modules.sh [--runs N] [--modes 124,132] [--sample N] [--parallel P]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift ;;
    --modes) [ $# -ge 2 ] || usage; modes=${2//,/ }; shift ;;
    --sample) [ $# -ge 2 ] || usage; sample=$2; shift ;;
    --parallel) [ $# -ge 2 ] || usage; par=$2; shift ;;
    *) usage ;;
  esac
  shift
done
bench_check_runs "$runs"
case $par in '' | *[!0-9]* | 0) usage ;; esac
case $sample in all) ;; '' | *[!0-9]* | 0) usage ;; esac

bench_init
bench_btf
base=$BENCH_DATA/vmlinux.btf
[ -f "$base" ] && [ -d "$BENCH_DATA/modules" ] || bench_die "no $base or $BENCH_DATA/modules"

list=$BENCH_WORK/modules.txt
(cd "$BENCH_DATA/modules" && find . -name '*.ko' -printf '%P\n' | LC_ALL=C sort) >"$list"
total=$(wc -l <"$list")
if [ "$sample" != all ]; then
  step=$((total / sample > 0 ? total / sample : 1))
  awk -v s="$step" 'NR % s == 1 || s == 1' "$list" >"$list.sample" && mv "$list.sample" "$list"
fi
n=$(wc -l <"$list")
# Warm the page cache: the first timed side must not pay for reading the modules.
(cd "$BENCH_DATA/modules" && xargs cat <"$list" >/dev/null)

# side NAME MODDIR OUTDIR CMD...: writes $BENCH_WORK/NAME, a script converting the module
# given as its argument (a path relative to MODDIR) with CMD... OUTPUT MODULE, where CMD
# ends with the flag taking the output (pahole's --btf_encode_detached=, our -o). OUTDIR
# (which must exist) is as CMD sees it.
side() {
  local name=$1 moddir=$2 outdir=$3 sep=" "; shift 3
  case ${!#} in *=) sep= ;; esac
  {
    echo '#!/bin/bash'
    echo 'm=$1 o='"$(printf %q "$outdir")"'/${1//\//_}.btf'
    printf '%q ' "${@:1:$#-1}"
    printf '%q%s"$o" %q/"$m" && rm -f "$o"\n' "${!#}" "$sep" "$moddir"
  } >"$BENCH_WORK/$name"
  chmod +x "$BENCH_WORK/$name"
}

for mode in $modes; do
  case $mode in
    124)
      bench_pkg pahole dwarves
      mkdir -p "$BENCH_WORK/peer"
      side peer.sh "$BENCH_DATA/modules" "$BENCH_WORK/peer" \
        pahole "${BENCH_PAHOLE_124[@]}" --btf_base "$base" --btf_encode_detached=
      peername="pahole $(pahole --version)"
      oflags=("${BENCH_OURS_124[@]}")
      ;;
    132)
      bench_chroot
      bench_share "$BENCH_DATA/modules" "$base"
      mkdir -p "$BENCH_CHROOT$BENCH_SHARED/out"
      side peer.sh "$BENCH_SHARED/modules" "$BENCH_SHARED/out" \
        "${BENCH_PAHOLE_NEW[@]}" "${BENCH_PAHOLE_132[@]}" --btf_base "$BENCH_SHARED/vmlinux.btf" --btf_encode_detached=
      peername="pahole $("${BENCH_PAHOLE_NEW[@]}" --version)"
      oflags=("${BENCH_OURS_132[@]}")
      ;;
    *) usage ;;
  esac
  mkdir -p "$BENCH_WORK/ours"
  side ours.sh "$BENCH_DATA/modules" "$BENCH_WORK/ours" "$BENCH_BTF" encode -j 1 "${oflags[@]}" --base "$base" -o
  peer=(xargs -a "$list" -P "$par" -n 1 "$BENCH_WORK/peer.sh")
  ours=(xargs -a "$list" -P "$par" -n 1 "$BENCH_WORK/ours.sh")
  bench_log "mode $mode: $runs runs of $n modules, $peername and btf encode -j 1, $par at a time"
  bench_ab "$runs" peer ours
  bench_table "$n of $total modules, $mode mode: btf encode -j 1 --base vs $peername --btf_base ($par at a time)" \
    "$(sed -n 3p "$BENCH_WORK/peer.sh")" "$(sed -n 3p "$BENCH_WORK/ours.sh")"
done
