// SPDX-License-Identifier: GPL-2.0
// btf_extmod.c - the kernel-build test's out-of-tree module: types of its own, types of
// vmlinux it refers to (which a distilled base carries), a function and a parameter.
#include <linux/module.h>
#include <linux/list.h>
#include <linux/slab.h>

struct extmod_item {
	struct list_head node;
	unsigned long value;
	const char *label;
};

static LIST_HEAD(extmod_items);
static unsigned long start_value = 7;
module_param(start_value, ulong, 0444);

static noinline struct extmod_item *extmod_add(unsigned long value, const char *label)
{
	struct extmod_item *it = kzalloc(sizeof(*it), GFP_KERNEL);

	if (!it)
		return NULL;
	it->value = value;
	it->label = label;
	list_add_tail(&it->node, &extmod_items);
	return it;
}

static int __init extmod_init(void)
{
	return extmod_add(start_value, "first") ? 0 : -ENOMEM;
}

static void __exit extmod_exit(void)
{
	struct extmod_item *it, *tmp;

	list_for_each_entry_safe(it, tmp, &extmod_items, node) {
		list_del(&it->node);
		kfree(it);
	}
}

module_init(extmod_init);
module_exit(extmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("rules_btf kernel-build test: an out-of-tree module");
