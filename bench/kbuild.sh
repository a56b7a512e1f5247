#!/bin/bash
# kbuild.sh - the BTF steps of a kernel build, as Kbuild runs them, with the reference
# pahole against our pahole front end: every pahole call of e2e/kbuild/run.sh's reference
# pass (captured there: `pahole -J FLAGS .tmp_vmlinux*` for vmlinux, then `pahole -J
# FLAGS --btf_base vmlinux M.ko` once per module, one process each), replayed in order on
# copies of the same inputs, interleaved (peer, ours, peer, ...). The peer gets the
# arguments Kbuild gave (with -j: pahole 1.24's -j output is not deterministic, but its
# speed is what a build sees); ours is `btf` invoked as pahole, claiming the peer's
# version. The issue's target is ours / peer <= 0.5 in wall and CPU time.
#
#   6.1   peer: Debian 12's pahole 1.24        ours: BTF_PAHOLE_VERSION=1.24
#   6.12  peer: pahole 1.32 (sid chroot)       ours: BTF_PAHOLE_VERSION=1.32
#
# Usage: bench/kbuild.sh [--runs N] [--kernel 6.1|6.12]   (after e2e/kbuild/run.sh)
# RULES_BTF_KBUILD overrides run.sh's work directory (default /var/cache/rules_btf/kbuild).
set -euo pipefail
KB=${RULES_BTF_KBUILD:-/var/cache/rules_btf/kbuild}
export RULES_BTF_DATA=$KB # bench_init's data directory
source "$(dirname "$0")/lib.sh"

runs=5 kernel=6.1
usage() { echo "usage: bench/kbuild.sh [--runs N] [--kernel 6.1|6.12]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift ;;
    --kernel) [ $# -ge 2 ] || usage; kernel=$2; shift ;;
    *) usage ;;
  esac
  shift
done
bench_check_runs "$runs"
cap=$KB/$kernel/capture
[ -f "$cap/vmlinux" ] && ls -d "$cap"/call.* >/dev/null 2>&1 || bench_die "no capture in $cap: run e2e/kbuild/run.sh --kernel $kernel first"

bench_init
bench_btf
mkdir -p "$BENCH_WORK/ours"
ln -s ../btf "$BENCH_WORK/ours/pahole"
case $kernel in
  6.1) peer=/usr/bin/pahole version=1.24 ;;
  6.12) peer=$KB/bin/pahole-1.32 version=1.32 ;; # sid's pahole on the host (run.sh)
  *) usage ;;
esac

# The calls in the order Kbuild made them: vmlinux first, then the modules by path.
calls=$BENCH_WORK/calls
for d in "$cap"/call.*; do
  last=$(tail -1 "$d/args")
  case $last in .tmp_vmlinux*) key=0 ;; *) key=1 ;; esac
  printf '%s %s %s\n' "$key" "$last" "$d"
done | LC_ALL=C sort | cut -d' ' -f3 >"$calls"
nmod=$(($(wc -l <"$calls") - 1))

# The calls' arguments as replayed from the tree: paths Kbuild gave as absolute (an
# out-of-tree module, $(objtree)/vmlinux) made relative to it. Written next to the
# calls' captures in the work directory.
replays=$BENCH_WORK/replays
mkdir -p "$replays"
while read -r d; do
  last=$(tail -1 "$d/args")
  while read -r a; do
    case $a in
      /*/vmlinux) echo vmlinux ;;
      "$last") case $a in /*) echo "ext/$(basename "$a")" ;; *) echo "$a" ;; esac ;;
      *) echo "$a" ;;
    esac
  done <"$d/args" >"$replays/$(basename "$d")"
done <"$calls"

# prepare: a fresh tree of the inputs at the paths of the calls, and the base.
tree=$BENCH_WORK/tree
prepare() {
  rm -rf "$tree"
  mkdir -p "$tree"
  ln -s "$cap/vmlinux" "$tree/vmlinux"
  local d in
  while read -r d; do
    in=$(tail -1 "$replays/$(basename "$d")")
    mkdir -p "$tree/$(dirname "$in")"
    cp "$d/input" "$tree/$in"
  done <"$calls"
}

# replay PAHOLE: every call, one process each, in order, from the tree.
cat >"$BENCH_WORK/replay" <<'EOF'
#!/bin/bash
set -e
pahole=$1 calls=$2 tree=$3 replays=$4
cd "$tree"
while read -r d; do
  mapfile -t args <"$replays/$(basename "$d")"
  "$pahole" "${args[@]}"
done <"$calls"
EOF
chmod +x "$BENCH_WORK/replay"

bench_log "Linux $kernel: vmlinux and $nmod modules; peer: $("$peer" --version), ours: $(BTF_PAHOLE_VERSION=$version "$BENCH_WORK/ours/pahole" --version)"
: >"$BENCH_WORK/results"
for ((i = 1; i <= runs; i++)); do
  prepare
  bench_run peer "$BENCH_WORK/replay" "$peer" "$calls" "$tree" "$replays"
  prepare
  BTF_PAHOLE_VERSION=$version bench_run ours "$BENCH_WORK/replay" "$BENCH_WORK/ours/pahole" "$calls" "$tree" "$replays"
  bench_log "run $i/$runs: $(bench_last peer) | $(bench_last ours)"
done
bench_table "Kbuild's BTF steps of Linux $kernel (vmlinux + $nmod modules, one process per call)" \
  "pahole $version as Kbuild calls it" "btf as pahole, BTF_PAHOLE_VERSION=$version"
