// kfunc.c - kernel functions callable from BPF (kfuncs), declared the way the kernel's
// include/linux/btf_ids.h declares them (Linux 6.9+): a BTF_SET8 in section .BTF_ids
// with flag BTF_SET8_KFUNCS, one "__BTF_ID__func__<name>__<n>" symbol and one
// (id, flags) pair per function. resolve_btfids would fill in the ids after linking;
// pahole 1.32 (decl_tag_kfuncs) reads only the symbols and the flags.
#define KF_ACQUIRE (1 << 0)
#define KF_RELEASE (1 << 1)
#define KF_FASTCALL (1 << 12)
#define BTF_SET8_KFUNCS (1 << 0)

#define STR(x) #x
#define XSTR(x) STR(x)

// set8 header: u32 cnt, u32 flags; the symbol covers the whole set.
#define SET8_START(name, flags)                                                        \
	asm(".pushsection .BTF_ids,\"a\"\n"                                            \
	    ".local __BTF_ID__set8__" #name "\n"                                       \
	    "__BTF_ID__set8__" #name ":\n"                                             \
	    ".zero 4\n"                                                                \
	    ".long " XSTR(flags) "\n"                                                  \
	    ".popsection\n")
#define SET8_END(name)                                                                 \
	asm(".pushsection .BTF_ids,\"a\"\n"                                            \
	    ".size __BTF_ID__set8__" #name ", . - __BTF_ID__set8__" #name "\n"         \
	    ".popsection\n")
// One pair: the 4-byte id (a symbol of its own) and the flags word.
#define ID_FLAGS(name, n, flags)                                                       \
	asm(".pushsection .BTF_ids,\"a\"\n"                                            \
	    ".local __BTF_ID__func__" #name "__" #n "\n"                               \
	    ".type __BTF_ID__func__" #name "__" #n ", STT_OBJECT\n"                    \
	    ".size __BTF_ID__func__" #name "__" #n ", 4\n"                             \
	    "__BTF_ID__func__" #name "__" #n ":\n"                                     \
	    ".zero 4\n"                                                                \
	    ".long " XSTR(flags) "\n"                                                  \
	    ".popsection\n")
// A BTF_ID_LIST entry: an id outside any set8.
#define LIST_ID(name, n)                                                               \
	asm(".pushsection .BTF_ids,\"a\"\n"                                            \
	    ".local __BTF_ID__func__" #name "__" #n "\n"                               \
	    ".type __BTF_ID__func__" #name "__" #n ", STT_OBJECT\n"                    \
	    ".size __BTF_ID__func__" #name "__" #n ", 4\n"                             \
	    "__BTF_ID__func__" #name "__" #n ":\n"                                     \
	    ".zero 4\n"                                                                \
	    ".popsection\n")

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
