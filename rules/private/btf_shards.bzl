"""btf_shards: one BtfConvert action per object file."""

load("@rules_cc//cc/common:cc_common.bzl", "cc_common")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load(":actions.bzl", "OBJECT_EXTENSIONS", "emit_convert", "is_object_file")
load(":providers.bzl", "BtfInfo")

# The C++ rules (cc_library, cc_binary, cc_test) put the object files of their own
# compilation in this output group (pic or non-pic, whichever the toolchain builds for
# libraries); its depset holds only the target's own files, never its deps'.
_OBJECTS_OUTPUT_GROUP = "compilation_outputs"

def _shard_path(ctx, f, suffix):
    # <name>/<path of the input in its workspace>.shard, so that two objects of one
    # target never collide and the shard's name says which object it came from.
    # Inputs of other repositories have short paths starting "../<repo>/".
    path = f.short_path
    if path.startswith("../"):
        path = "external/" + path[len("../"):]
    return "{}/{}{}.shard".format(ctx.label.name, path, suffix)

def _own_objects(src):
    if OutputGroupInfo in src and hasattr(src[OutputGroupInfo], _OBJECTS_OUTPUT_GROUP):
        return getattr(src[OutputGroupInfo], _OBJECTS_OUTPUT_GROUP).to_list()
    return None

_CcDepsInfo = provider(
    doc = "What a C++ target's deps link, for btf_shards(transitive = True).",
    fields = {
        "linker_inputs": "depset of LinkerInput, topological (link order): the deps' " +
                         "libraries, a library before the ones it depends on.",
    },
)

def _cc_deps_aspect_impl(_target, ctx):
    # Reads the deps of one target (no propagation): their CcInfo already holds the whole
    # link closure below them. A cc_binary's own CcInfo does not (it links, it is not
    # linked), which is why btf_shards needs this and cannot just read CcInfo of its srcs.
    deps = getattr(ctx.rule.attr, "deps", None)
    infos = [d[CcInfo] for d in deps if CcInfo in d] if type(deps) == "list" else []
    if not infos:
        return [_CcDepsInfo(linker_inputs = depset(order = "topological"))]
    merged = cc_common.merge_cc_infos(cc_infos = infos)
    return [_CcDepsInfo(linker_inputs = merged.linking_context.linker_inputs)]

_cc_deps_aspect = aspect(
    implementation = _cc_deps_aspect_impl,
    doc = "Collects the linker inputs of a C++ target's deps (see _CcDepsInfo).",
)

def _dep_objects(src):
    """The object files the linker links for src's C++ deps, in link order.

    Each library has pic and/or non-pic objects of the same sources; the pic ones are
    taken when there are any (that is what the compilation_outputs output group holds
    too): the types and functions they describe are the same.
    """
    if _CcDepsInfo not in src:
        return []
    objects = []
    for linker_input in src[_CcDepsInfo].linker_inputs.to_list():
        for lib in linker_input.libraries:
            objects.extend(lib.pic_objects or lib.objects or [])
    return objects

def _files_of(src, want_objects, transitive):
    """The files one src contributes, and whether they came from a C++ compilation.

    Flattened: one action per object means one declared output per object, and outputs can
    only be declared at analysis time. Without transitive, the depset holds this target's
    own objects only (not its deps'), so this costs what the target's srcs list does; with
    transitive, it is the whole link closure, which the merge reads anyway.
    """
    if not want_objects:
        return src[DefaultInfo].files.to_list(), False
    own = _own_objects(src)
    if own == None:
        return src[DefaultInfo].files.to_list(), False
    if not transitive:
        return own, True

    # The target's own objects come first on the link line, then its deps'.
    return own + _dep_objects(src), True

def _btf_shards_impl(ctx):
    split = ctx.attr.split
    if split < 1:
        fail("split must be at least 1, got {}".format(split))
    tool = ctx.attr.tool[DefaultInfo].files_to_run

    inputs = []
    seen = {}
    for src in ctx.attr.srcs:
        files, compiled = _files_of(src, want_objects = split == 1, transitive = ctx.attr.transitive)
        if split == 1:
            objects = [f for f in files if is_object_file(f)]
            if not compiled:
                # Files named directly (or a filegroup of them) must all be objects.
                for f in files:
                    if not is_object_file(f):
                        fail(("srcs: {} is not an object file (want .{}); to convert a " +
                              "linked ELF, set split to the number of CU ranges").format(
                            f.short_path,
                            ", .".join(OBJECT_EXTENSIONS),
                        ))
            if not objects:
                fail("srcs: {} provides no object files (a header-only library?)".format(src.label))
            files = objects
        for f in files:
            if f.path not in seen:
                seen[f.path] = True
                inputs.append(f)

    shards = []
    for f in inputs:
        if split == 1:
            out = ctx.actions.declare_file(_shard_path(ctx, f, ""))
            emit_convert(ctx, tool = tool, src = f, out = out, flags = ctx.attr.flags)
            shards.append(out)
            continue
        for i in range(1, split + 1):
            cus = "{}/{}".format(i, split)
            out = ctx.actions.declare_file(_shard_path(ctx, f, ".{}of{}".format(i, split)))
            emit_convert(ctx, tool = tool, src = f, out = out, cus = cus, flags = ctx.attr.flags)
            shards.append(out)

    direct = depset(shards)
    return [
        DefaultInfo(files = direct),
        BtfInfo(
            shards = direct,
            transitive_shards = depset(
                shards,
                transitive = [d[BtfInfo].transitive_shards for d in ctx.attr.deps],
                order = "topological",
            ),
            btf = None,
            base = None,
        ),
    ]

btf_shards = rule(
    implementation = _btf_shards_impl,
    doc = """Converts the DWARF of object files to BTF shards, one BtfConvert action per object.

Each object (or each CU range, with `split`) becomes `<name>/<path of the object>.shard`.
Objects must be compiled with debug info (`copts = ["-g"]`); pahole-comparable DWARF comes
from the same flags the final binary is built with.

Example:

    cc_library(name = "lib", srcs = ["a.c", "b.c"], copts = ["-g", "-O2"])
    btf_shards(name = "lib_shards", srcs = [":lib"])
""",
    attrs = {
        "srcs": attr.label_list(
            allow_files = True,
            aspects = [_cc_deps_aspect],
            mandatory = True,
            doc = "Object files (`.o`), or C++ targets (cc_library, cc_binary) whose own " +
                  "object files are taken from their `compilation_outputs` output group. " +
                  "Deps of those targets are included only with `transitive`. " +
                  "Shards are merged in this order (the link order). With `split` > 1: " +
                  "linked ELF files (or targets producing them) instead.",
        ),
        "deps": attr.label_list(
            providers = [BtfInfo],
            doc = "Other btf_shards targets whose objects this target's objects are linked " +
                  "before (like a cc_library's deps): their shards follow ours in " +
                  "BtfInfo.transitive_shards.",
        ),
        "transitive": attr.bool(
            default = False,
            doc = "Also convert the objects of the srcs' C++ deps, in link order (from " +
                  "their CcInfo linking context: what the linker links). One btf_shards " +
                  "with transitive over a cc_binary's deps covers the whole program.",
        ),
        "split": attr.int(
            default = 1,
            doc = "1: each src is an object file, one shard each. N > 1: each src is an ELF " +
                  "(e.g. a prebuilt vmlinux) converted by N actions, each taking one of N " +
                  "contiguous ranges of its compilation units (`btf shard --cus i/N`).",
        ),
        "flags": attr.string_list(
            doc = "Extra flags of `btf shard` (see `btf shard -h`).",
        ),
        "tool": attr.label(
            default = Label("//tools/btf"),
            cfg = "exec",
            executable = True,
            doc = "The btf tool.",
        ),
    },
    provides = [BtfInfo],
)
