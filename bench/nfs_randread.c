/* nfs_randread.c: one NFS client for bench/nfs_bench.py: opens a file over
 * NFSv3 with libnfs and issues 4 KiB READs at random 4 KiB-aligned offsets,
 * one at a time, for a fixed time; prints the number of READs completed.
 * usage: nfs_randread URL SECONDS SEED  (URL: nfs://host/export/file?version=3) */
#include <sys/time.h>
#include <nfsc/libnfs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s URL SECONDS SEED\n", argv[0]);
		return 2;
	}
	struct nfs_context *nfs = nfs_init_context();
	struct nfs_url *url = nfs ? nfs_parse_url_full(nfs, argv[1]) : NULL;
	if (!url) {
		fprintf(stderr, "nfs_randread: bad URL %s: %s\n", argv[1], nfs ? nfs_get_error(nfs) : "");
		return 1;
	}
	struct nfsfh *fh;
	struct nfs_stat_64 st;
	if (nfs_mount(nfs, url->server, url->path) || nfs_open(nfs, url->file, O_RDONLY, &fh) ||
	    nfs_fstat64(nfs, fh, &st)) {
		fprintf(stderr, "nfs_randread: %s\n", nfs_get_error(nfs));
		return 1;
	}
	uint64_t blocks = st.nfs_size / 4096, ops = 0;
	if (!blocks)
		return 1;
	unsigned seed = (unsigned)atoi(argv[3]);
	double end = now() + atof(argv[2]);
	char buf[4096];
	while (now() < end) {
		uint64_t blk = ((uint64_t)rand_r(&seed) << 16 ^ (uint64_t)rand_r(&seed)) % blocks;
		if (nfs_pread(nfs, fh, blk * 4096, sizeof(buf), buf) != (int)sizeof(buf)) {
			fprintf(stderr, "nfs_randread: read failed: %s\n", nfs_get_error(nfs));
			return 1;
		}
		ops++;
	}
	printf("%llu\n", (unsigned long long)ops);
	nfs_close(nfs, fh);
	nfs_destroy_url(url);
	nfs_destroy_context(nfs);
	return 0;
}
