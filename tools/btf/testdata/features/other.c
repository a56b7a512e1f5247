// other.c - the second CU of the features fixture: helper with another prototype
// than features.c's.
static __attribute__((noinline)) long helper(long *p)
{
	return *p + 1;
}

int other_entry(long *p)
{
	return (int)helper(p);
}
