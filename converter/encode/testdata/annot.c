/*
 * btf_decl_tag and btf_type_tag in every place pahole encodes them (and a few
 * where it does not). Objects built by gen.sh: annot.clang5.o, annot.clang4.o
 * (DW_TAG_LLVM_annotation children) and annot.gcc16.o (DW_AT_GNU_annotation
 * chains of DW_TAG_GNU_annotation DIEs). The *.pahole*.btf files are pahole's
 * BTF for them, the reference of TestAnnotationsAgainstPahole.
 */
#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __ttag(x) __attribute__((btf_type_tag(x)))
/* pahole encodes only per-CPU variables by default. */
#define __percpu __attribute__((section(".data..percpu")))

/* GCC 16 ignores decl tags of struct and union types (with a warning). */
struct tagged {
	int a __tag("member_a");
	int b __tag("member_b1") __tag("member_b2");
	int __ttag("user") *p __tag("member_p");
	int untagged;
	char __ttag("user") * __ttag("rcu") *pp __tag("member_pp");
	unsigned int bits : 3 __tag("member_bits");
} __tag("struct_tag1") __tag("struct_tag2");

union tagged_u {
	long x __tag("umember_x");
	char y;
} __tag("union_tag");

/* GCC 16 emits no annotation for typedefs. */
typedef int tagged_int __tag("typedef_tag");

/* No compiler annotates parameters of function types (pahole would not read them). */
typedef int (*callback)(int v __tag("callback_param"));

__percpu int __ttag("percpu") __ttag("rcu") *global_ptr __tag("var_tag");
__percpu int tagged_var __tag("var_tag1") __tag("var_tag2");
__percpu static int static_tagged __tag("static_var_tag");
/* GCC: a declaration DIE, and a definition with DW_AT_specification. */
extern int spec_var __tag("spec_decl_side");
__percpu int spec_var __tag("spec_def_side") = 1;

/* Declarations only: no FUNC, so their tags are never encoded. */
extern int ext_func(int a __tag("ext_param")) __tag("ext_func_tag");
/* Declared with a tag, then defined with more. */
int defined_later(int q) __tag("early_decl");

__tag("func_tag") int tagged_func(int x __tag("param_x"),
				  int __ttag("user") *y __tag("param_y1") __tag("param_y2"),
				  struct tagged *t, callback cb)
{
	return x + *y + t->a + static_tagged++ + cb(x);
}

__tag("func_tag_static") static int __attribute__((noinline))
static_func(struct tagged *t, union tagged_u *u, tagged_int z __tag("param_z"))
{
	return t->a + u->y + z;
}

/* Its address is taken: the compilers keep static_func's signature. */
int (*static_func_ptr)(struct tagged *, union tagged_u *, tagged_int) = static_func;

__tag("late_def") int defined_later(int q __tag("late_param"))
{
	static int local_static __tag("local_static_tag") = 5;

	return ext_func(q) + local_static++;
}

int caller(struct tagged *t, union tagged_u *u, int z)
{
	return static_func(t, u, z) + defined_later(z);
}
