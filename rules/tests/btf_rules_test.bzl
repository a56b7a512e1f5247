"""Analysis tests of btf_shards and btf_merge: actions, argv, outputs, BtfInfo, failures."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules:defs.bzl", "BtfInfo", "BtfModulesInfo")

# ---------------------------------------------------------------- helpers

def _actions(env, mnemonic):
    return [a for a in analysistest.target_actions(env) if a.mnemonic == mnemonic]

def _one_action(env, mnemonic):
    actions = _actions(env, mnemonic)
    asserts.equals(env, 1, len(actions), "number of {} actions".format(mnemonic))
    return actions[0] if actions else None

def _basenames(files):
    return [f.basename for f in files]

def _assert_tool(env, action):
    # argv[0] is the btf tool built for the exec configuration.
    asserts.true(
        env,
        action.argv[0].endswith("tools/btf/btf_/btf") and "-exec" in action.argv[0],
        "argv[0] should be //tools/btf in the exec configuration, got " + action.argv[0],
    )

def _shard_path(target, src):
    # Where btf_shards puts the shard of src: <package>/<name>/<src short path>.shard.
    return "{}/{}/{}.shard".format(target.label.package, target.label.name, src.short_path)

# ---------------------------------------------------------------- btf_shards over a cc_library

def _shards_of_cc_library_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    actions = _actions(env, "BtfConvert")
    asserts.equals(env, 2, len(actions), "one BtfConvert action per object of x.c and y.c")

    shards = []
    for a in actions:
        _assert_tool(env, a)
        srcs = [f for f in a.inputs.to_list() if f.extension == "o"]
        asserts.equals(env, 1, len(srcs), "one object input per action")
        src = srcs[0]
        asserts.equals(env, 1, len(a.outputs.to_list()))
        out = a.outputs.to_list()[0]
        asserts.equals(env, _shard_path(target, src), out.short_path)
        asserts.equals(env, ["shard", "-o", out.path, "--btf_gen_floats", src.path], a.argv[1:])
        shards.append(out)
    asserts.equals(
        env,
        ["x.pic.o.shard", "y.pic.o.shard"] if shards and shards[0].basename.endswith(".pic.o.shard") else ["x.o.shard", "y.o.shard"],
        _basenames(shards),
        "actions in srcs order",
    )

    info = target[BtfInfo]
    asserts.equals(env, shards, info.shards.to_list(), "BtfInfo.shards: this target's shards, in order")
    asserts.equals(env, shards, info.transitive_shards.to_list(), "no deps: transitive == direct")
    asserts.equals(env, None, info.btf)
    asserts.equals(env, None, info.base)
    asserts.equals(env, shards, target[DefaultInfo].files.to_list())
    return analysistest.end(env)

shards_of_cc_library_test = analysistest.make(_shards_of_cc_library_test_impl)

# ---------------------------------------------------------------- plain .o files, and deps

def _shards_of_objects_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    actions = _actions(env, "BtfConvert")
    asserts.equals(env, ["p.o", "q.o"], [[f.basename for f in a.inputs.to_list() if f.extension == "o"][0] for a in actions])
    own = target[BtfInfo].shards.to_list()
    asserts.equals(env, ["p.o.shard", "q.o.shard"], _basenames(own))

    # Link order: this target's objects, then its deps' (x, y of :lib), then theirs.
    asserts.equals(
        env,
        ["p.o.shard", "q.o.shard", "x", "y", "r.o.shard"],
        [b.split(".")[0] if b.startswith(("x.", "y.")) else b for b in _basenames(target[BtfInfo].transitive_shards.to_list())],
        "transitive_shards in link order",
    )
    return analysistest.end(env)

shards_of_objects_test = analysistest.make(_shards_of_objects_test_impl)

# ---------------------------------------------------------------- transitive: the link closure

def _stem(f):
    return f.basename.split(".")[0]

def _transitive_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    actions = _actions(env, "BtfConvert")
    asserts.equals(env, ctx.attr.want, [_stem(a.outputs.to_list()[0]) for a in actions], "one action per object, in link order")
    asserts.equals(env, ctx.attr.want, [_stem(f) for f in target[BtfInfo].shards.to_list()], "BtfInfo.shards in link order")
    return analysistest.end(env)

transitive_test = analysistest.make(
    _transitive_test_impl,
    attrs = {"want": attr.string_list(doc = "Source file stems of the shards, in order.")},
)

# ---------------------------------------------------------------- split: CU ranges of one ELF

def _split_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    actions = _actions(env, "BtfConvert")
    asserts.equals(env, 3, len(actions), "one action per CU range")
    for i, a in enumerate(actions):
        out = a.outputs.to_list()[0]
        elf = [f for f in a.inputs.to_list() if f.basename == "big.elf"]
        asserts.equals(env, 1, len(elf))
        asserts.equals(env, "big.elf.{}of3.shard".format(i + 1), out.basename)
        asserts.equals(
            env,
            ["shard", "-o", out.path, "--cus", "{}/3".format(i + 1), elf[0].path],
            a.argv[1:],
        )
    asserts.equals(env, 3, len(target[BtfInfo].shards.to_list()))
    return analysistest.end(env)

split_test = analysistest.make(_split_test_impl)

# ---------------------------------------------------------------- btf_merge

def _merge_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    asserts.equals(env, 0, len(_actions(env, "BtfConvert")), "a merge converts nothing itself")
    a = _one_action(env, "BtfMerge")
    if not a:
        return analysistest.end(env)
    _assert_tool(env, a)

    out = a.outputs.to_list()
    asserts.equals(env, ["merge_subject.btf"], _basenames(out))
    info = target[BtfInfo]
    shards = info.transitive_shards.to_list()
    names = [b.split(".")[0] if b.startswith(("x.", "y.")) else b for b in _basenames(shards)]
    asserts.equals(env, ["p.o.shard", "q.o.shard", "x", "y", "r.o.shard", "s.o.shard"], names, "deps in order, each in link order")

    # argv as the tool sees it: all of it from the params
    # file (analysis tests see it expanded).
    elf = [f for f in a.inputs.to_list() if f.basename == "big.elf"]
    base = [f for f in a.inputs.to_list() if f.basename == "base.btf"]
    asserts.equals(env, 1, len(elf), "the ELF is an input")
    asserts.equals(env, 1, len(base), "the base is an input")
    if elf and base:
        asserts.equals(
            env,
            ["merge", "-o", out[0].path, "--elf", elf[0].path, "--base", base[0].path, "--compat", "1.24"] +
            [s.path for s in shards],
            a.argv[1:],
        )
    inputs = a.inputs.to_list()
    for s in shards:
        asserts.true(env, s in inputs, "shard {} is an input".format(s.short_path))

    asserts.equals(env, out[0], info.btf)
    asserts.equals(env, base[0] if base else None, info.base)
    asserts.equals(env, [], info.shards.to_list())
    asserts.equals(env, out, target[DefaultInfo].files.to_list())
    return analysistest.end(env)

merge_test = analysistest.make(_merge_test_impl)

# ---------------------------------------------------------------- failures

def _failure_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

failure_test = analysistest.make(
    _failure_test_impl,
    expect_failure = True,
    attrs = {"message": attr.string(mandatory = True, doc = "A fragment of the expected error.")},
)

# ---------------------------------------------------------------- btf_modules, btf_module

def _tool_args(env, a):
    """The btf tool's arguments of a BtfModule action, without the output flags.

    argv is [tool, verb, -o, OUT, args...], or [tool, verb, -o, OUT, --elf-out, ELF_OUT,
    args...] when the .ko copy is written too (in the same run). Returns
    struct(verb, outs, args, elf).
    """
    argv = a.argv
    _assert_tool(env, a)
    asserts.equals(env, "-o", argv[2])
    if len(argv) > 5 and argv[4] == "--elf-out":
        return struct(verb = argv[1], outs = [argv[3], argv[5]], args = argv[6:], elf = True)
    return struct(verb = argv[1], outs = argv[3:4], args = argv[4:], elf = False)

def _modules_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    actions = _actions(env, "BtfModule")
    asserts.equals(env, len(ctx.attr.kos), len(actions), "one BtfModule action per module")
    asserts.equals(env, 0, len(_actions(env, "BtfConvert")), "encode: nothing converted apart")
    info = target[BtfModulesInfo]
    asserts.equals(env, "base.btf", info.base.basename)
    asserts.equals(env, len(ctx.attr.kos), len(info.modules))

    want_btf = []
    want_elf = []
    for i, a in enumerate(actions):
        if i >= len(info.modules):
            break
        m = info.modules[i]
        ko = ctx.attr.kos[i]
        asserts.equals(env, ko, m.ko.short_path[len(target.label.package) + 1:], "modules in srcs order")
        stem = ko[:-len(".ko")]
        asserts.equals(env, "{}/{}/{}.btf".format(target.label.package, target.label.name, stem), m.btf.short_path)
        asserts.equals(env, "{}/{}/{}".format(target.label.package, target.label.name, ko), m.elf.short_path)
        asserts.equals(env, sorted([m.btf.path, m.elf.path]), sorted([f.path for f in a.outputs.to_list()]))
        asserts.equals(env, sorted([m.ko.path, info.base.path]), sorted([f.path for f in a.inputs.to_list() if f.extension in ("ko", "btf")]))

        t = _tool_args(env, a)
        asserts.true(env, t.elf, "elf_output: the same run writes the .ko copy")
        asserts.equals(env, "encode", t.verb)
        asserts.equals(env, [m.btf.path, m.elf.path], t.outs)
        asserts.equals(env, ["--base", info.base.path, "--btf_gen_floats", m.ko.path], t.args)
        want_btf.append(m.btf)
        want_elf.append(m.elf)

    asserts.equals(env, want_btf + want_elf, target[DefaultInfo].files.to_list())
    asserts.equals(env, want_btf, target[OutputGroupInfo].btf.to_list())
    asserts.equals(env, want_elf, target[OutputGroupInfo].elf.to_list())
    asserts.false(env, BtfInfo in target, "btf_modules has no single BTF")
    return analysistest.end(env)

modules_test = analysistest.make(
    _modules_test_impl,
    attrs = {"kos": attr.string_list(doc = "The .ko paths in the package, in srcs order.")},
)

def _distilled_modules_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    actions = _actions(env, "BtfModule")
    info = target[BtfModulesInfo]
    asserts.equals(env, 2, len(actions), "one BtfModule action per module")
    asserts.equals(env, 2, len(info.modules))
    bases = []
    for i, a in enumerate(actions):
        if i >= len(info.modules):
            break
        m = info.modules[i]
        stem = m.ko.basename[:-len(".ko")]
        asserts.true(env, m.distilled_base != None, "flags ask for distilled_base")
        if not m.distilled_base:
            continue
        asserts.equals(env, "{}/{}/mods/{}.base.btf".format(target.label.package, target.label.name, stem), m.distilled_base.short_path)
        asserts.equals(env, sorted([m.btf.path, m.distilled_base.path, m.elf.path]), sorted([f.path for f in a.outputs.to_list()]))
        asserts.equals(env, [a.argv[1], "-o", m.btf.path, "--elf-out", m.elf.path, "--base-out", m.distilled_base.path], a.argv[1:8])
        bases.append(m.distilled_base)
    asserts.equals(env, bases, target[OutputGroupInfo].distilled_base.to_list())
    asserts.equals(env, [m.btf for m in info.modules] + bases + [m.elf for m in info.modules], target[DefaultInfo].files.to_list())
    return analysistest.end(env)

distilled_modules_test = analysistest.make(_distilled_modules_test_impl)

def _no_distill_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    for m in target[BtfModulesInfo].modules:
        asserts.equals(env, None, m.distilled_base, "a later --btf_features without distilled_base wins")
    for a in _actions(env, "BtfModule"):
        asserts.false(env, "--base-out" in a.argv, "no --base-out")
    asserts.equals(env, [], target[OutputGroupInfo].distilled_base.to_list())
    return analysistest.end(env)

no_distill_test = analysistest.make(_no_distill_test_impl)

def _module_of_shards_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    a = _one_action(env, "BtfModule")
    if not a:
        return analysistest.end(env)
    info = target[BtfInfo]
    base = [f for f in a.inputs.to_list() if f.basename == "base_merge_subject.btf"]
    asserts.equals(env, 1, len(base), "the base is the btf_merge target's BTF")
    asserts.equals(env, base[0] if base else None, info.base)
    asserts.equals(env, "module_subject/mods/m1.btf", info.btf.short_path[len(target.label.package) + 1:])
    asserts.equals(env, [info.btf], a.outputs.to_list(), "raw only: no .ko copy")

    shards = info.transitive_shards.to_list()
    asserts.equals(env, 5, len(shards), "the deps' shards, in link order")
    t = _tool_args(env, a)
    asserts.false(env, t.elf, "raw only: no --elf-out")
    asserts.equals(env, "merge", t.verb)
    asserts.equals(env, [info.btf.path], t.outs)
    ko = [f for f in a.inputs.to_list() if f.basename == "m1.ko"]
    asserts.equals(env, 1, len(ko))
    if ko and base:
        asserts.equals(env, ["--elf", ko[0].path, "--base", base[0].path] + [s.path for s in shards], t.args)
    inputs = a.inputs.to_list()
    for s in shards:
        asserts.true(env, s in inputs, "shard {} is an input".format(s.short_path))
    m = target[BtfModulesInfo].modules
    asserts.equals(env, 1, len(m))
    if m:
        asserts.equals(env, None, m[0].elf)
        asserts.equals(env, info.btf, m[0].btf)
    asserts.equals(env, [info.btf], target[DefaultInfo].files.to_list())
    return analysistest.end(env)

module_of_shards_test = analysistest.make(_module_of_shards_test_impl)
