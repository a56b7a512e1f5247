"""Actions that run the btf tool (//tools/btf), kept apart from the rules that use them."""

# Execution requirements, one constant per reason.

# Both actions are functions of their inputs' bytes and their flags alone (the tool reads
# no clock, no environment, nothing of the host), and their outputs do not depend on the
# configuration part of input paths. So Bazel may rewrite those paths
# (--experimental_output_paths=strip) and share cache entries between configurations
# that produced the same objects. Without that flag this changes nothing.
PATH_MAPPING_EXECUTION_REQUIREMENTS = {
    "supports-path-mapping": "1",
}

# Every action of these rules may run in a persistent worker (`btf
# --persistent_worker`, Bazel's JSON protocol). For a module it keeps the base BTF,
# read and prepared for the dedup, across modules, which is most of a small module's
# cost in a fresh process. For a conversion or a merge it saves the process start and
# new memory: the heap a request leaves is reused by the next, where a first touch of a
# page costs tens of microseconds (a VM). A cold build of vmlinux in 7 shards took 0.7 to
# 0.9 s less with BtfConvert in workers, and up to 1.3 s less again with BtfMerge. A
# merge worker keeps its heap (a vmlinux merge: about 350 MB) until the Go runtime gives
# it back, within minutes of idleness. A worker needs the whole command line in one
# params file, the action's last argument. Bazel falls back to plain processes where
# workers are off (--strategy, remote execution); the output is the same either way.
WORKER_EXECUTION_REQUIREMENTS = PATH_MAPPING_EXECUTION_REQUIREMENTS | {
    "requires-worker-protocol": "json",
    "supports-workers": "1",
}

# Extensions of the relocatable object files Bazel's C++ rules produce (and
# precompiled objects users list in srcs). Anything else in a target's outputs is not
# an object of that target's own compilation (headers, archives, .d files ...).
OBJECT_EXTENSIONS = ["o", "obj"]

def is_object_file(f):
    """Whether f is a relocatable object file, judged by its name (foo.o, foo.pic.o).

    Args:
      f: File.

    Returns:
      bool.
    """
    return f.extension in OBJECT_EXTENSIONS

def _check_args(what, args):
    for a in args:
        if type(a) != "string":
            fail("{}: flags must be strings, got {}".format(what, type(a)))

def emit_convert(ctx, *, tool, src, out, cus = None, flags = []):
    """Declares one BtfConvert action: `btf shard -o OUT [--cus i/N] [flags] SRC`.

    The command line goes through a params file, so that the action can run in a
    persistent worker (WORKER_EXECUTION_REQUIREMENTS).

    Args:
      ctx: the rule context.
      tool: FilesToRunProvider of the btf tool.
      src: File, the object file (or ELF) to convert.
      out: File, the shard to write.
      cus: optional string "i/N": convert only the i-th of N ranges of compilation units.
      flags: list of strings, extra flags of `btf shard`.
    """
    if not src or not out:
        fail("emit_convert: src and out are required")
    _check_args("emit_convert", flags)

    # Everything, the verb included, goes through the params file, for the worker.
    args = ctx.actions.args()
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add("shard")
    args.add("-o", out)
    if cus:
        args.add("--cus", cus)
    args.add_all(flags)
    args.add(src)

    ctx.actions.run(
        executable = tool,
        arguments = [args],
        inputs = [src],
        outputs = [out],
        mnemonic = "BtfConvert",
        progress_message = "Converting DWARF of %{input} to BTF" + (" (CUs {})".format(cus) if cus else ""),
        execution_requirements = WORKER_EXECUTION_REQUIREMENTS,
        toolchain = None,
    )

def emit_merge(ctx, *, tool, shards, out, elf = None, base = None, flags = []):
    """Declares one BtfMerge action: `btf merge -o OUT [--elf ELF] [--base BASE] [flags] SHARD...`.

    The command line goes through a params file (one argument per line): a kernel has
    thousands of shards, more than a command line holds, and a persistent worker
    (WORKER_EXECUTION_REQUIREMENTS) takes its arguments from one.

    Args:
      ctx: the rule context.
      tool: FilesToRunProvider of the btf tool.
      shards: depset of File, the shards in link order. Not flattened here.
      out: File, the BTF to write.
      elf: optional File, the linked ELF to finalize against.
      base: optional File, the base BTF for split BTF.
      flags: list of strings, extra flags of `btf merge`.
    """
    if not out:
        fail("emit_merge: out is required")
    if type(shards) != "depset":
        fail("emit_merge: shards must be a depset, got {}".format(type(shards)))
    _check_args("emit_merge", flags)

    args = ctx.actions.args()
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add("merge")
    args.add("-o", out)
    direct = []
    if elf:
        args.add("--elf", elf)
        direct.append(elf)
    if base:
        args.add("--base", base)
        direct.append(base)
    args.add_all(flags)
    args.add_all(shards)

    ctx.actions.run(
        executable = tool,
        arguments = [args],
        inputs = depset(direct, transitive = [shards]),
        outputs = [out],
        mnemonic = "BtfMerge",
        progress_message = "Merging BTF shards into %{output}",
        execution_requirements = WORKER_EXECUTION_REQUIREMENTS,
        toolchain = None,
    )

def emit_module(ctx, *, tool, ko, base, out, elf_out = None, distilled_base = None, shards = None, flags = []):
    """Declares one BtfModule action: split BTF of one kernel module on a base.

    Without shards: `btf encode -o OUT --base BASE [flags] KO` converts the module's DWARF
    in one process. With shards (the module's objects, converted by btf_shards):
    `btf merge -o OUT --elf KO --base BASE [flags] SHARD...` merges them and chooses FUNCs
    from the module's symbol table. The whole command line goes through a params file,
    so that the action can run in a persistent worker (WORKER_EXECUTION_REQUIREMENTS).

    With elf_out, the same run also writes a copy of KO with a .BTF section holding that
    BTF (`--elf-out`), as the kernel build does after linking a module.

    With distilled_base (flags then ask for `--btf_features=...,distilled_base`), out is
    split BTF on a distilled base that the same run writes to distilled_base
    (`--base-out`), and elf_out gets it as .BTF.base, as pahole does for out-of-tree
    modules.

    Args:
      ctx: the rule context.
      tool: FilesToRunProvider of the btf tool.
      ko: File, the linked module (ET_REL ELF).
      base: File, the base BTF (raw, or an ELF with .BTF).
      out: File, the split BTF to write (raw).
      elf_out: optional File, the copy of ko with .BTF to write.
      distilled_base: optional File, the distilled base BTF to write (raw).
      shards: optional depset of File, the module's shards in link order. Not flattened.
      flags: list of strings, extra flags of `btf encode` or `btf merge`.
    """
    if not ko or not base or not out:
        fail("emit_module: ko, base and out are required")
    if shards != None and type(shards) != "depset":
        fail("emit_module: shards must be a depset, got {}".format(type(shards)))
    _check_args("emit_module", flags)

    # Everything, the verb included, goes through the params file: a worker takes
    # its requests that way (WORKER_EXECUTION_REQUIREMENTS).
    args = ctx.actions.args()
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add("merge" if shards != None else "encode")
    args.add("-o", out)
    outputs = [out]
    if elf_out:
        args.add("--elf-out", elf_out)
        outputs.append(elf_out)
    if distilled_base:
        args.add("--base-out", distilled_base)
        outputs.append(distilled_base)
    if shards != None:
        args.add("--elf", ko)
        args.add("--base", base)
        args.add_all(flags)
        args.add_all(shards)
        inputs = depset([ko, base], transitive = [shards])
    else:
        args.add("--base", base)
        args.add_all(flags)
        args.add(ko)
        inputs = depset([ko, base])

    ctx.actions.run(
        executable = tool,
        arguments = [args],
        inputs = inputs,
        outputs = outputs,
        mnemonic = "BtfModule",
        progress_message = "Generating split BTF of module %{label}: " + ko.short_path,
        execution_requirements = WORKER_EXECUTION_REQUIREMENTS,
        toolchain = None,
    )
