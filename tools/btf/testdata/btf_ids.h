// btf_ids.h - the kernel's include/linux/btf_ids.h declarations of kfunc sets, for
// the test fixtures (kfunc.c, features.c): a BTF_SET8 in section .BTF_ids with flag
// BTF_SET8_KFUNCS, one "__BTF_ID__func__<name>__<n>" symbol and one (id, flags) pair per
// function. resolve_btfids would fill in the ids after linking; pahole 1.32
// (decl_tag_kfuncs) reads only the symbols and the flags.
#define KF_ACQUIRE (1 << 0)
#define KF_RELEASE (1 << 1)
#define KF_FASTCALL (1 << 12)
#define KF_ARENA_RET (1 << 13)
#define KF_ARENA_ARG1 (1 << 14)
#define KF_ARENA_ARG2 (1 << 15)
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
