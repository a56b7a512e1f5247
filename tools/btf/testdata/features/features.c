// features.c - a fixture that each of pahole's --btf_features changes (build.sh):
// per-CPU variables (var), global variables (global_var), floats (float), a 64-bit
// enum (enum64), a static function with a prototype of its own in other.c
// (consistent_func), functions gcc -O2 clones with an optimized-out parameter
// (optimized_func), kfuncs (decl_tag_kfuncs), and an arena kfunc (attributes).
// tags.c, built by clang, has the decl and type tags (decl_tag, type_tag).
#include "../btf_ids.h"

// Per-CPU variables, placed as the kernel's DEFINE_PER_CPU places them.
struct counters {
	long hits;
	double ratio;
};
__attribute__((section(".data..percpu"))) struct counters pcpu_counters;
__attribute__((section(".data..percpu"))) int pcpu_depth;

int global_limit = 10;
double global_scale = 1.5;
float global_ratio;
static int file_count;

enum wide { WIDE_SMALL = 1, WIDE_BIG = 0x123456789ULL };
enum wide global_mode = WIDE_BIG;

// Another helper with another prototype is in other.c.
static __attribute__((noinline)) int helper(int x)
{
	return x * 3 + global_limit;
}

// unused is never read and k is always 4: gcc -O2 clones it (scaled.constprop.0 or
// scaled.isra.0) without them.
static __attribute__((noinline)) int scaled(struct counters *c, int unused, int k)
{
	return (int)(c->hits * k) + file_count;
}

struct item {
	int id;
	struct item *next;
};

__attribute__((noinline)) struct item *bpf_item_get(struct item *i) { return i->next ? i->next : i; }
__attribute__((noinline)) void bpf_item_put(struct item *i) { i->id = 0; }
// Returns and takes BPF arena pointers: feature attributes marks them.
__attribute__((noinline)) void *bpf_item_arena_map(struct item *i, void *addr)
{
	return (char *)addr + (i ? i->id : 0);
}

SET8_START(item_kfuncs, BTF_SET8_KFUNCS);
ID_FLAGS(bpf_item_get, 1, KF_ACQUIRE);
ID_FLAGS(bpf_item_put, 2, KF_RELEASE | KF_FASTCALL);
ID_FLAGS(bpf_item_arena_map, 3, KF_ARENA_RET | KF_ARENA_ARG2);
SET8_END(item_kfuncs);

int other_entry(long *p);
struct tagged;
int tags_entry(struct tagged *t);

int main(int argc, char **argv)
{
	struct item a = { argc, 0 }, b = { argc + 1, &a };
	long n = argc;
	struct item *i = bpf_item_get(&b);
	bpf_item_put(i);
	n += (long)bpf_item_arena_map(i, argv);
	file_count += argc;
	pcpu_counters.hits = argc;
	pcpu_counters.ratio = global_scale * global_ratio;
	return helper(argc) + scaled(&pcpu_counters, argc, 4) + other_entry(&n) + pcpu_depth +
	       (global_mode == WIDE_BIG) + tags_entry(0) + (argv != 0);
}
