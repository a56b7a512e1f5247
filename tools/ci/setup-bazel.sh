#!/bin/bash
# setup-bazel.sh - an offline Bazel 7.7.1 with rules_go v0.60.0 and gazelle v0.47.0, for
# building and testing rules_btf on machines that reach only Debian's package mirror and the
# Go module proxy (no Bazel releases, no Bazel Central Registry, no GitHub).
#
# Machines that do reach the BCR need none of this: install Bazel 7 (bazelisk honours
# .bazelversion) and run `bazel test //...`; MODULE.bazel is an ordinary module.
#
# Usage (as root; idempotent, a rerun of a finished setup takes ~10 s):
#   tools/ci/setup-bazel.sh                 # OFFLINE_BAZEL_HOME defaults to /opt/offline-bazel
#   tools/ci/bazel test //...               # uses $OFFLINE_BAZEL_HOME/bin/bazel when it exists
#
# Needs: Go at $GOROOT_HOST (default /usr/local/go), apt (for debootstrap), root (chroot and
# mounts), ~1.6 GB of disk. Takes 1-2 minutes on a fresh machine.
#
# How: Debian sid packages Bazel 7.7.1 (bazel-bootstrap) together with the rule sets Bazel
# itself needs (skylib, platforms, rules_cc, rules_java, bazel_features, rules_license,
# rules_proto, rules_python, rules_shell) under /usr/share/bazel, wired with --override_module
# in its /etc/bazel/bazelrc. Sid's Bazel needs a newer glibc than Debian 12 has, so it runs in
# a debootstrapped sid chroot, in one persistent private mount namespace (nothing is mounted
# on the host). rules_go and gazelle are Go modules, so the Go module proxy serves them.
# Modules that only appear in the module graph (apple_support, protobuf, zlib,
# package_metadata, buildozer) are small local stubs, and an empty local registry makes any
# module nobody overrides fail fast and clearly.
#
# Result:
#   $OFFLINE_BAZEL_HOME/sidroot       Debian sid with bazel-bootstrap 7.7.1 (+ its JDK and gcc)
#   $OFFLINE_BAZEL_HOME/modules       rules_go / gazelle (Go module proxy), stubs, empty registry,
#                                     go_stack.bazelrc (try-imported by our .bazelrc)
#   $OFFLINE_BAZEL_HOME/cache         Bazel's output_user_root (same path inside and outside the
#                                     chroot, so bazel-bin/bazel-out links work on the host)
#   $OFFLINE_BAZEL_HOME/bin/bazel     runs bazel inside the chroot, in the current directory
# The host Go SDK is bind-mounted read-only into the chroot and used through go_sdk.host().
#
# Bazel and everything it runs (actions, tests) live in the chroot: host-only files such as
# /var/cache/rules_btf or the host's pahole are invisible to Bazel actions.
#
# Undo: `bazel shutdown` in each workspace, then
#   umount $OFFLINE_BAZEL_HOME/ns/mnt $OFFLINE_BAZEL_HOME/ns; rm -rf $OFFLINE_BAZEL_HOME
set -euo pipefail

OFFLINE_BAZEL_HOME=${OFFLINE_BAZEL_HOME:-/opt/offline-bazel}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
GOROOT_HOST=${GOROOT_HOST:-/usr/local/go}
RULES_GO_VERSION=${RULES_GO_VERSION:-v0.60.0}
GAZELLE_VERSION=${GAZELLE_VERSION:-v0.47.0}
LINK_BIN=${LINK_BIN:-}   # set to a directory (e.g. /usr/local/bin) to also symlink `bazel` there
# Tools that Bazel tests may use from the chroot (they cannot see the host's): pahole, so that
# the Go tests comparing with pahole run under `bazel test` too (sid's pahole: 1.32).
CHROOT_PACKAGES=${CHROOT_PACKAGES:-pahole}

H=$OFFLINE_BAZEL_HOME
R=$H/sidroot
M=$H/modules
GO=$GOROOT_HOST/bin/go
log() { printf '\n== %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { echo "setup-bazel.sh: run as root" >&2; exit 1; }
[ -x "$GO" ] || { echo "setup-bazel.sh: no Go at $GO" >&2; exit 1; }
mkdir -p "$H"

# ---------------------------------------------------------------- 1. host tools
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap (bookworm)"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
fi

# ---------------------------------------------------------------- 2. sid chroot with bazel 7.7.1
if [ ! -e "$R/.offline-bazel-chroot-done" ]; then
  if [ ! -e "$R/.debootstrap-done" ]; then
    log "debootstrap sid into $R"
    rm -rf "$R"     # leftovers of an interrupted run (nothing is ever mounted here on the host)
    debootstrap --variant=minbase sid "$R" "$DEBIAN_MIRROR"
    touch "$R/.debootstrap-done"
  fi
  # The mirror here serves a frozen snapshot whose Release file is past Valid-Until
  # ("E: Release file ... is expired"); the host apt is configured the same way.
  printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' \
    > "$R/etc/apt/apt.conf.d/99offline-bazel"
  echo "deb $DEBIAN_MIRROR sid main" > "$R/etc/apt/sources.list"
  cp -L /etc/resolv.conf "$R/etc/resolv.conf"
  log "apt-get install bazel-bootstrap bazel-rules-shell (inside the chroot)"
  unshare --mount --propagation private /bin/sh -ec '
    R=$1
    mount -t proc proc "$R/proc"
    mount --rbind /dev "$R/dev"
    mount --rbind /sys "$R/sys"
    chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive /bin/sh -ec "
        apt-get update -q
        apt-get install -y -q --no-install-recommends bazel-bootstrap bazel-rules-shell
        apt-get clean"
  ' _ "$R"
  touch "$R/.offline-bazel-chroot-done"
fi

# ---------------------------------------------------------------- 2b. extra tools in the chroot
missing=()
for p in $CHROOT_PACKAGES; do
  chroot "$R" dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]} (inside the chroot)"
  unshare --mount --propagation private /bin/sh -ec '
    R=$1; shift
    mount -t proc proc "$R/proc"
    mount --rbind /dev "$R/dev"
    mount --rbind /sys "$R/sys"
    cp -L /etc/resolv.conf "$R/etc/resolv.conf"
    chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive /bin/sh -ec "
        apt-get update -q
        apt-get install -y -q --no-install-recommends $*
        apt-get clean"
  ' _ "$R" "${missing[@]}"
fi

# ---------------------------------------------------------------- 3. rules_go + gazelle from the Go module proxy
export GOMODCACHE=$H/gomodcache GOFLAGS=-modcacherw GOTOOLCHAIN=local
mkdir -p "$M"

# Go module zips drop file modes (everything becomes 0644) - restore +x on scripts.
restore_exec_bits() {
  find "$1" -type f ! -path '*/vendor/*' -print0 |
    while IFS= read -r -d '' f; do
      if [ "$(head -c2 "$f")" = '#!' ]; then chmod +x "$f"; fi
    done
}
fetch_module() {  # $1 module path, $2 version, $3 destination
  local dir
  [ "$(cat "$3/.offline-bazel-done" 2>/dev/null)" = "$1@$2" ] && return 0
  log "go mod download $1@$2"
  dir=$("$GO" mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "setup-bazel.sh: go mod download $1@$2 failed" >&2; exit 1; }
  rm -rf "$3.tmp"; cp -r "$dir" "$3.tmp"; chmod -R u+w "$3.tmp"
  restore_exec_bits "$3.tmp"
  if [ "$1" = github.com/bazelbuild/bazel-gazelle ]; then
    # gazelle builds its repository tools with GO111MODULE=off from ./vendor, which release
    # archives contain but module zips do not: recreate it the way gazelle's releaser does
    # (`go mod vendor`, then delete vendor BUILD.bazel files). -e skips tests/go_search, whose
    # example.com imports are test fixtures. vendor/modules.txt must come out identical.
    cp "$3.tmp/vendor/modules.txt" "$H/gazelle-modules.txt.orig"
    (cd "$3.tmp" && "$GO" mod vendor -e 2>/dev/null || true)
    find "$3.tmp/vendor" -name BUILD.bazel -delete
    cmp -s "$H/gazelle-modules.txt.orig" "$3.tmp/vendor/modules.txt" ||
      { echo "setup-bazel.sh: regenerated gazelle vendor/modules.txt differs from the released one" >&2; exit 1; }
  fi
  echo "$1@$2" > "$3.tmp/.offline-bazel-done"
  rm -rf "$3"; mv "$3.tmp" "$3"
}
fetch_module github.com/bazelbuild/rules_go "$RULES_GO_VERSION" "$M/rules_go"
fetch_module github.com/bazelbuild/bazel-gazelle "$GAZELLE_VERSION" "$M/gazelle"

# ---------------------------------------------------------------- 4. stub modules + empty registry
# Modules that something in the graph declares but that are neither packaged by Debian nor
# on the Go proxy. Like Debian's own autopkgtests (debian/tests/cpp-success) we stub
# apple_support, protobuf, buildozer and zlib; package_metadata gets the two files gazelle's
# go_repository and rules_go load.
S=$M/stubs
mkdir -p "$S"/{apple_support,protobuf,buildozer,zlib} "$S"/package_metadata/{providers,rules}
for m in apple_support protobuf; do
  echo "module(name = \"$m\")  # offline stub: never used by this build" > "$S/$m/MODULE.bazel"
  : > "$S/$m/BUILD.bazel"
done
# buildozer: bazel_tools loads @buildozer//:buildozer_binary.bzl for `bazel mod tidy`, and every
# `bazel mod ...` command evaluates that extension. Serve a real buildozer, built from the Go
# module proxy (same buildtools version gazelle pins), as @buildozer_binary//:buildozer.exe.
if [ ! -x "$S/buildozer/buildozer" ]; then
  log "go install buildozer"
  (cd "$H" && CGO_ENABLED=0 GOBIN="$S/buildozer" \
    "$GO" install github.com/bazelbuild/buildtools/buildozer@v0.0.0-20250930140053-2eb4fccefb52)
fi
echo 'module(name = "buildozer")  # offline: buildozer built from the Go module proxy' > "$S/buildozer/MODULE.bazel"
echo 'exports_files(["buildozer"])' > "$S/buildozer/BUILD.bazel"
cat > "$S/buildozer/buildozer_binary.bzl" <<'EOF'
"""Exposes the locally built buildozer as @buildozer_binary//:buildozer.exe."""

def _repo_impl(rctx):
    rctx.symlink(rctx.attr.binary, "buildozer.exe")
    rctx.file("BUILD.bazel", 'exports_files(["buildozer.exe"])\n')

_buildozer_repo = repository_rule(
    implementation = _repo_impl,
    attrs = {"binary": attr.label(allow_single_file = True)},
)

def _ext_impl(_mctx):
    _buildozer_repo(name = "buildozer_binary", binary = Label("//:buildozer"))

buildozer_binary = module_extension(implementation = _ext_impl)
EOF
echo 'module(name = "zlib")  # offline stub: links the system zlib' > "$S/zlib/MODULE.bazel"
cat > "$S/zlib/BUILD.bazel" <<'EOF'
cc_library(name = "zlib", linkopts = ["-lz"], visibility = ["//visibility:public"])
EOF
cat > "$S/package_metadata/MODULE.bazel" <<'EOF'
# Offline stand-in for bazel-contrib/supply-chain's package_metadata module: just what
# gazelle's go_repository (REPO.bazel default_package_metadata) needs.
module(name = "package_metadata", version = "0.0.5")
EOF
: > "$S/package_metadata/BUILD.bazel"; : > "$S/package_metadata/providers/BUILD.bazel"; : > "$S/package_metadata/rules/BUILD.bazel"
cat > "$S/package_metadata/providers/package_metadata_info.bzl" <<'EOF'
"""Stub PackageMetadataInfo provider (same field names as supply-chain's)."""
PackageMetadataInfo = provider(
    doc = "Metadata about a Bazel package (offline stub).",
    fields = ["kind", "files", "metadata", "purl"],
)
EOF
cat > "$S/package_metadata/rules/package_metadata.bzl" <<'EOF'
"""Stub package_metadata rule: records the purl in a small JSON file."""

load("//providers:package_metadata_info.bzl", "PackageMetadataInfo")

def _impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".package-metadata.json")
    ctx.actions.write(out, json.encode({"label": str(ctx.label), "purl": ctx.attr.purl}))
    return [
        DefaultInfo(files = depset([out])),
        PackageMetadataInfo(
            kind = "build.bazel.attribute.package_metadata",
            files = depset([out]),
            metadata = out,
            purl = ctx.attr.purl,
        ),
    ]

_package_metadata = rule(
    implementation = _impl,
    attrs = {
        "purl": attr.string(mandatory = True),
        "attributes": attr.label_list(),
    },
)

def package_metadata(*, name, purl, attributes = [], visibility = None):
    # applicable_licenses = [] keeps REPO.bazel's default_package_metadata from
    # pointing this target at itself (dependency cycle).
    _package_metadata(
        name = name,
        purl = purl,
        attributes = attributes,
        visibility = visibility,
        applicable_licenses = [],
    )
EOF
mkdir -p "$M/registry"; echo '{}' > "$M/registry/bazel_registry.json"

# ---------------------------------------------------------------- 5. bazelrc files
mkdir -p "$H/cache"
# (a) Machine-wide, safe for ANY workspace. Read first: Debian's /etc/bazel/bazelrc try-imports
# it, then adds its own --override_module lines for platforms, rules_java, rules_cc,
# bazel_features, bazel_skylib, rules_license, rules_python, rules_proto -> /usr/share/bazel/...
# Only modules that bazel_tools itself depends on may be overridden here: an override of a
# module missing from a workspace's graph is an error ("the root module specifies overrides
# on nonexistent module(s)").
cat > "$R/etc/bazel.bazelrc" <<EOF
startup --output_user_root=$H/cache
common --override_module=protobuf=$S/protobuf
common --override_module=buildozer=$S/buildozer
common --override_module=zlib=$S/zlib
common --override_module=apple_support=$S/apple_support
# No BCR here: an empty local registry makes any un-overridden module fail fast and clearly.
common --registry=file://$M/registry
# A lockfile written against local overrides is useless elsewhere.
common --lockfile_mode=off
EOF
# Read after Debian's system rc: undo its `build --sandbox_debug` (keeps every sandbox: ~400 MB per build).
echo 'build --nosandbox_debug' > "$R/root/.bazelrc"
# (b) The Go stack, for workspaces that use rules_go: the project's .bazelrc adds
#       try-import <OFFLINE_BAZEL_HOME>/modules/go_stack.bazelrc
#     (a no-op wherever the file does not exist, e.g. on a machine that reaches the BCR).
#     It also maps the repositories of a legacy WORKSPACE build for `--config=workspace`
#     (the project's own rc holds `common:workspace --noenable_bzlmod --enable_workspace`).
D=/usr/share/bazel   # Debian's packaged rule sets, inside the chroot
cat > "$M/go_stack.bazelrc" <<EOF
common --override_module=rules_go=$M/rules_go
common --override_module=gazelle=$M/gazelle
common --override_module=rules_shell=$D/rules/shell
common --override_module=package_metadata=$S/package_metadata
common:workspace --override_repository=io_bazel_rules_go=$M/rules_go
common:workspace --override_repository=bazel_gazelle=$M/gazelle
common:workspace --override_repository=package_metadata=$S/package_metadata
common:workspace --override_repository=bazel_skylib=$D/tools/skylib
common:workspace --override_repository=platforms=$D/tools/platforms
common:workspace --override_repository=bazel_features=$D/tools/features
common:workspace --override_repository=rules_cc=$D/rules/cc
common:workspace --override_repository=rules_java=$D/rules/java
common:workspace --override_repository=rules_license=$D/rules/license
common:workspace --override_repository=rules_proto=$D/rules/proto
common:workspace --override_repository=rules_python=$D/rules/python
common:workspace --override_repository=rules_shell=$D/rules/shell
EOF

# ---------------------------------------------------------------- 6. the wrapper
mkdir -p "$H/bin"
cat > "$H/bin/bazel" <<EOF
#!/bin/bash
# bazel: runs Debian sid's Bazel 7.7.1 inside $R, in the current directory.
# Mounts live in ONE persistent private mount namespace pinned at $H/ns/mnt: nothing is mounted
# into the chroot on the host (an rm -rf of it cannot reach the workspace or Go), and every
# client sees the same mounts as the long-running Bazel server (the client compares
# /proc/<server>/cwd; with one namespace per call it restarts the server every time).
set -euo pipefail
H=$H R=$R M=$M GOH=$GOROOT_HOST NS=$H/ns
EOF
cat >> "$H/bin/bazel" <<'EOF'
[ "$(id -u)" = 0 ] || { echo "bazel wrapper: must run as root (chroot/mount)" >&2; exit 1; }

# Workspace root: nearest ancestor with MODULE.bazel / WORKSPACE(.bazel) / REPO.bazel.
ws=$(pwd -P)
while [ "$ws" != / ] && [ ! -e "$ws/MODULE.bazel" ] && [ ! -e "$ws/WORKSPACE" ] \
      && [ ! -e "$ws/WORKSPACE.bazel" ] && [ ! -e "$ws/REPO.bazel" ]; do ws=$(dirname "$ws"); done
[ "$ws" = / ] && ws=$(pwd -P)
# Mount the whole source tree the workspace is in (the top of its git checkout), so that a
# nested workspace (e2e/smoke with local_path_override(path = "../..")) sees its parent.
top=$ws
while [ "$top" != / ] && [ ! -e "$top/.git" ]; do top=$(dirname "$top"); done
[ "$top" = / ] && top=$ws

if ! { [ -e "$NS/mnt" ] && nsenter --mount="$NS/mnt" true 2>/dev/null; }; then
  mkdir -p "$NS"
  mountpoint -q "$NS" || mount --bind "$NS" "$NS"
  mount --make-private "$NS"
  touch "$NS/mnt"
  unshare --mount="$NS/mnt" --propagation private true
fi

# Idempotent mounts inside the namespace (same absolute paths as on the host).
nsenter --mount="$NS/mnt" /bin/sh -ec '
  R=$1 H=$2 M=$3 GOH=$4 WS=$5
  mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
  mountpoint -q "$R/dev"  || mount --rbind /dev "$R/dev"
  mountpoint -q "$R/sys"  || mount --rbind /sys "$R/sys"
  if ! mountpoint -q "$R/usr/local/go"; then
    mkdir -p "$R/usr/local/go"; mount --bind "$GOH" "$R/usr/local/go"; mount -o remount,bind,ro "$R/usr/local/go"
  fi
  # A bind mount outlives the directory it shows: a checkout deleted and cloned again at the
  # same path (CI does this) would leave the chroot on the deleted tree, and Bazel fails
  # with getcwd() errors. Rebind unless the chroot shows the very directory the host has.
  for d in "$M" "$H/cache" "$WS"; do
    if mountpoint -q "$R$d"; then
      [ "$(stat -c %d:%i "$d")" = "$(stat -c %d:%i "$R$d")" ] && [ "$(stat -c %h "$R$d")" != 0 ] && continue
      umount -l "$R$d"
    fi
    mkdir -p "$R$d"; mount --bind "$d" "$R$d"
  done
  cp -L /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
  # Host CA bundle (it includes the egress-proxy CA) for go mod download inside the chroot.
  mkdir -p "$R/etc/ssl/certs"
  cp -L /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
' _ "$R" "$H" "$M" "$GOH" "$top"

envs=(PATH=/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root LANG=C.UTF-8 "TERM=${TERM:-dumb}")
for v in GOPROXY GOSUMDB GONOSUMDB GOPRIVATE GONOPROXY GOFLAGS GO_REPOSITORY_USE_HOST_CACHE CI; do
  [ -n "${!v:-}" ] && envs+=("$v=${!v}")
done
exec nsenter --mount="$NS/mnt" chroot "$R" /usr/bin/env -i "${envs[@]}" \
  /bin/sh -c 'cd "$0" && exec /usr/bin/bazel "$@"' "$(pwd -P)" "$@"
EOF
chmod +x "$H/bin/bazel"
if [ -n "$LINK_BIN" ]; then ln -sf "$H/bin/bazel" "$LINK_BIN/bazel"; fi

# ---------------------------------------------------------------- 7. smoke test
log "smoke test"
mkdir -p "$H/smoke"
echo 'module(name = "smoke")' > "$H/smoke/MODULE.bazel"
echo 'genrule(name = "hello", outs = ["hello.txt"], cmd = "echo hello > $@")' > "$H/smoke/BUILD.bazel"
(cd "$H/smoke" && "$H/bin/bazel" build //:hello && "$H/bin/bazel" shutdown)
grep -q hello "$H/smoke/bazel-bin/hello.txt"
echo "OK: $H/bin/bazel works (bazel-bootstrap $(chroot "$R" dpkg-query -W -f '${Version}' bazel-bootstrap))" >&2
if [ "$H" != /opt/offline-bazel ]; then
  # rules_btf's .bazelrc try-imports the default location only.
  echo "note: OFFLINE_BAZEL_HOME is not the default: put the line" >&2
  echo "  try-import $M/go_stack.bazelrc" >&2
  echo "into user.bazelrc at the root of each workspace that uses rules_go." >&2
fi
