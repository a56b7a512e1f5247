"""btf_module, btf_modules: split BTF of kernel modules on a base, one BtfModule action each."""

load(":actions.bzl", "emit_module")
load(":providers.bzl", "BtfInfo", "BtfModulesInfo")

_KO_EXTENSION = "ko"

def _resolve_base(base):
    """The base BTF file of a `base` attribute: a btf_merge target's BTF, or one file.

    Args:
      base: Target of the `base` attribute, or None.

    Returns:
      File.
    """
    if base == None:
        # Checked here rather than with mandatory = True: a missing base is then an
        # analysis error with this text, not a loading error of the whole package.
        fail("base is required: split BTF of a module continues a base BTF (vmlinux's); " +
             "set base to a btf_merge target or a file")
    if BtfInfo in base:
        info = base[BtfInfo]
        if info.btf == None:
            fail(("base: {} has no merged BTF (BtfInfo.btf is None, a btf_shards " +
                  "target?): use a btf_merge target or a file").format(base.label))
        if info.base != None:
            fail(("base: {} is split BTF itself (on {}); a module's base must be " +
                  "standalone BTF such as vmlinux's").format(base.label, info.base.short_path))
        return info.btf
    files = base[DefaultInfo].files.to_list()
    if len(files) != 1:
        fail("base: {} must be one file (raw BTF, or an ELF with .BTF), it has {}".format(
            base.label,
            len(files),
        ))
    return files[0]

def _module_path(ctx, ko):
    # The .ko's path in its package (or, for other packages and repositories, in its
    # workspace), so that modules of one btf_modules target never collide.
    path = ko.short_path
    if path.startswith("../"):
        path = "external/" + path[len("../"):]
    elif ctx.label.package and path.startswith(ctx.label.package + "/"):
        path = path[len(ctx.label.package) + 1:]
    return path

def _distilled(flags):
    """Whether flags ask for a distilled base: pahole's feature distilled_base.

    Args:
      flags: list of strings, the `flags` attribute.

    Returns:
      bool. The last --btf_features flag decides, as in the btf tool.
    """
    wanted = False
    for f in flags:
        if f.startswith("--btf_features="):
            wanted = "distilled_base" in f[len("--btf_features="):].split(",")
    return wanted

def _declare_module(ctx, *, tool, ko, base, prefix, shards = None):
    path = _module_path(ctx, ko)
    stem = path[:-len("." + _KO_EXTENSION)] if path.endswith("." + _KO_EXTENSION) else path
    out = ctx.actions.declare_file("{}/{}.btf".format(prefix, stem))
    elf_out = ctx.actions.declare_file("{}/{}".format(prefix, path)) if ctx.attr.elf_output else None
    distilled_base = None
    if _distilled(ctx.attr.flags):
        distilled_base = ctx.actions.declare_file("{}/{}.base.btf".format(prefix, stem))
    emit_module(
        ctx,
        tool = tool,
        ko = ko,
        base = base,
        out = out,
        elf_out = elf_out,
        distilled_base = distilled_base,
        shards = shards,
        flags = ctx.attr.flags,
    )
    return struct(ko = ko, btf = out, distilled_base = distilled_base, elf = elf_out)

def _outputs(modules, base):
    btfs = [m.btf for m in modules]
    bases = [m.distilled_base for m in modules if m.distilled_base]
    elfs = [m.elf for m in modules if m.elf]
    return [
        DefaultInfo(files = depset(btfs + bases + elfs)),
        OutputGroupInfo(
            btf = depset(btfs),
            distilled_base = depset(bases),
            elf = depset(elfs),
        ),
        BtfModulesInfo(modules = modules, base = base),
    ]

def _btf_module_impl(ctx):
    base = _resolve_base(ctx.attr.base)
    ko = ctx.file.ko
    shards = None
    if ctx.attr.deps:
        shards = depset(
            transitive = [d[BtfInfo].transitive_shards for d in ctx.attr.deps],
            order = "topological",
        )
    module = _declare_module(
        ctx,
        tool = ctx.attr.tool[DefaultInfo].files_to_run,
        ko = ko,
        base = base,
        prefix = ctx.label.name,
        shards = shards,
    )
    return _outputs([module], base) + [BtfInfo(
        shards = depset(),
        transitive_shards = shards if shards != None else depset(),
        btf = module.btf,
        base = base,
    )]

def _btf_modules_impl(ctx):
    base = _resolve_base(ctx.attr.base)
    tool = ctx.attr.tool[DefaultInfo].files_to_run
    modules = []
    seen = {}
    for src in ctx.attr.srcs:
        # Flattened: one action per module needs one declared output per module, known
        # at analysis time. The list is what srcs names, not a transitive closure.
        # allow_files has made sure that each src has at least one .ko.
        for ko in [f for f in src[DefaultInfo].files.to_list() if f.extension == _KO_EXTENSION]:
            path = _module_path(ctx, ko)
            if path in seen:
                if seen[path] == ko.path:
                    continue
                fail("srcs: two modules at {}: {} and {}".format(path, seen[path], ko.path))
            seen[path] = ko.path
            modules.append(_declare_module(ctx, tool = tool, ko = ko, base = base, prefix = ctx.label.name))
    return _outputs(modules, base)

_COMMON_ATTRS = {
    "base": attr.label(
        allow_files = True,
        doc = "Required. The base BTF the modules' BTF continues (vmlinux's): a btf_merge target " +
              "(its BtfInfo.btf), or one file, raw BTF or an ELF with a .BTF section.",
    ),
    "elf_output": attr.bool(
        default = False,
        doc = "Also write a copy of each .ko with a .BTF section holding its split BTF " +
              "(added, or replaced if there is one), as the kernel build does.",
    ),
    "flags": attr.string_list(
        doc = "Extra flags of `btf encode` (of `btf merge` with deps), e.g. " +
              "`--btf_gen_floats`; the base must have been built with the same ones. " +
              "With `--btf_features=...,distilled_base` each module's BTF is split on a " +
              "distilled base, written as `<module>.base.btf` (and as .BTF.base in the " +
              "`elf_output` copy), as pahole does for out-of-tree modules.",
    ),
    "tool": attr.label(
        default = Label("//tools/btf"),
        cfg = "exec",
        executable = True,
        doc = "The btf tool.",
    ),
}

btf_module = rule(
    implementation = _btf_module_impl,
    doc = """Split BTF of one kernel module on a base (vmlinux's), in one BtfModule action.

Writes `<name>/<module>.btf` (raw split BTF: type IDs and strings continue the base's)
and, with `elf_output`, `<name>/<module>.ko`, the module with .BTF.

Without `deps` the action converts the DWARF of the linked module (`btf encode --base`).
With `deps`, btf_shards targets of the module's objects (one BtfConvert action each), it
merges their shards and takes FUNCs from the module's symbol table (`btf merge --elf
--base`): the same BTF, with the objects' conversions cached separately.

BtfModule actions may run in a persistent worker (`btf --persistent_worker`), which
reads the base once for all the modules it converts; the output is the same as from a
process per module (`--strategy=BtfModule=sandboxed`).

Example:

    btf_merge(name = "vmlinux_btf", deps = [":vmlinux_shards"], elf = ":vmlinux")
    btf_shards(name = "foo_shards", srcs = [":foo_objects"])
    btf_module(name = "foo_btf", ko = ":foo.ko", deps = [":foo_shards"], base = ":vmlinux_btf")
""",
    attrs = dict(_COMMON_ATTRS, **{
        "ko": attr.label(
            allow_single_file = [".ko", ".o"],
            mandatory = True,
            doc = "The linked module: an ET_REL ELF, as `ld -r` makes it.",
        ),
        "deps": attr.label_list(
            providers = [BtfInfo],
            doc = "btf_shards targets of the module's objects, in link order. Empty: " +
                  "convert the DWARF of `ko` itself.",
        ),
    }),
    provides = [BtfInfo, BtfModulesInfo],
)

btf_modules = rule(
    implementation = _btf_modules_impl,
    doc = """Split BTF of many kernel modules on one base, one BtfModule action per module.

For each `.ko` in srcs, writes `<name>/<path of the .ko in its package, without .ko>.btf`
and, with `elf_output`, `<name>/<path of the .ko>` with .BTF. Output groups `btf` and
`elf` hold each kind alone. As for btf_module, the actions may run in a persistent
worker that keeps the base between modules.

Example, a directory of prebuilt modules:

    btf_modules(name = "modules_btf", srcs = glob(["**/*.ko"]), base = "vmlinux")
""",
    attrs = dict(_COMMON_ATTRS, **{
        "srcs": attr.label_list(
            allow_files = [".ko"],
            mandatory = True,
            doc = "The modules: .ko files, or targets whose outputs include .ko files " +
                  "(other outputs are ignored).",
        ),
    }),
    provides = [BtfModulesInfo],
)
