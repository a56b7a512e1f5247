/* Fixture for converter/encode and converter/dwarf tests. Build with ./gen.sh. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef unsigned int u32;
typedef u32 my_u32;
typedef my_u32 chain_u32;

struct declared_only;
union declared_union;

enum small { SMALL_NEG = -2, SMALL_ZERO = 0, SMALL_POS = 7 };
enum big { BIG_ONE = 1, BIG_HUGE = 0x123456789abcdefULL };
enum bigneg { BIGNEG_MIN = -0x7fffffffffffffffLL - 1, BIGNEG_ONE = 1 };

struct bits {
	unsigned int a : 3;
	unsigned int b : 5;
	int c : 7;
	unsigned long long d : 40;
	unsigned char e;
	bool f : 1;
	enum small g : 4;
	chain_u32 h : 9;
};

struct outer {
	int kind;
	union {
		struct {
			short x, y;
		};
		struct {
			long long big;
			char tag[3];
		} named;
		unsigned int raw;
	};
	struct {
		const volatile char *restrict p;
	};
	int (*callback)(struct outer *self, const char *fmt, ...);
	void (*noargs)(void);
	float f;
	double d;
	long double ld;
	_Float128 q;
	__int128 i128;
	unsigned __int128 u128;
#ifndef NO_COMPLEX /* pahole --btf_gen_floats rejects complex types */
	_Complex double cd;
#endif
	char matrix[2][3][4];
	int zero[0];
	struct declared_only *opaque;
	union declared_union *opaque_u;
	struct bits bits;
	size_t flex[];
};

__attribute__((section(".data..percpu"))) struct outer percpu_outer;
__attribute__((section(".data..percpu"))) static int percpu_counter;
int global_array[5][7];
static const char *static_names[] = { "a", "b" };
extern int extern_only;
_Bool bool_var = 1;
signed char schar_var;
unsigned char uchar_var;
char char_var;
wchar_t wchar_var;

int sum_ints(int n, ...)
{
	va_list ap;
	int s = 0;

	va_start(ap, n);
	while (n-- > 0)
		s += va_arg(ap, int);
	va_end(ap);
	return s + extern_only;
}

static int __attribute__((noinline)) local_helper(struct outer *o, my_u32 v)
{
	struct in_function { int a; long b; } tmp = { o->kind, v };
	typedef struct in_function in_function_t;
	in_function_t copy = tmp;
	static int calls;

	calls++;
	return copy.a + (int)copy.b + calls + percpu_counter;
}

static inline int inlined_twice(int x) { return x * 2 + static_names[0][0]; }

int use_all(struct outer *o, struct bits *b, enum big e, enum bigneg n)
{
	return local_helper(o, b->h) + inlined_twice(b->a) + (int)e + (int)n + global_array[1][2];
}

void unnamed_param(int);
void unnamed_param(int x) { (void)x; }

void (*get_handler(void))(int) { return unnamed_param; }
