#!/bin/bash
# e2e/kbuild/run.sh - rules_btf's pahole front end in a real kernel build: builds a
# small kernel (tinyconfig + kernel.config: x86_64, BTF for vmlinux and modules, a few
# loadable modules) with Kbuild twice, once with the reference pahole and once with
# `make PAHOLE=<our btf, invoked as pahole>`, compares the .BTF of vmlinux and of every
# module, and boots both kernels in QEMU with a busybox initramfs that loads every module
# and dumps the kernel's BTF with bpftool.
#
#   6.1   Debian 12's linux-source-6.1; reference: Debian 12's pahole 1.24 without -j
#         (pahole 1.24's -j output is not deterministic); ours claims v1.24
#         (BTF_PAHOLE_VERSION=1.24), so Kbuild passes it 6.1's flags for pahole 1.24.
#   6.12  Debian 13's linux-source-6.12 (trixie); reference: pahole 1.32 from the Debian
#         sid chroot of tools/ci/setup-bazel.sh; ours claims v1.32, so Kbuild passes
#         --btf_features.
#
# Both passes share one configuration (the claimed version is the reference's, so
# Kconfig's PAHOLE_VERSION is the same) and so one object build: each pass deletes the
# linked images and modules and relinks them, which runs the BTF steps again. Work is
# kept under $RULES_BTF_KBUILD (default /var/cache/rules_btf/kbuild): the unpacked
# sources and the objects, so that a second run rebuilds only what changed.
#
# Every pahole call goes through a wrapper that records its wall and CPU time
# (<work>/<kernel>/<pass>/pahole.log) and, for the reference pass, saves its input
# before the call (<work>/<kernel>/capture/), which bench/kbuild.sh replays.
#
# Usage (as root, for apt): e2e/kbuild/run.sh [--kernel 6.1|6.12|all] [--no-boot]
# Needs: Go, gcc, apt. Prints one line per check and a summary; exits non-zero on any
# failed check.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
W=${RULES_BTF_KBUILD:-/var/cache/rules_btf/kbuild}
SIDROOT=${SIDROOT:-${OFFLINE_BAZEL_HOME:-/opt/offline-bazel}/sidroot}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
JOBS=${JOBS:-$(nproc)}
kernels=(6.1 6.12)
boot=true
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) shift; [ "$1" = all ] || kernels=("$1") ;;
    --no-boot) boot=false ;;
    *) echo "usage: run.sh [--kernel 6.1|6.12|all] [--no-boot]" >&2; exit 2 ;;
  esac
  shift
done

log() { printf 'kbuild: %s\n' "$*" >&2; }
# As Debian builds its kernels: Linux 6.12's Makefile.btf then gives pahole
# "-j --btf_features=+reproducible_build" after its feature list.
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
# The same "#N" in the version string whatever the number of links so far: its length
# is in the DWARF (linux_banner's array type), which both passes must share.
export KBUILD_BUILD_VERSION=1 KBUILD_BUILD_USER=rules_btf KBUILD_BUILD_HOST=kbuild
unset KBUILD_EXTMOD
failures=0
check() { # check NAME CONDITION-RESULT(0/1) DETAIL
  if [ "$2" = 0 ]; then printf 'ok    %s %s\n' "$1" "$3"; else printf 'FAIL  %s %s\n' "$1" "$3"; failures=$((failures + 1)); fi
}

# Host tools: a kernel build's, QEMU, busybox and bpftool for the guest, pahole 1.24.
need=()
for p in /usr/bin/time:time bc:bc flex:flex bison:bison cpio:cpio xz:xz-utils objcopy:binutils pahole:dwarves \
         qemu-system-x86_64:qemu-system-x86 bpftool:bpftool; do
  command -v "${p%%:*}" >/dev/null || need+=("${p#*:}")
done
[ -e /usr/include/libelf.h ] || need+=(libelf-dev)
[ -e /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q static || need+=(busybox-static)
command -v file >/dev/null || need+=(file)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$W/bin"
# Our tool, from this checkout, under the name pahole.
log "building btf from $repo"
(cd "$repo" && go build -o "$W/bin/btf" ./tools/btf)
mkdir -p "$W/bin/ours"
ln -sf ../btf "$W/bin/ours/pahole"

# source_tarball KERNEL: the path of the kernel's source tarball, fetched with apt.
source_tarball() {
  case $1 in
    6.1)
      [ -e /usr/src/linux-source-6.1.tar.xz ] || {
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-source-6.1 >/dev/null
      }
      echo /usr/src/linux-source-6.1.tar.xz ;;
    6.12)
      # Debian 13's package, downloaded with a private apt state: the host's own
      # sources and packages are left as they are.
      local a=$W/apt-trixie
      if ! ls "$a"/linux-source-6.12_*.deb >/dev/null 2>&1; then
        mkdir -p "$a/lists/partial" "$a/archives/partial"
        printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
          "$DEBIAN_MIRROR" trixie "${DEBIAN_MIRROR%/debian}/debian-security" trixie-security > "$a/sources.list"
        local o=(-o "Dir::Etc::SourceList=$a/sources.list" -o Dir::Etc::SourceParts=/nonexistent
                 -o "Dir::State::Lists=$a/lists" -o "Dir::Cache::archives=$a/archives"
                 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
        apt-get "${o[@]}" update -q >/dev/null
        (cd "$a" && apt-get "${o[@]}" download linux-source-6.12 >/dev/null)
      fi
      local deb
      deb=$(ls "$a"/linux-source-6.12_*.deb | tail -1)
      if [ ! -e "$a/root/.done" ] || [ "$(cat "$a/root/.done")" != "$(basename "$deb")" ]; then
        rm -rf "$a/root"
        dpkg -x "$deb" "$a/root"
        basename "$deb" > "$a/root/.done"
      fi
      echo "$a/root/usr/src/linux-source-6.12.tar.xz" ;;
  esac
}

# pahole 1.32: sid's binary, run on the host with sid's loader and libraries.
write_pahole132() {
  [ -x "$SIDROOT/usr/bin/pahole" ] || {
    log "no pahole 1.32 at $SIDROOT: run tools/ci/setup-bazel.sh first"; exit 1; }
  cat > "$W/bin/pahole-1.32" <<EOF
#!/bin/sh
# pahole 1.32 of the Debian sid chroot $SIDROOT, run on the host.
R=$SIDROOT
exec "\$R/lib64/ld-linux-x86-64.so.2" --library-path "\$R/usr/lib/x86_64-linux-gnu:\$R/lib/x86_64-linux-gnu" "\$R/usr/bin/pahole" "\$@"
EOF
  chmod +x "$W/bin/pahole-1.32"
}

# Debian 12's pahole 1.24 without -j.
cat > "$W/bin/pahole-1.24" <<'EOF'
#!/bin/sh
# pahole 1.24 (Debian 12) without -j: its -j output is not deterministic.
for a; do shift; case $a in -j|-j[0-9]*) ;; *) set -- "$@" "$a" ;; esac; done
exec /usr/bin/pahole "$@"
EOF
chmod +x "$W/bin/pahole-1.24"

# The wrapper Kbuild calls as $(PAHOLE): runs $REAL_PAHOLE, appends "wall cpu args" to
# $PAHOLE_LOG and, with $PAHOLE_CAPTURE set, first saves the input file (the last
# argument) and the arguments there, for bench/kbuild.sh.
cat > "$W/bin/pahole-timed" <<'EOF'
#!/bin/bash
case " $* " in *" --version "*) exec "$REAL_PAHOLE" "$@" ;; esac
if [ -n "${PAHOLE_CAPTURE:-}" ]; then
  d=$(mktemp -d "$PAHOLE_CAPTURE/call.XXXXXX")  # make -j runs several at once
  cp "${@: -1}" "$d/input"
  printf '%s\n' "$@" > "$d/args"
fi
tf=$(mktemp)
/usr/bin/time -f '%e %U %S' -o "$tf" "$REAL_PAHOLE" "$@" || { rc=$?; rm -f "$tf"; exit $rc; }
tail -1 "$tf" | awk -v a="$*" '{ printf "%.2f %.2f %s\n", $1, $2 + $3, a }' >> "$PAHOLE_LOG"
rm -f "$tf"
EOF
chmod +x "$W/bin/pahole-timed"

# unpack KERNEL TARBALL: the sources under $W/<kernel>/src, once per tarball.
unpack() {
  local k=$1 tar=$2 d=$W/$1/src stamp
  stamp="$(basename "$tar") $(stat -c %s "$tar")"
  if [ ! -e "$d/.done" ] || [ "$(cat "$d/.done")" != "$stamp" ]; then
    log "$k: unpacking $(basename "$tar")"
    rm -rf "$d" "$W/$k/obj"
    mkdir -p "$d"
    tar -xf "$tar" -C "$d" --strip-components=1
    echo "$stamp" > "$d/.done"
  fi
}

# kmake KERNEL PAHOLE ARGS...: make in the kernel's object directory.
kmake() {
  local k=$1 p=$2; shift 2
  make -s -C "$W/$k/src" O="$W/$k/obj" PAHOLE="$p" "$@"
}

# pass KERNEL NAME REAL_PAHOLE [ENV...]: builds the kernel and its modules with
# REAL_PAHOLE behind the timing wrapper (compiling what changed since the last run, and
# relinking vmlinux and every module), and collects the results in $W/<k>/<name>.
pass() {
  local k=$1 name=$2 real=$3; shift 3
  local o=$W/$k/obj out=$W/$k/$name
  rm -rf "$out"; mkdir -p "$out/modules"
  rm -f "$o/vmlinux" "$o"/.tmp_vmlinux* "$o"/.btf.vmlinux.bin.o "$o/arch/x86/boot/bzImage"
  find "$o" -name '*.ko' -delete
  local capture=
  if [ "$name" = ref ]; then capture=$W/$k/capture; rm -rf "$capture"; mkdir -p "$capture"; fi
  log "$k: $name pass (PAHOLE -> $real)"
  local start end
  start=$(date +%s%N)
  env "$@" REAL_PAHOLE="$real" PAHOLE_LOG="$out/pahole.log" PAHOLE_CAPTURE="$capture" \
    make -s -C "$W/$k/src" O="$o" PAHOLE="$W/bin/pahole-timed" -j"$JOBS" all > "$out/build.log" 2>&1 || {
      tail -30 "$out/build.log" >&2; check "$k/$name/build" 1 "(make failed: $out/build.log)"; return 1; }
  # The out-of-tree module, built against this pass's kernel (make M=).
  rm -rf "$W/$k/extmod"; cp -r "$here/extmod" "$W/$k/extmod"
  env "$@" REAL_PAHOLE="$real" PAHOLE_LOG="$out/pahole.log" PAHOLE_CAPTURE="$capture" \
    make -s -C "$W/$k/src" O="$o" M="$W/$k/extmod" PAHOLE="$W/bin/pahole-timed" modules >> "$out/build.log" 2>&1 || {
      tail -30 "$out/build.log" >&2; check "$k/$name/build-extmod" 1 "(make M= failed: $out/build.log)"; return 1; }
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 ))" > "$out/make-ms"
  objcopy --dump-section .BTF="$out/vmlinux.btf" "$o/vmlinux" /dev/null
  # The modules' --btf_base, for bench/kbuild.sh.
  [ -z "$capture" ] || cp "$o/vmlinux" "$capture/vmlinux"
  cp "$o/arch/x86/boot/bzImage" "$out/bzImage"
  (cd "$o" && find . -name '*.ko' -printf '%P\n') | while read -r m; do
    cp "$o/$m" "$out/modules/$(basename "$m")"
  done
  cp "$W/$k/extmod/btf_extmod.ko" "$out/modules/"
}

# listing PASS-DIR MODULE: bpftool's listing of the module's .BTF, split on vmlinux's
# BTF or, if the module has a distilled base (.BTF.base), on that, which is listed too.
listing() {
  local d=$1 m=$2 base=$1/vmlinux.btf
  objcopy --dump-section .BTF="$d/modules/$m.btf" "$d/modules/$m" /dev/null
  : > "$d/modules/$m.txt"
  rm -f "$d/modules/$m.base.btf"
  if readelf -SW "$d/modules/$m" | grep -q ' \.BTF\.base '; then
    base=$d/modules/$m.base.btf
    objcopy --dump-section .BTF.base="$base" "$d/modules/$m" /dev/null
    { echo "distilled base:"; bpftool btf dump file "$base"; echo "split BTF:"; } > "$d/modules/$m.txt"
  fi
  bpftool -B "$base" btf dump file "$d/modules/$m.btf" >> "$d/modules/$m.txt"
}

# compare KERNEL: our BTF against the reference's, vmlinux and every module: the same
# types with the same IDs (bpftool's listing of every type, field and ID; for vmlinux
# also btf diff, which ignores IDs and tells what differs), and whether the bytes are
# the same too.
compare() {
  local k=$1 r=$W/$1/ref u=$W/$1/ours btf=$W/bin/btf
  local res=0
  bpftool btf dump file "$r/vmlinux.btf" > "$r/vmlinux.txt"
  bpftool btf dump file "$u/vmlinux.btf" > "$u/vmlinux.txt"
  cmp -s "$r/vmlinux.txt" "$u/vmlinux.txt" || res=1
  check "$k/vmlinux/ids" $res "(bpftool listings of the $(wc -l < "$u/vmlinux.txt") lines of both .BTF: $(grep -c '^\[' "$u/vmlinux.txt") types)"
  res=0
  "$btf" diff "$r/vmlinux.btf" "$u/vmlinux.btf" > "$u/vmlinux.diff" 2>&1 || res=1
  check "$k/vmlinux/types" $res "(btf diff: $(tail -1 "$u/vmlinux.diff"))"
  if cmp -s "$r/vmlinux.btf" "$u/vmlinux.btf"; then
    echo "info  $k/vmlinux/bytes identical ($(stat -c %s "$u/vmlinux.btf") bytes)"
  else
    echo "info  $k/vmlinux/bytes differ: the string sections ($(stat -c %s "$r/vmlinux.btf") and $(stat -c %s "$u/vmlinux.btf") bytes; the types and IDs are checked above)"
  fi
  local n=0 bad=0 same=0 dist=0 m
  for m in "$r"/modules/*.ko; do
    m=$(basename "$m")
    n=$((n + 1))
    if [ ! -e "$u/modules/$m" ]; then bad=$((bad + 1)); log "$k: $m: missing in ours"; continue; fi
    listing "$r" "$m"
    listing "$u" "$m"
    # Each on its own vmlinux: a module's BTF refers to its base's strings by offset.
    if ! cmp -s "$r/modules/$m.txt" "$u/modules/$m.txt"; then
      bad=$((bad + 1))
      log "$k: $m: BTF differs"; diff "$r/modules/$m.txt" "$u/modules/$m.txt" | head -20 >&2
    fi
    ! cmp -s "$r/modules/$m.btf" "$u/modules/$m.btf" || same=$((same + 1))
    [ ! -e "$r/modules/$m.base.btf" ] || dist=$((dist + 1))
  done
  res=0; [ "$bad" = 0 ] && [ "$n" -ge 5 ] || res=1
  check "$k/modules/ids" $res "($((n - bad)) of $n modules: the same types with the same IDs, by bpftool's listings)"
  echo "info  $k/modules/bytes $same of $n modules' .BTF byte-identical; $dist with a distilled base (.BTF.base)"
}

# initramfs KERNEL NAME: a busybox initramfs with the pass's modules, bpftool and
# init.sh.
initramfs() {
  local k=$1 name=$2 d=$W/$1/$2/initramfs
  rm -rf "$d"; mkdir -p "$d"/{bin,sbin,proc,sys,dev,tmp,lib/modules}
  cp /bin/busybox "$d/bin/busybox"
  for a in sh mount insmod rmmod lsmod cat echo ls wc grep sed reboot dmesg sleep basename head tr; do
    ln -s busybox "$d/bin/$a"
  done
  cp "$W/$k/$name"/modules/*.ko "$d/lib/modules/"
  cp "$(command -v bpftool)" "$d/bin/bpftool"
  ldd "$(command -v bpftool)" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$d$(dirname "$lib")"; cp -L "$lib" "$d$lib"
  done
  cp "$here/init.sh" "$d/init"; chmod +x "$d/init"
  (cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) > "$W/$k/$name/initramfs.cpio.gz"
}

# boot KERNEL NAME: QEMU (TCG), checks what the guest's init printed.
boot_check() {
  local k=$1 name=$2 out=$W/$1/$2
  initramfs "$k" "$name"
  local start end
  start=$(date +%s%N)
  timeout 300 qemu-system-x86_64 -m 512M -smp 1 -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$out/bzImage" -initrd "$out/initramfs.cpio.gz" \
    -append "console=ttyS0 panic=-1 loglevel=4" < /dev/null > "$out/boot.log" 2>&1 || true
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 ))" > "$out/boot-ms"
  tr -d '\r' < "$out/boot.log" > "$out/boot.txt"
  local res=0 mods want
  want=$(ls "$out/modules" | grep -c '\.ko$')
  grep -q 'KBTEST done' "$out/boot.txt" || res=1
  check "$k/$name/boot" $res "(init finished in $(( (end - start) / 1000000000 )) s: $out/boot.txt)"
  res=0; grep -q 'KBTEST vmlinux-btf ok' "$out/boot.txt" || res=1
  check "$k/$name/sysfs-vmlinux" $res "(/sys/kernel/btf/vmlinux)"
  mods=$(grep -c 'KBTEST module .* insmod ok btf ok bpftool ok' "$out/boot.txt" || true)
  res=0; [ "$mods" = "$want" ] || res=1
  check "$k/$name/modules" $res "($mods of $want modules loaded, with /sys/kernel/btf/<module> dumped as C by bpftool)"
  res=0; grep -q 'KBTEST bpftool vmlinux ok' "$out/boot.txt" || res=1
  check "$k/$name/bpftool" $res "(bpftool btf dump file /sys/kernel/btf/vmlinux format c: $(sed -n 's/.*KBTEST bpftool vmlinux ok //p' "$out/boot.txt"))"
  local nobj
  nobj=$(sed -n 's/.*KBTEST btf-objects //p' "$out/boot.txt")
  res=0; [ "$nobj" = $((want + 1)) ] || res=1
  check "$k/$name/btf-objects" $res "(bpftool btf list: ${nobj:-no} BTF objects in the kernel, want vmlinux + $want modules)"
  local errs
  errs=$(grep -iE 'btf|bpf:' "$out/boot.txt" | grep -v 'KBTEST' | grep -iE 'fail|error|invalid|unsupported|bpf:' || true)
  res=0; [ -z "$errs" ] || res=1
  check "$k/$name/kernel-log" $res "(no BTF error in the kernel log${errs:+: $errs})"
}

# timing KERNEL: the BTF steps of both passes as Kbuild ran them.
timing() {
  local k=$1 p
  for p in ref ours; do
    awk -v k="$k" -v p="$p" '{ w += $1; c += $2; n++ } END { printf "time  %s/%s: %d pahole calls, wall %.2f s, CPU %.2f s\n", k, p, n, w, c }' "$W/$k/$p/pahole.log"
  done
  printf 'time  %s: make, ref pass %.1f s (with the objects it had to compile), ours %.1f s (relink of vmlinux and the modules)\n' \
    "$k" "$(cat "$W/$k/ref/make-ms")e-3" "$(cat "$W/$k/ours/make-ms")e-3"
  for p in ref ours; do
    [ -e "$W/$k/$p/boot-ms" ] && printf 'time  %s/%s: QEMU boot to the end of init %.1f s\n' "$k" "$p" "$(cat "$W/$k/$p/boot-ms")e-3"
  done
}

for k in "${kernels[@]}"; do
  case $k in
    6.1) ref=$W/bin/pahole-1.24 version=1.24 ;;
    6.12) write_pahole132; ref=$W/bin/pahole-1.32 version=1.32 ;;
    *) echo "run.sh: unknown kernel $k (6.1, 6.12)" >&2; exit 2 ;;
  esac
  unpack "$k" "$(source_tarball "$k")"
  mkdir -p "$W/$k/obj"
  # The configuration: tinyconfig and our fragment, made with the reference pahole
  # (its version is in it); redone when the fragment changes.
  if ! cmp -s "$here/kernel.config" "$W/$k/obj/.fragment"; then
    log "$k: configuring"
    kmake "$k" "$ref" tinyconfig >/dev/null
    "$W/$k/src/scripts/kconfig/merge_config.sh" -m -O "$W/$k/obj" "$W/$k/obj/.config" "$here/kernel.config" >/dev/null
    kmake "$k" "$ref" olddefconfig >/dev/null
    # Every built-in option must hold; a test module this kernel no longer has is
    # only noted (compare wants at least 5 modules).
    missing=$(grep -o '^CONFIG_[A-Z0-9_]*=y' "$here/kernel.config" | while read -r c; do grep -qx "$c" "$W/$k/obj/.config" || echo "$c"; done)
    [ -z "$missing" ] || { log "$k: not set by Kconfig: $missing"; exit 1; }
    for c in $(grep -o '^CONFIG_[A-Z0-9_]*=m' "$here/kernel.config"); do
      grep -qx "$c" "$W/$k/obj/.config" || log "$k: no module ${c%=m} in this kernel"
    done
    cp "$here/kernel.config" "$W/$k/obj/.fragment"
  fi
  pass "$k" ref "$ref" || continue
  pass "$k" ours "$W/bin/ours/pahole" BTF_PAHOLE_VERSION="$version" || continue
  compare "$k"
  if $boot; then
    boot_check "$k" ref
    boot_check "$k" ours
  fi
  timing "$k"
done

if [ "$failures" -gt 0 ]; then
  echo "kbuild: $failures checks failed"
  exit 1
fi
echo "kbuild: all checks passed"
