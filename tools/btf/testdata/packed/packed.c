/*
 * packed.c - functions taking structs by value past the argument registers, for
 * pahole 1.32's "uncertain parameter location" rule: a function with a parameter at
 * index 6 or more (x86-64; 5 on s390, none on i386) whose type is a named struct
 * that pahole infers to be packed gets no FUNC (converter/encode/packed.go has the
 * rules). build.sh compiles it and runs pahole 1.24 and 1.32 on it.
 */

#ifdef __clang__
#define F __attribute__((noinline))
#else
#define F __attribute__((noipa))
#endif
#define L6 long a1, long a2, long a3, long a4, long a5, long a6
#define S6 (a1 + a2 + a3 + a4 + a5 + a6)

/* A member at an offset its type does not align to: inferred packed. */
struct __attribute__((packed)) pk_off { char c; int i; };
/* Members where they belong, but the size is no multiple of int: inferred packed. */
struct __attribute__((packed)) pk_tail { int i; char c; };
/* Packed, but laid out as if it were not: pahole cannot tell. */
struct __attribute__((packed)) pk_natural { int a; int b; };
/* A hole, and tail padding: not packed. */
struct holey { char c; int i; };
struct padded { int i; char c; };
typedef struct pk_off pk_off_t;
union __attribute__((packed)) pk_union { char c[5]; int i; };

/* The side effect: outer has a hole, so pahole marks the types of its members at
 * unnatural offsets (inner, at 1) packed, for the rest of the unit. */
struct inner { int a; int b; };
struct outer { char c; struct inner in __attribute__((packed)); int x; };

/* DW_AT_alignment: pahole -J ignores it, so al1 is not packed either. */
struct __attribute__((packed, aligned(1))) al1 { int a; int b; };
struct __attribute__((aligned(1))) al1b { int a; int b; };
struct __attribute__((packed, aligned(2))) al2 { int a; int b; };

/* Bitfields. */
struct __attribute__((packed)) pk_bits { char c; int x : 4; };
struct bits { int a : 3; int b : 5; char c; };
struct __attribute__((packed)) pk_bits_span { int a : 28; int b : 8; char c; };
struct bits_ll { char c; unsigned long long x : 40; };
struct __attribute__((packed)) pk_bits_ll { char c; unsigned long long x : 40; short s; };
struct bits_gap { char c; int : 0; char d : 3; long long e : 7; };

/* Nesting: a natural struct inside a packed one; a packed one inside a plain one. */
struct __attribute__((packed)) pk_nest { char c; struct inner in; };
struct wraps { struct pk_off p; char d; };
struct wraps_nat { struct pk_natural p; };

/* Arrays, pointers, enums, unions as members. */
struct __attribute__((packed)) pk_arr { char c; short s[3]; };
struct chars { char c[3]; char d; };
struct __attribute__((packed)) pk_ptr { char c; void *p; };
enum color { RED, GREEN };
struct __attribute__((packed)) pk_enum { char c; enum color e; };
union num { int i; float f; };
struct __attribute__((packed)) pk_unionmem { short s; union num n; };
struct __attribute__((packed)) pk_fnptr { char c; long (*fn)(long); };
typedef const volatile int cvint;
struct __attribute__((packed)) pk_cv { char c; cvint v; };
struct __attribute__((packed)) pk_matrix { char c; int m[2][3]; };
struct __attribute__((packed)) pk_flex { int n; char c; char data[]; };


/* More bitfields: straddling storage units, mixed widths, enums, zero width. */
struct bf_straddle { char a; int b : 20; char c; };
struct bf_mixed { short a : 4; int b : 30; };
struct __attribute__((packed)) pk_bf_mixed { char a : 4; int b : 30; char c; };
struct bf_wide { long long a : 33; int b : 31; char c; };
struct bf_long { char c; long long x : 60; };
struct bf_enum { enum color e : 2; char c; };
struct __attribute__((packed)) pk_bf_enum { char c; enum color e : 9; };
struct __attribute__((packed)) pk_bf_short { char c; short s : 12; char d; };
struct bf_zero { char a : 3; int : 0; char b; };
/* Big enough to go in memory. */
struct __attribute__((packed)) pk_big { char c; long x[3]; };
struct big { char c; long x[3]; };
/* A struct at a natural offset in a struct with a hole marks nothing. */
struct inner2 { int a; int b; };
struct outer2 { char c; struct inner2 in; };
/* A packed struct member at an unnatural offset in a struct without holes. */
struct inner3 { int a; int b; };
struct __attribute__((packed)) outer3 { char c; struct inner3 in; };

/* pahole's integer widths: 256 holes count as none (uint8_t nr_holes), 64 KiB
 * of tail padding as none (uint16_t padding); then the member at offset 2049
 * (1) makes each inferred packed. */
#define P(n) char c##n; int i##n;
#define P4(n) P(n##0) P(n##1) P(n##2) P(n##3)
#define P16(n) P4(n##0) P4(n##1) P4(n##2) P4(n##3)
#define P64(n) P16(n##0) P16(n##1) P16(n##2) P16(n##3)
struct holes256 { P64(a) P64(b) P64(c) P64(d) char x; int y __attribute__((packed)); char tail[3]; };
struct holes255 { P64(a) P64(b) P64(c) P16(d0) P16(d1) P16(d2) P4(d30) P4(d31) P4(d32) P(d330) P(d331) P(d332) char x; int y __attribute__((packed)); char tail[3]; };
struct __attribute__((aligned(131072))) pad64k { char c; int i __attribute__((packed)); char fill[65531]; };

/* Structs past the sixth parameter. */
F long f_pk_off(L6, struct pk_off s) { return S6 + s.c + s.i; }
F long f_pk_tail(L6, struct pk_tail s) { return S6 + s.c + s.i; }
F long f_pk_natural(L6, struct pk_natural s) { return S6 + s.a + s.b; }
F long f_holey(L6, struct holey s) { return S6 + s.c + s.i; }
F long f_padded(L6, struct padded s) { return S6 + s.c + s.i; }
F long f_typedef(L6, pk_off_t s) { return S6 + s.c + s.i; }
F long f_const(L6, const struct pk_off s) { return S6 + s.c + s.i; }
F long f_union(L6, union pk_union u) { return S6 + u.c[4]; }
F long f_ptr(L6, struct pk_off *p) { return S6 + p->c + p->i; }
F long f_ninth(L6, long a7, long a8, struct pk_tail s) { return S6 + a7 + a8 + s.c + s.i; }
F long f_eighth(L6, long a7, struct pk_tail s, long a9) { return S6 + a7 + a9 + s.c + s.i; }
F long f_two(L6, struct holey h, struct pk_off s) { return S6 + h.i + s.c + s.i; }

/* Before the sixth: registers, or pahole does not look. */
F long f_first(struct pk_off s, L6) { return S6 + s.c + s.i; }
F long f_sixth(long a1, long a2, long a3, long a4, long a5, struct pk_off s) { return a1 + a2 + a3 + a4 + a5 + s.c + s.i; }

/* The side effect, in unit order. */
F long f_inner_before(L6, struct inner s) { return S6 + s.a + s.b; }
F long f_outer(L6, struct outer s) { return S6 + s.c + s.in.a + s.x; }
F long f_inner_after(L6, struct inner s) { return S6 + s.a + s.b; }

F long f_al1(L6, struct al1 s) { return S6 + s.a + s.b; }
F long f_al1b(L6, struct al1b s) { return S6 + s.a + s.b; }
F long f_al2(L6, struct al2 s) { return S6 + s.a + s.b; }

F long f_pk_bits(L6, struct pk_bits s) { return S6 + s.c + s.x; }
F long f_bits(L6, struct bits s) { return S6 + s.a + s.b + s.c; }
F long f_pk_bits_span(L6, struct pk_bits_span s) { return S6 + s.a + s.b + s.c; }
F long f_bits_ll(L6, struct bits_ll s) { return S6 + s.c + s.x; }
F long f_pk_bits_ll(L6, struct pk_bits_ll s) { return S6 + s.c + s.x + s.s; }
F long f_bits_gap(L6, struct bits_gap s) { return S6 + s.c + s.d + s.e; }

F long f_pk_nest(L6, struct pk_nest s) { return S6 + s.c + s.in.a; }
F long f_wraps(L6, struct wraps s) { return S6 + s.p.i + s.d; }
F long f_wraps_nat(L6, struct wraps_nat s) { return S6 + s.p.a; }
F long f_pk_arr(L6, struct pk_arr s) { return S6 + s.c + s.s[2]; }
F long f_chars(L6, struct chars s) { return S6 + s.c[2] + s.d; }
F long f_pk_ptr(L6, struct pk_ptr s) { return S6 + s.c + (long)s.p; }
F long f_pk_enum(L6, struct pk_enum s) { return S6 + s.c + s.e; }
F long f_pk_unionmem(L6, struct pk_unionmem s) { return S6 + s.s + s.n.i; }
F long f_pk_fnptr(L6, struct pk_fnptr s) { return S6 + s.c + s.fn(a1); }
F long f_pk_cv(L6, struct pk_cv s) { return S6 + s.c + s.v; }
F long f_pk_matrix(L6, struct pk_matrix s) { return S6 + s.c + s.m[1][2]; }
F long f_pk_flex(L6, struct pk_flex s) { return S6 + s.n + s.c; }

F long f_bf_straddle(L6, struct bf_straddle s) { return S6 + s.a + s.b + s.c; }
F long f_bf_mixed(L6, struct bf_mixed s) { return S6 + s.a + s.b; }
F long f_pk_bf_mixed(L6, struct pk_bf_mixed s) { return S6 + s.a + s.b + s.c; }
F long f_bf_wide(L6, struct bf_wide s) { return S6 + s.a + s.b + s.c; }
F long f_bf_long(L6, struct bf_long s) { return S6 + s.c + s.x; }
F long f_bf_enum(L6, struct bf_enum s) { return S6 + s.e + s.c; }
F long f_pk_bf_enum(L6, struct pk_bf_enum s) { return S6 + s.e + s.c; }
F long f_pk_bf_short(L6, struct pk_bf_short s) { return S6 + s.c + s.s + s.d; }
F long f_bf_zero(L6, struct bf_zero s) { return S6 + s.a + s.b; }
F long f_pk_big(L6, struct pk_big s) { return S6 + s.c + s.x[2]; }
F long f_big(L6, struct big s) { return S6 + s.c + s.x[2]; }
F long f_outer2(L6, struct outer2 s) { return S6 + s.c + s.in.a; }
F long f_inner2(L6, struct inner2 s) { return S6 + s.a + s.b; }
F long f_outer3(L6, struct outer3 s) { return S6 + s.c + s.in.a; }
F long f_inner3(L6, struct inner3 s) { return S6 + s.a + s.b; }

F long f_holes256(L6, struct holes256 s) { return S6 + s.x + s.y; }
F long f_holes255(L6, struct holes255 s) { return S6 + s.x + s.y; }
F long f_pad64k(L6, struct pad64k s) { return S6 + s.c + s.i; }

/* Inlined into main and kept out of line: the out-of-line copy's parameters have
 * their types through DW_AT_abstract_origin. */
long h_pk_off(L6, struct pk_off s) { return S6 + s.c + s.i; }
long h_holey(L6, struct holey s) { return S6 + s.c + s.i; }

volatile long v = 1;

static long id(long x) { return x; }

int main(void)
{
	long a = v, r = 0;
	struct pk_off po = { 1, 2 };
	struct pk_tail pt = { 1, 2 };
	struct pk_natural pn = { 1, 2 };
	struct holey h = { 1, 2 };
	struct padded pd = { 1, 2 };
	union pk_union pu = { { 1 } };
	struct inner in = { 1, 2 };
	struct outer o = { 1, { 2, 3 }, 4 };
	struct al1 s1 = { 1, 2 };
	struct al1b s1b = { 1, 2 };
	struct al2 s2 = { 1, 2 };
	struct pk_bits pb = { 1, 2 };
	struct bits b = { 1, 2, 3 };
	struct pk_bits_span pbs = { 1, 2, 3 };
	struct bits_ll bl = { 1, 2 };
	struct pk_bits_ll pbl = { 1, 2, 3 };
	struct bits_gap bg = { 1, 2, 3 };
	struct pk_nest pne = { 1, { 2, 3 } };
	struct wraps w = { { 1, 2 }, 3 };
	struct wraps_nat wn = { { 1, 2 } };
	struct pk_arr pa = { 1, { 2, 3, 4 } };
	struct chars ch = { { 1, 2, 3 }, 4 };
	struct pk_ptr pp = { 1, &r };
	struct pk_enum pe = { 1, GREEN };
	struct pk_unionmem pum = { 1, { 2 } };
	struct pk_fnptr pf = { 1, id };
	struct pk_cv pcv = { 1, 2 };
	struct pk_matrix pm = { 1, { { 1, 2, 3 }, { 4, 5, 6 } } };
	struct pk_flex pfl = { 1, 2 };
	struct bf_straddle bfs = { 1, 2, 3 };
	struct bf_mixed bfm = { 1, 2 };
	struct pk_bf_mixed pbfm = { 1, 2, 3 };
	struct bf_wide bfw = { 1, 2, 3 };
	struct bf_long bflo = { 1, 2 };
	struct bf_enum bfe = { GREEN, 2 };
	struct pk_bf_enum pbfe = { 1, GREEN };
	struct pk_bf_short pbfsh = { 1, 2, 3 };
	struct bf_zero bfz = { 1, 2 };
	struct pk_big pbig = { 1, { 2, 3, 4 } };
	struct big bg2 = { 1, { 2, 3, 4 } };
	struct outer2 o2 = { 1, { 2, 3 } };
	struct inner2 i2 = { 1, 2 };
	struct outer3 o3 = { 1, { 2, 3 } };
	struct inner3 i3 = { 1, 2 };
	static struct holes256 h256;
	static struct holes255 h255;
	static struct pad64k *volatile p64k; /* not run: no 128 KiB-aligned .bss */

	r += f_pk_off(a, a, a, a, a, a, po);
	r += f_pk_tail(a, a, a, a, a, a, pt);
	r += f_pk_natural(a, a, a, a, a, a, pn);
	r += f_holey(a, a, a, a, a, a, h);
	r += f_padded(a, a, a, a, a, a, pd);
	r += f_typedef(a, a, a, a, a, a, po);
	r += f_const(a, a, a, a, a, a, po);
	r += f_union(a, a, a, a, a, a, pu);
	r += f_ptr(a, a, a, a, a, a, &po);
	r += f_ninth(a, a, a, a, a, a, a, a, pt);
	r += f_eighth(a, a, a, a, a, a, a, pt, a);
	r += f_two(a, a, a, a, a, a, h, po);
	r += f_first(po, a, a, a, a, a, a);
	r += f_sixth(a, a, a, a, a, po);
	r += f_inner_before(a, a, a, a, a, a, in);
	r += f_outer(a, a, a, a, a, a, o);
	r += f_inner_after(a, a, a, a, a, a, in);
	r += f_al1(a, a, a, a, a, a, s1);
	r += f_al1b(a, a, a, a, a, a, s1b);
	r += f_al2(a, a, a, a, a, a, s2);
	r += f_pk_bits(a, a, a, a, a, a, pb);
	r += f_bits(a, a, a, a, a, a, b);
	r += f_pk_bits_span(a, a, a, a, a, a, pbs);
	r += f_bits_ll(a, a, a, a, a, a, bl);
	r += f_pk_bits_ll(a, a, a, a, a, a, pbl);
	r += f_bits_gap(a, a, a, a, a, a, bg);
	r += f_pk_nest(a, a, a, a, a, a, pne);
	r += f_wraps(a, a, a, a, a, a, w);
	r += f_wraps_nat(a, a, a, a, a, a, wn);
	r += f_pk_arr(a, a, a, a, a, a, pa);
	r += f_chars(a, a, a, a, a, a, ch);
	r += f_pk_ptr(a, a, a, a, a, a, pp);
	r += f_pk_enum(a, a, a, a, a, a, pe);
	r += f_pk_unionmem(a, a, a, a, a, a, pum);
	r += f_pk_fnptr(a, a, a, a, a, a, pf);
	r += f_pk_cv(a, a, a, a, a, a, pcv);
	r += f_pk_matrix(a, a, a, a, a, a, pm);
	r += f_pk_flex(a, a, a, a, a, a, pfl);
	r += f_bf_straddle(a, a, a, a, a, a, bfs);
	r += f_bf_mixed(a, a, a, a, a, a, bfm);
	r += f_pk_bf_mixed(a, a, a, a, a, a, pbfm);
	r += f_bf_wide(a, a, a, a, a, a, bfw);
	r += f_bf_long(a, a, a, a, a, a, bflo);
	r += f_bf_enum(a, a, a, a, a, a, bfe);
	r += f_pk_bf_enum(a, a, a, a, a, a, pbfe);
	r += f_pk_bf_short(a, a, a, a, a, a, pbfsh);
	r += f_bf_zero(a, a, a, a, a, a, bfz);
	r += f_pk_big(a, a, a, a, a, a, pbig);
	r += f_big(a, a, a, a, a, a, bg2);
	r += f_outer2(a, a, a, a, a, a, o2);
	r += f_inner2(a, a, a, a, a, a, i2);
	r += f_outer3(a, a, a, a, a, a, o3);
	r += f_inner3(a, a, a, a, a, a, i3);
	r += h_pk_off(a, a, a, a, a, a, po);
	r += h_holey(a, a, a, a, a, a, h);
	r += f_holes256(a, a, a, a, a, a, h256);
	r += f_holes255(a, a, a, a, a, a, h255);
	r += f_pad64k(a, a, a, a, a, a, *p64k);
	return r == 42;
}
