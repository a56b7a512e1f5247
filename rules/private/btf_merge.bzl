"""btf_merge: all shards of a binary in link order -> one BTF (one BtfMerge action)."""

load(":actions.bzl", "emit_merge")
load(":providers.bzl", "BtfInfo")

def _btf_merge_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".btf")
    shards = depset(
        transitive = [d[BtfInfo].transitive_shards for d in ctx.attr.deps],
        order = "topological",
    )
    emit_merge(
        ctx,
        tool = ctx.attr.tool[DefaultInfo].files_to_run,
        shards = shards,
        out = out,
        elf = ctx.file.elf,
        base = ctx.file.base,
        flags = ctx.attr.flags,
    )
    return [
        DefaultInfo(files = depset([out])),
        BtfInfo(
            shards = depset(),
            transitive_shards = shards,
            btf = out,
            base = ctx.file.base,
        ),
    ]

btf_merge = rule(
    implementation = _btf_merge_impl,
    doc = """Merges BTF shards into one BTF blob (raw, kernel format): `<name>.btf`.

Types are deduplicated with the semantics of libbpf's btf__dedup, in link order (deps in
order, each with its transitive shards). With `elf`, the result is finalized against the
linked binary as pahole does: FUNCs for the functions its symbol table has, VARs and a
DATASEC for its per-CPU variables.

Example:

    btf_merge(name = "prog_btf", deps = [":lib_shards"], elf = ":prog")
""",
    attrs = {
        "deps": attr.label_list(
            providers = [BtfInfo],
            mandatory = True,
            doc = "btf_shards targets, in link order.",
        ),
        "elf": attr.label(
            allow_single_file = True,
            doc = "The linked ELF (e.g. a cc_binary) the shards' objects went into. " +
                  "Without it the result has the types of the shards but no FUNC or VAR.",
        ),
        "base": attr.label(
            allow_single_file = True,
            doc = "Base BTF (e.g. vmlinux's) for split BTF, as for a kernel module.",
        ),
        "flags": attr.string_list(
            doc = "Extra flags of `btf merge` (see `btf merge -h`).",
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
