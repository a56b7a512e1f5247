// libbpf_dedup runs libbpf's btf__dedup on a raw BTF file, for the differential tests
// in libbpf_test.go. It declares the few libbpf functions it needs itself, so only the
// shared library is required (Debian 12: package libbpf1, libbpf 1.1):
//
//	gcc -O2 -o /tmp/libbpf_dedup testdata/libbpf_dedup.c -l:libbpf.so.1
//	LIBBPF_DEDUP=/tmp/libbpf_dedup go test -run Libbpf ./converter/dedup
//
// Built the same way against libbpf 1.7.0 (Debian sid's libbpf1, e.g. inside the
// sid chroot of tools/ci/setup-bazel.sh) and named by LIBBPF170_DEDUP, it checks
// Options{Libbpf170: true}; from outside the chroot, name a wrapper script that
// copies IN (and BASE) into the chroot, runs the helper there and copies OUT back.
//
// Usage: libbpf_dedup IN OUT [BASE]. IN is raw BTF (split on the raw BTF file BASE if
// given); OUT receives the deduplicated raw BTF (split part only); the type count,
// base included, is printed.
#include <stdio.h>

struct btf;
struct btf *btf__parse_raw(const char *path);
struct btf *btf__parse_raw_split(const char *path, struct btf *base_btf);
int btf__dedup(struct btf *btf, const void *opts);
unsigned btf__type_cnt(const struct btf *btf);
const void *btf__raw_data(const struct btf *btf, unsigned *size);

int main(int argc, char **argv)
{
	struct btf *base = NULL, *btf;
	const void *data;
	unsigned size;
	FILE *f;
	int err;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s IN OUT [BASE]\n", argv[0]);
		return 2;
	}
	if (argc == 4) {
		base = btf__parse_raw(argv[3]);
		if (!base) {
			perror(argv[3]);
			return 1;
		}
	}
	btf = base ? btf__parse_raw_split(argv[1], base) : btf__parse_raw(argv[1]);
	if (!btf) {
		perror(argv[1]);
		return 1;
	}
	err = btf__dedup(btf, NULL);
	if (err) {
		fprintf(stderr, "btf__dedup: %d\n", err);
		return 1;
	}
	data = btf__raw_data(btf, &size);
	f = fopen(argv[2], "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
		perror(argv[2]);
		return 1;
	}
	printf("%u\n", btf__type_cnt(btf));
	return 0;
}
