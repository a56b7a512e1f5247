"""Public API of rules_btf: rules that turn DWARF into BTF, one shard per object file.

    load("@rules_btf//rules:defs.bzl", "BtfInfo", "btf_merge", "btf_module", "btf_shards")
"""

load("//rules/private:btf_merge.bzl", _btf_merge = "btf_merge")
load("//rules/private:btf_module.bzl", _btf_module = "btf_module", _btf_modules = "btf_modules")
load("//rules/private:btf_shards.bzl", _btf_shards = "btf_shards")
load("//rules/private:providers.bzl", _BtfInfo = "BtfInfo", _BtfModulesInfo = "BtfModulesInfo")

BtfInfo = _BtfInfo
BtfModulesInfo = _BtfModulesInfo
btf_shards = _btf_shards
btf_merge = _btf_merge
btf_module = _btf_module
btf_modules = _btf_modules
