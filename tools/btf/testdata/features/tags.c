// tags.c - the features fixture's CU built by clang, whose DWARF carries
// btf_decl_tag and btf_type_tag annotations (features decl_tag, type_tag).
#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user __attribute__((btf_type_tag("user")))

struct tagged {
	int a __tag("field_tag");
	char __user *buf;
} __tag("struct_tag");

int tagged_global __tag("var_tag") = 3;

__tag("func_tag") __attribute__((noinline)) int tags_entry(struct tagged *t __tag("param_tag"))
{
	return t ? t->a + (t->buf != 0) : tagged_global;
}
