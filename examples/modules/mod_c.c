/* Module c: none of the base's structs, only its base types (uint64_t, float ...). */
#include <stdint.h>

union mod_c_word {
	uint64_t u64;
	uint32_t u32[2];
	float f[2];
};

struct mod_c_ring {
	union mod_c_word slots[16];
	unsigned int head : 4, tail : 4;
	long long stamp;
};

struct mod_c_ring mod_c_rings[2];

long long mod_c_push(struct mod_c_ring *r, union mod_c_word w)
{
	r->slots[r->head++] = w;
	return ++r->stamp;
}
