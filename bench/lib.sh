# bench/lib.sh - shared helpers of the benchmark scripts (sourced, not run).
#
# A benchmark compares two commands, the peer (pahole, libbpf) and ours (btf), on the same
# machine in the same run: bench_ab runs them interleaved, peer then ours, N times
# (A B A B ...), each under /usr/bin/time, and records per run
#   wall      elapsed seconds
#   cpu       user + system CPU seconds of the process and all its children
#   rss       peak resident set size in MB (the largest single process, for a script
#             that runs many)
# plus any line "bench-metric NAME VALUE" the command prints (e.g. the time of one phase,
# measured inside the process; NAME ends in _s for seconds). bench_table prints the
# medians in a fixed format:
#
#   == TITLE (N runs, interleaved; ratio = ours / peer)
#   measure                      |  peer median |  ours median |  ratio
#   wall s                       |        8.170 |       10.560 |   1.29
#   CPU s (user+sys)             |        8.680 |       15.180 |   1.75
#   peak RSS MB (median)         |          484 |         1824 |   3.77
#   peak RSS MB (max of runs)    |          486 |         1830 |   3.77
#   dedup_s                      |        1.315 |        4.284 |   3.26
#
# Scripts call bench_init first (work directory, cleanup, /usr/bin/time) and may then use
# bench_btf (builds the CLI), bench_pkg (installs a missing Debian package), bench_chroot
# (the sid chroot with pahole 1.32) and bench_share (makes host files visible inside it).

BENCH_DATA=${RULES_BTF_DATA:-/var/cache/rules_btf/kernel}
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_CHROOT=${OFFLINE_BAZEL_HOME:-/opt/offline-bazel}/sidroot

# The flags Linux 6.1 passes to pahole 1.24, and those Linux 6.12 passes to pahole >= 1.26,
# as bench/fidelity.sh uses them: ours take the same ones plus --compat.
BENCH_PAHOLE_124=(--btf_gen_floats --lang_exclude=rust)
BENCH_PAHOLE_132=(--lang_exclude=rust
  --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs)
BENCH_OURS_124=(--compat 1.24 "${BENCH_PAHOLE_124[@]}")
BENCH_OURS_132=(--compat 1.32 "${BENCH_PAHOLE_132[@]}")

bench_log() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*" >&2; }
bench_die() { bench_log "$*"; exit 1; }

# bench_init: a work directory ($BENCH_WORK) removed at exit, with every cleanup hook
# registered by bench_on_exit; /usr/bin/time installed if missing.
bench_init() {
  BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/rules_btf-bench.XXXXXX")
  BENCH_CLEANUP=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  bench_pkg /usr/bin/time time
  [ -d "$BENCH_DATA" ] || bench_die "no kernel data in $BENCH_DATA: run bench/fetch-kernel.sh --pahole --pahole-new (as root)"
}

# bench_on_exit CMD...: run CMD at exit (last registered, first run).
bench_on_exit() { BENCH_CLEANUP=("$(printf '%q ' "$@")" "${BENCH_CLEANUP[@]}"); }

bench_cleanup() {
  local c
  for c in "${BENCH_CLEANUP[@]}"; do eval "$c" || true; done
  rm -rf "$BENCH_WORK"
}

# bench_pkg FILE PACKAGE: apt-get install PACKAGE if FILE (a path or a command) is missing.
bench_pkg() {
  if [ -e "$1" ] || command -v "$1" >/dev/null 2>&1; then return 0; fi
  [ "$(id -u)" = 0 ] || bench_die "$1 missing: apt-get install $2 (as root)"
  bench_log "installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; } ||
    bench_die "apt-get install $2 failed"
}

# bench_btf: builds the CLI from the working tree into $BENCH_BTF.
bench_btf() {
  BENCH_BTF=$BENCH_WORK/btf
  (cd "$BENCH_ROOT" && go build -o "$BENCH_BTF" ./tools/btf) || bench_die "go build ./tools/btf failed"
}

# bench_chroot: makes sure the sid chroot with pahole 1.32 exists (tools/ci/setup-bazel.sh
# creates it and installs pahole in it) and sets BENCH_PAHOLE_NEW to the command running it.
bench_chroot() {
  if [ ! -x "$BENCH_CHROOT/usr/bin/pahole" ]; then
    [ "$(id -u)" = 0 ] || bench_die "no pahole 1.32 chroot at $BENCH_CHROOT: run tools/ci/setup-bazel.sh as root"
    bench_log "no pahole in $BENCH_CHROOT: running tools/ci/setup-bazel.sh"
    "$BENCH_ROOT/tools/ci/setup-bazel.sh" >/dev/null 2>&1 || bench_die "tools/ci/setup-bazel.sh failed"
  fi
  BENCH_PAHOLE_NEW=(chroot "$BENCH_CHROOT" pahole)
  bench_log "peer: pahole $("${BENCH_PAHOLE_NEW[@]}" --version) (sid chroot)"
}

# bench_share PATH...: makes host files or directories visible inside the chroot, as hard
# links (a copy if the chroot is on another file system) under one directory of its /tmp
# that is removed at exit; sets BENCH_SHARED to that directory as the chroot sees it
# (prefix it with $BENCH_CHROOT for the host's view). Each PATH keeps its base name.
bench_share() {
  if [ -z "${BENCH_SHARED:-}" ]; then
    BENCH_SHARED=$(mktemp -d "$BENCH_CHROOT/tmp/rules_btf-bench.XXXXXX")
    bench_on_exit rm -rf "$BENCH_SHARED"
    BENCH_SHARED=${BENCH_SHARED#"$BENCH_CHROOT"}
  fi
  local p
  for p in "$@"; do
    cp -al "$p" "$BENCH_CHROOT$BENCH_SHARED/" 2>/dev/null || cp -a "$p" "$BENCH_CHROOT$BENCH_SHARED/" ||
      bench_die "cannot copy $p into the chroot"
  done
}

# bench_run SIDE CMD...: runs CMD once under /usr/bin/time and appends its measures to
# $BENCH_WORK/results as lines "SIDE MEASURE VALUE". Its output goes to a log, shown if
# it fails (then the script stops).
bench_run() {
  local side=$1; shift
  local tf=$BENCH_WORK/time log=$BENCH_WORK/log
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$log" 2>&1; then
    bench_log "$side failed: $*"
    tail -30 "$log" | sed 's/^/    /' >&2
    exit 1
  fi
  # The last line of the time file is ours (the first may be "Command exited ...").
  tail -1 "$tf" | awk -v s="$side" '{ printf "%s wall %.3f\n%s cpu %.3f\n%s rss %.0f\n", s, $1, s, $2 + $3, s, $4 / 1024 }' >>"$BENCH_WORK/results"
  awk -v s="$side" '$1 == "bench-metric" && NF == 3 { print s, $2, $3 }' "$log" >>"$BENCH_WORK/results"
}

# bench_ab RUNS PEER OURS [PREPARE]: RUNS interleaved runs (peer, ours, peer, ours, ...);
# PEER and OURS name arrays holding the two command lines; PREPARE, a command run (not
# timed) before each run of ours, e.g. to make a build cold again. Starts a new result set.
bench_ab() {
  local runs=$1 prepare=${4:-} i
  local -n peer_cmd=$2 ours_cmd=$3
  : >"$BENCH_WORK/results"
  for ((i = 1; i <= runs; i++)); do
    bench_run peer "${peer_cmd[@]}"
    if [ -n "$prepare" ]; then $prepare || bench_die "$prepare failed"; fi
    bench_run ours "${ours_cmd[@]}"
    bench_log "run $i/$runs: $(bench_last peer) | $(bench_last ours)"
  done
}

# bench_last SIDE: the last run's wall, CPU and RSS of SIDE, for progress lines.
bench_last() {
  awk -v s="$1" '$1 == s { v[$2] = $3 } END { printf "%s %.2fs wall %.2fs cpu %dMB", s, v["wall"], v["cpu"], v["rss"] }' "$BENCH_WORK/results"
}

# bench_median SIDE MEASURE: the median of a measure over the runs of the current set.
bench_median() {
  awk -v s="$1" -v m="$2" '$1 == s && $2 == m { print $3 }' "$BENCH_WORK/results" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

bench_max() {
  awk -v s="$1" -v m="$2" '$1 == s && $2 == m { if (n++ == 0 || $3 > x) x = $3 } END { if (n) print x }' "$BENCH_WORK/results"
}

# bench_table TITLE [PEER-LABEL OURS-LABEL]: prints the current set's medians and ratios
# (ours / peer): wall, CPU, RSS, then the bench-metric measures in order of appearance.
# With BENCH_WALL_ONLY set, no CPU and RSS: for a side whose work is done by a server
# (Bazel), /usr/bin/time only sees the client.
bench_table() {
  local title=$1 runs m f
  runs=$(awk '$1 == "ours" && $2 == "wall"' "$BENCH_WORK/results" | wc -l)
  printf '\n== %s (%d runs, interleaved; ratio = ours / peer)\n' "$title" "$runs"
  [ $# -ge 3 ] && printf '   peer: %s\n   ours: %s\n' "$2" "$3"
  printf '%-28s | %12s | %12s | %6s\n' measure "peer median" "ours median" ratio
  bench_row "wall s" "$(bench_median peer wall)" "$(bench_median ours wall)"
  if [ -z "${BENCH_WALL_ONLY:-}" ]; then
    bench_row "CPU s (user+sys)" "$(bench_median peer cpu)" "$(bench_median ours cpu)"
    bench_row "peak RSS MB (median)" "$(bench_median peer rss)" "$(bench_median ours rss)" %.0f
    bench_row "peak RSS MB (max of runs)" "$(bench_max peer rss)" "$(bench_max ours rss)" %.0f
  fi
  for m in $(awk '$2 != "wall" && $2 != "cpu" && $2 != "rss" && !seen[$2]++ { print $2 }' "$BENCH_WORK/results"); do
    case $m in *_s) f=%.3f ;; *) f=%g ;; esac # seconds, or a count
    bench_row "$m" "$(bench_median peer "$m")" "$(bench_median ours "$m")" "$f"
  done
}

# bench_row LABEL PEER OURS [FORMAT]: one table line (values in printf FORMAT, default
# %.3f); "-" where a side has no value.
bench_row() {
  awk -v l="$1" -v p="$2" -v o="$3" -v f="${4:-%.3f}" 'BEGIN {
    r = (p != "" && o != "" && p + 0 > 0) ? sprintf("%.2f", o / p) : "-"
    printf "%-28s | %12s | %12s | %6s\n", l, (p == "" ? "-" : sprintf(f, p)), (o == "" ? "-" : sprintf(f, o)), r
  }'
}

# bench_usage_runs VALUE: checks a --runs argument.
bench_check_runs() {
  case $1 in '' | *[!0-9]* | 0) bench_die "--runs wants a positive number, not '$1'" ;; esac
}
