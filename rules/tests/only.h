/* A header-only library: no object files. */
#define ONLY_A_MACRO 1
