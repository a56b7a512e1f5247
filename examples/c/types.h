/* Types shared by the example's translation units: each .c file's DWARF describes them
 * again, and the merge must deduplicate them back to one copy. */
#ifndef RULES_BTF_EXAMPLE_TYPES_H
#define RULES_BTF_EXAMPLE_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Declared here, defined only in b.c: a.c's DWARF has just a declaration (BTF FWD) that
 * the merge resolves to b.c's definition. */
struct opaque;

/* A typedef chain ending in a qualified base type. */
typedef unsigned int u32_t;
typedef u32_t id_t2;
typedef const id_t2 cid_t;

/* Function pointer types, one returning a pointer to a function. */
typedef int (*cmp_fn)(const void *a, const void *b);
typedef void (*handler_fn)(int sig, void *ctx);
typedef handler_fn (*lookup_fn)(const char *name);

/* Enums: negative values, and a 64-bit one (BTF ENUM64). */
enum color { COLOR_NEG = -5, COLOR_ZERO = 0, COLOR_POS = 7 };
enum big { BIG_SMALL = 1, BIG_HUGE = 0x100000000ULL, BIG_TOP = 0xffffffffffffffffULL };
enum signed_big { SBIG_MIN = -0x7fffffffffffffffLL - 1, SBIG_ONE = 1 };

/* Bitfields, including one crossing a byte boundary and a zero-width one. */
struct flags {
	unsigned int ready : 1;
	unsigned int mode : 3;
	int delta : 5;
	unsigned int : 0;
	unsigned long long wide : 40;
	enum color color : 4;
};

/* Nested anonymous structs and unions, and a named nested struct. */
struct packet {
	uint16_t len;
	union {
		struct {
			uint8_t type;
			uint8_t code;
		};
		uint16_t raw;
		struct inner {
			uint8_t a : 4, b : 4;
		} nibbles;
	};
	struct {
		union {
			uint32_t addr4;
			uint8_t addr6[16];
		};
		uint16_t port;
	} peer;
	cid_t id;
	volatile int *restrict counter;
	const char *const name;
};

/* A flexible array member. */
struct buffer {
	size_t len;
	struct flags flags;
	unsigned char data[];
};

/* Multi-dimensional arrays, an array of function pointers, and a self-referencing list. */
struct table {
	int grid[3][4];
	double weights[2][2][2];
	float scale;
	_Bool enabled;
	cmp_fn compare;
	handler_fn handlers[4];
	lookup_fn lookup;
	struct table *next;
	struct opaque *priv;
};

/* A packed, over-aligned struct. */
struct __attribute__((packed)) wire {
	uint8_t tag;
	uint32_t value;
	uint64_t stamp;
};

struct __attribute__((aligned(64))) cacheline {
	long counter;
};

/* Defined in a.c. */
int table_sum(const struct table *t);
size_t buffer_fill(struct buffer *b, unsigned char v, size_t n);
long percpu_add(long v);
int log_all(const char *fmt, ...);

/* Defined in b.c. */
struct opaque *opaque_new(int size);
int opaque_size(const struct opaque *o);
int packet_checksum(const struct packet *p, const struct wire *w);
enum big big_pick(int i);

#endif
