/* locktool.c: POSIX record locks (fcntl F_SETLK/F_SETLKW/F_GETLK) from a
 * test guest's shell, with timestamps, for the NFS lock tests. Built
 * static by the test and copied into the UML initramfs (busybox's flock
 * is flock(2), which the NFS client does not send to the server).
 *
 *   locktool hold FILE START LEN MS     lock (write), print LOCKED, hold MS,
 *                                       print UNLOCK_AT <t>, unlock
 *   locktool wait FILE START LEN MS     try; if busy print WAITING, then
 *                                       F_SETLKW; print GOT_AT <t>, hold MS
 *   locktool try FILE START LEN         print GOT or BUSY (and the holder)
 *   locktool test FILE START LEN        F_GETLK: print FREE or HELD
 *   locktool holdfile FILE START LEN PATH   lock (waiting for it if need be),
 *                                       print LOCKED, hold until PATH exists
 *
 * Times are CLOCK_MONOTONIC and CLOCK_REALTIME in microseconds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long usec(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void stamp(const char *what)
{
	printf("%s %lld %lld\n", what, usec(CLOCK_MONOTONIC), usec(CLOCK_REALTIME));
	fflush(stdout);
}

static struct flock range(int type, const char *start, const char *len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	fl.l_start = strtoll(start, NULL, 0);
	fl.l_len = strtoll(len, NULL, 0);
	return fl;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	struct flock fl;
	int fd;

	if (argc < 5) {
		fprintf(stderr, "usage: locktool hold|wait|try|test|holdfile FILE START LEN [MS|PATH]\n");
		return 2;
	}
	fd = open(argv[2], O_RDWR);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	fl = range(F_WRLCK, argv[3], argv[4]);
	if (!strcmp(argv[1], "hold") || !strcmp(argv[1], "holdfile")) {
		if (fcntl(fd, argv[1][4] ? F_SETLKW : F_SETLK, &fl) < 0) {
			printf("LOCK_FAILED %s\n", strerror(errno));
			return 1;
		}
		stamp("LOCKED");
		if (argv[1][4] == 0) {
			sleep_ms(argc > 5 ? atol(argv[5]) : 1000);
		} else {
			while (argc > 5 && access(argv[5], F_OK) < 0)
				sleep_ms(50);
		}
		stamp("UNLOCK_AT");
		fl.l_type = F_UNLCK;
		if (fcntl(fd, F_SETLK, &fl) < 0) {
			printf("UNLOCK_FAILED %s\n", strerror(errno));
			return 1;
		}
		stamp("UNLOCKED");
		return 0;
	}
	if (!strcmp(argv[1], "wait")) {
		if (fcntl(fd, F_SETLK, &fl) == 0) {
			stamp("GOT_AT");
		} else {
			stamp("WAITING");
			if (fcntl(fd, F_SETLKW, &fl) < 0) {
				printf("WAIT_FAILED %s\n", strerror(errno));
				return 1;
			}
			stamp("GOT_AT");
		}
		sleep_ms(argc > 5 ? atol(argv[5]) : 0);
		fl.l_type = F_UNLCK;
		fcntl(fd, F_SETLK, &fl);
		stamp("RELEASED");
		return 0;
	}
	if (!strcmp(argv[1], "try")) {
		if (fcntl(fd, F_SETLK, &fl) == 0) {
			printf("GOT\n");
			return 0;
		}
		printf("BUSY %s\n", strerror(errno));
		return 0;
	}
	if (!strcmp(argv[1], "test")) {
		if (fcntl(fd, F_GETLK, &fl) < 0) {
			printf("GETLK_FAILED %s\n", strerror(errno));
			return 1;
		}
		if (fl.l_type == F_UNLCK)
			printf("FREE\n");
		else
			printf("HELD type=%s start=%lld len=%lld\n", fl.l_type == F_WRLCK ? "write" : "read",
			       (long long)fl.l_start, (long long)fl.l_len);
		return 0;
	}
	fprintf(stderr, "locktool: unknown command %s\n", argv[1]);
	return 2;
}
