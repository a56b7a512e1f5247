"""The BtfInfo provider."""

BtfInfo = provider(
    doc = """BTF produced for a target: its shards and, after a merge, the final BTF.

A shard is the BTF of one object file (or of one range of compilation units of a big ELF)
plus the function and variable candidates only the linked image can decide on. Merging
shards deduplicates their types, so the order shards are merged in decides type IDs: it is
the link order, the order of compilation units in the linked ELF's .debug_info that pahole
walks. Shards of a target come before the shards of its deps, as Bazel's C++ rules put a
library's objects before its dependencies' on the link line.
""",
    fields = {
        "shards": "depset of File: the shards this target converted itself, in srcs order.",
        "transitive_shards": "depset of File, order \"topological\": this target's shards, " +
                             "then its deps' shards (a target before the targets it depends " +
                             "on, as in a C++ link order). What btf_merge merges.",
        "btf": "File or None: the merged BTF (raw, kernel format) when the target is a merge.",
        "base": "File or None: the base BTF a split BTF continues, or None for standalone BTF.",
    },
)

BtfModulesInfo = provider(
    doc = """Split BTF of kernel modules on one base, one BtfModule action per module.

btf_module gives one entry, btf_modules one per .ko, in srcs order.
""",
    fields = {
        "modules": "list of struct(ko, btf, distilled_base, elf): ko the module's File " +
                   "as given, btf its split BTF (raw), distilled_base the distilled base btf " +
                   "is split on (raw; None unless flags ask for distilled_base, btf is then " +
                   "split on base), elf the copy of ko with .BTF (and .BTF.base) or None " +
                   "when not asked for.",
        "base": "File: the base BTF (raw, or an ELF with .BTF) every module's BTF continues.",
    },
)
