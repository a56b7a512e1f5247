// dedup - libbpf's btf__dedup on raw BTF files appended, timed: the peer of `btf merge`
// in bench/merge.sh.
//
//   dedup [-o OUT] FILE...
//
// Reads each FILE as raw BTF (btf__parse_raw), appends them in order to one empty BTF
// (btf__add_btf: types renumbered, strings merged), deduplicates the result once
// (btf__dedup, no .BTF.ext) and, with -o, writes it as raw BTF. This is what pahole does
// with the per-thread BTF of its encoders before writing. It prints, for bench/lib.sh:
//
//   bench-metric read_s   S   parsing the files
//   bench-metric append_s S   btf__add_btf of all of them
//   bench-metric dedup_s  S   btf__dedup alone (wall clock)
//   bench-metric dedup_cpu_s S  CPU of this process during btf__dedup
//   types IN OUT              type counts before and after
//
// Build: cc -O2 -o dedup dedup.c $(pkg-config --cflags --libs libbpf)  (Debian: libbpf-dev)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

static double now(clockid_t clock) {
	struct timespec ts;
	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path, int err) {
	fprintf(stderr, "dedup: %s %s: %s\n", what, path ? path : "", strerror(err < 0 ? -err : err));
	exit(1);
}

int main(int argc, char **argv) {
	const char *out = NULL;
	int c;
	while ((c = getopt(argc, argv, "o:")) != -1) {
		if (c != 'o') {
			fprintf(stderr, "usage: dedup [-o OUT] FILE...\n");
			return 2;
		}
		out = optarg;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: dedup [-o OUT] FILE...\n");
		return 2;
	}
	int nfiles = argc - optind;
	struct btf **in = calloc(nfiles, sizeof(*in));
	if (!in)
		die("calloc", NULL, ENOMEM);

	double t0 = now(CLOCK_MONOTONIC);
	for (int i = 0; i < nfiles; i++) {
		in[i] = btf__parse_raw(argv[optind + i]);
		if (!in[i])
			die("reading", argv[optind + i], errno);
	}
	double t1 = now(CLOCK_MONOTONIC);
	struct btf *btf = btf__new_empty();
	if (!btf)
		die("btf__new_empty", NULL, errno);
	for (int i = 0; i < nfiles; i++) {
		int err = btf__add_btf(btf, in[i]);
		if (err < 0)
			die("appending", argv[optind + i], err);
		btf__free(in[i]);
	}
	double t2 = now(CLOCK_MONOTONIC);
	unsigned before = btf__type_cnt(btf) - 1;

	double c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	double t3 = now(CLOCK_MONOTONIC);
	int err = btf__dedup(btf, NULL);
	double t4 = now(CLOCK_MONOTONIC);
	double c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	if (err)
		die("btf__dedup", NULL, err);

	if (out) {
		__u32 size;
		const void *raw = btf__raw_data(btf, &size);
		if (!raw)
			die("btf__raw_data", NULL, errno);
		FILE *f = fopen(out, "wb");
		if (!f || fwrite(raw, 1, size, f) != size || fclose(f))
			die("writing", out, errno);
	}
	printf("bench-metric read_s %.3f\n", t1 - t0);
	printf("bench-metric append_s %.3f\n", t2 - t1);
	printf("bench-metric dedup_s %.3f\n", t4 - t3);
	printf("bench-metric dedup_cpu_s %.3f\n", c1 - c0);
	printf("types %u %u\n", before, btf__type_cnt(btf) - 1);
	btf__free(btf);
	free(in);
	return 0;
}
