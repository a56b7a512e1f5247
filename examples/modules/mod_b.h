#ifndef RULES_BTF_EXAMPLE_MOD_B_H
#define RULES_BTF_EXAMPLE_MOD_B_H

#include "examples/c/types.h"

struct mod_b_dev;

struct mod_b_dev *mod_b_first(void);
int mod_b_count(const struct mod_b_dev *d);
u32_t mod_b_hash(const struct mod_b_dev *d, u32_t seed);
int mod_b_walk(struct mod_b_dev *d, int (*visit)(struct mod_b_dev *));

#endif
