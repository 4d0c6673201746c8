/* netio.c: a static TCP load helper run inside UML guests by the network
 * tests and bench/net_bench.py (busybox nc can neither checksum nor time):
 *   netio send HOST PORT MIB [fast]   connect, send MIB MiB of xorshift data
 *   netio recv PORT [fast]            accept one connection, read to EOF
 * and print "SENT|RECV <bytes> <crc32 hex> <seconds>". `fast` resends one
 * buffer and skips the CRC (throughput only). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static uint32_t table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
}

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill(uint8_t *buf, size_t n, uint64_t *state)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t x = *state;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		*state = x;
		memcpy(buf + i, &x, 8);
	}
}

static int do_send(const char *host, int port, long mib, int fast)
{
	static uint8_t buf[CHUNK];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	uint64_t state = 0x9e3779b97f4a7c15ULL, total = (uint64_t)mib << 20, sent = 0;
	uint32_t crc = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double t0;

	inet_pton(AF_INET, host, &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("netio: connect");
		return 1;
	}
	fill(buf, sizeof(buf), &state);
	t0 = now();
	while (sent < total) {
		size_t n = sizeof(buf), off = 0;

		if (!fast) {
			fill(buf, sizeof(buf), &state);
			crc = crc_update(crc, buf, n);
		}
		while (off < n) {
			ssize_t w = write(fd, buf + off, n - off);

			if (w <= 0) {
				perror("netio: write");
				return 1;
			}
			off += (size_t)w;
		}
		sent += n;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		; /* the peer closes once it has everything */
	printf("SENT %llu %08x %.3f\n", (unsigned long long)sent, crc, now() - t0);
	close(fd);
	return 0;
}

static int do_recv(int port, int fast)
{
	static uint8_t buf[CHUNK];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0), fd;
	uint64_t got = 0;
	uint32_t crc = 0;
	double t0 = 0;
	ssize_t n;

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0) {
		perror("netio: listen");
		return 1;
	}
	printf("LISTENING %d\n", port);
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("netio: accept");
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!got)
			t0 = now();
		if (!fast)
			crc = crc_update(crc, buf, (size_t)n);
		got += (uint64_t)n;
	}
	printf("RECV %llu %08x %.3f\n", (unsigned long long)got, crc, now() - t0);
	close(fd);
	close(lfd);
	return 0;
}

int main(int argc, char **argv)
{
	crc_init();
	if (argc >= 5 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), atol(argv[4]), argc > 5);
	if (argc >= 3 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]), argc > 3);
	fprintf(stderr, "usage: netio send HOST PORT MIB [fast] | netio recv PORT [fast]\n");
	return 2;
}
