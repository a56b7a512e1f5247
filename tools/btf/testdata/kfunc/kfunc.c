// kfunc.c - kernel functions callable from BPF (kfuncs), declared the way the kernel's
// include/linux/btf_ids.h declares them (Linux 6.9+; see ../btf_ids.h).
#include "../btf_ids.h"

struct task { int pid; struct task *parent; };

__attribute__((noinline)) struct task *bpf_task_acquire(struct task *t) { return t->parent ? t->parent : t; }
__attribute__((noinline)) void bpf_task_release(struct task *t) { t->pid = 0; }
__attribute__((noinline)) unsigned long bpf_fast_count(const struct task *t, unsigned long n) { return n + (unsigned long)t->pid; }
__attribute__((noinline)) int bpf_plain_helper(struct task *t) { return t->pid * 2; }
__attribute__((noinline)) int bpf_listed_only(struct task *t) { return t->pid + 1; }

SET8_START(generic_kfuncs, BTF_SET8_KFUNCS);
ID_FLAGS(bpf_task_acquire, 1, KF_ACQUIRE);
ID_FLAGS(bpf_task_release, 2, KF_RELEASE);
ID_FLAGS(bpf_fast_count, 3, KF_FASTCALL);
SET8_END(generic_kfuncs);

// A set8 without BTF_SET8_KFUNCS (a plain ID set): its functions are no kfuncs.
SET8_START(plain_set, 0);
ID_FLAGS(bpf_plain_helper, 4, 0);
SET8_END(plain_set);

LIST_ID(bpf_listed_only, 5);

int main(int argc, char **argv)
{
	struct task root = { argc, 0 }, child = { argc + 1, &root };
	struct task *t = bpf_task_acquire(&child);
	unsigned long n = bpf_fast_count(t, (unsigned long)argc);
	int r = bpf_plain_helper(t) + bpf_listed_only(t);
	bpf_task_release(t);
	return (int)n + r + (argv != 0);
}
