/* uml_blkio.c: block I/O load for a guest with only busybox (built -static,
 * run inside User Mode Linux by bench/blk_bench.py), all O_DIRECT:
 *   uml_blkio randread DEVICE SECONDS DEPTH   4 KiB random reads, Linux AIO
 *   uml_blkio write|read DEVICE MIB           sequential 1 MiB, prints MB/s */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define BS 4096

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sequential(const char *dev, int write_mode, long mib)
{
	int fd = open(dev, (write_mode ? O_WRONLY : O_RDONLY) | O_DIRECT);
	size_t chunk = 1 << 20;
	char *buf;
	double start;

	if (fd < 0 || posix_memalign((void **)&buf, BS, chunk)) {
		perror("open");
		return 1;
	}
	for (size_t i = 0; i < chunk; i++)
		buf[i] = (char)i;
	start = now();
	for (long i = 0; i < mib; i++) {
		ssize_t n = write_mode ? pwrite(fd, buf, chunk, (off_t)i * (off_t)chunk)
				       : pread(fd, buf, chunk, (off_t)i * (off_t)chunk);
		if (n != (ssize_t)chunk) {
			perror("io");
			return 1;
		}
	}
	printf("%s_MBS %.1f\n", write_mode ? "WRITE" : "READ", mib / (now() - start));
	return 0;
}

static int random_reads(const char *dev, double secs, int depth)
{
	int fd = open(dev, O_RDONLY | O_DIRECT);
	double start;
	uint64_t size = 0, blocks, done = 0;
	aio_context_t ctx = 0;
	struct iocb *cbs = calloc(depth, sizeof(*cbs));
	struct io_event ev[64];
	char *buf;

	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0 || syscall(SYS_io_setup, depth, &ctx) < 0 ||
	    posix_memalign((void **)&buf, BS, (size_t)BS * depth)) {
		perror("setup");
		return 1;
	}
	blocks = size / BS;
	for (int i = 0; i < depth; i++) {
		struct iocb *cb = &cbs[i], *list[1] = { cb };

		cb->aio_fildes = fd;
		cb->aio_lio_opcode = IOCB_CMD_PREAD;
		cb->aio_buf = (uint64_t)(uintptr_t)(buf + (size_t)i * BS);
		cb->aio_nbytes = BS;
		cb->aio_offset = (int64_t)(next_rand() % blocks) * BS;
		syscall(SYS_io_submit, ctx, 1, list);
	}
	start = now();
	while (now() - start < secs) {
		long n = syscall(SYS_io_getevents, ctx, 1, 64, ev, NULL);

		for (long i = 0; i < n; i++) {
			struct iocb *cb = (struct iocb *)(uintptr_t)ev[i].obj, *list[1] = { cb };

			done++;
			cb->aio_offset = (int64_t)(next_rand() % blocks) * BS;
			syscall(SYS_io_submit, ctx, 1, list);
		}
	}
	printf("IOPS %.0f\n", done / (now() - start));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "randread"))
		return random_reads(argv[2], atof(argv[3]), atoi(argv[4]));
	if (argc == 4 && (!strcmp(argv[1], "write") || !strcmp(argv[1], "read")))
		return sequential(argv[2], argv[1][0] == 'w', atol(argv[3]));
	fprintf(stderr, "usage: uml_blkio randread DEV SECONDS DEPTH | write|read DEV MIB\n");
	return 2;
}
