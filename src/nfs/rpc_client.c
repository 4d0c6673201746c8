/* rpc_client.c: blocking RPC calls over UDP or TCP, and the port-mapper
 * calls built on them. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "nfs/rpc_client.h"
#include "nfs/rpc_record.h"

#define CLIENT_MAX_REPLY ((size_t)1 << 20)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t new_xid(void)
{
	uint32_t x;

	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x))
		x = (uint32_t)now_ms() ^ (uint32_t)getpid();
	return x;
}

static int wait_fd(int fd, short ev, long deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	long left = deadline - now_ms();
	int n;

	if (left <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	n = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
	if (n < 0)
		return -1;
	return n; /* 0: a second passed */
}

static int take_results(const uint8_t *msg, size_t len, uint32_t xid, struct xdr_enc *res)
{
	struct xdr_dec d;

	xdr_dec_init(&d, msg, len);
	if (rpc_decode_reply(&d, xid) != RPC_SUCCESS) {
		errno = EPROTO;
		return -1;
	}
	if (res) {
		size_t left = xdr_dec_left(&d);
		uint8_t *p = xdr_reserve(res, left);

		if (!p && left) {
			errno = EMSGSIZE;
			return -1;
		}
		if (left)
			memcpy(p, d.buf + d.pos, left);
	}
	return 1;
}

static int call_udp(int fd, const struct xdr_enc *msg, uint32_t xid, struct xdr_enc *res,
		    long deadline)
{
	uint8_t *buf = malloc(65536);
	int rc = -1;

	if (!buf)
		return -1;
	while (rc < 0) {
		if (send(fd, msg->buf + 4, msg->len - 4, MSG_NOSIGNAL) < 0)
			break;
		for (;;) {
			int w = wait_fd(fd, POLLIN, deadline);
			ssize_t n;

			if (w <= 0) {
				if (w < 0)
					goto out;
				break; /* retransmit */
			}
			n = recv(fd, buf, 65536, 0);
			if (n < 0)
				goto out;
			if (take_results(buf, (size_t)n, xid, res) > 0) {
				rc = 0;
				break;
			}
			/* A stale or foreign datagram: keep waiting. */
		}
	}
out:
	free(buf);
	return rc;
}

static int read_full(int fd, uint8_t *buf, size_t len, long deadline)
{
	while (len) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline) < 0)
			return -1;
		n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int call_tcp(int fd, const struct xdr_enc *msg, uint32_t xid, struct xdr_enc *res,
		    long deadline)
{
	struct rpc_record_reader rd;
	int rc = -1;

	if (send(fd, msg->buf, msg->len, MSG_NOSIGNAL) != (ssize_t)msg->len)
		return -1;
	rpc_record_init(&rd, CLIENT_MAX_REPLY);
	for (;;) {
		uint8_t *dst;
		size_t want, len;
		int st;

		rpc_record_want(&rd, &dst, &want);
		if (want && read_full(fd, dst, want, deadline))
			break;
		st = rpc_record_got(&rd, want);
		if (st < 0) {
			errno = EMSGSIZE;
			break;
		}
		if (st == RPC_RECORD_DONE) {
			uint8_t *rec = rpc_record_take(&rd, &len);

			st = take_results(rec, len, xid, res);
			free(rec);
			if (st > 0) {
				rc = 0;
				break;
			}
			if (errno == EPROTO)
				break;
		}
	}
	rpc_record_free(&rd);
	return rc;
}

static int connect_with_deadline(int fd, const struct sockaddr *addr, socklen_t len, long deadline)
{
	int err = 0;
	socklen_t elen = sizeof(err);

	if (connect(fd, addr, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	for (;;) {
		int w = wait_fd(fd, POLLOUT, deadline);

		if (w < 0)
			return -1;
		if (w > 0)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err) {
		errno = err ? err : EIO;
		return -1;
	}
	return 0;
}

int rpc_client_call(const struct sockaddr *addr, socklen_t addr_len, int proto, uint32_t prog,
		    uint32_t vers, uint32_t proc, const struct rpc_cred *cred, const void *args,
		    size_t args_len, struct xdr_enc *res, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	uint32_t xid = new_xid();
	struct xdr_enc msg;
	int fd, rc = -1, e;

	xdr_enc_init(&msg, CLIENT_MAX_REPLY);
	xdr_put_u32(&msg, 0);
	rpc_encode_call(&msg, xid, prog, vers, proc, cred);
	if (args_len) {
		uint8_t *p = xdr_reserve(&msg, args_len);

		if (p)
			memcpy(p, args, args_len);
	}
	if (msg.err) {
		xdr_enc_free(&msg);
		errno = EMSGSIZE;
		return -1;
	}
	xdr_patch_u32(&msg, 0, (uint32_t)(msg.len - 4) | RPC_RECORD_LAST);
	fd = socket(addr->sa_family,
		    (proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect_with_deadline(fd, addr, addr_len, deadline) == 0)
		rc = proto == IPPROTO_UDP ? call_udp(fd, &msg, xid, res, deadline)
					  : call_tcp(fd, &msg, xid, res, deadline);
	e = errno;
	if (fd >= 0)
		close(fd);
	xdr_enc_free(&msg);
	errno = e;
	return rc;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

int rpc_pmap_getport(const struct sockaddr *addr, socklen_t addr_len, uint16_t pmap_port,
		     uint32_t prog, uint32_t vers, int proto, uint16_t *port, int timeout_ms)
{
	struct sockaddr_storage ss;
	struct xdr_enc args, res;
	struct xdr_dec d;
	uint32_t p;
	int rc;

	if (addr_len > sizeof(ss)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&ss, addr, addr_len);
	set_port(&ss, pmap_port);
	xdr_enc_init(&args, 64);
	xdr_put_u32(&args, prog);
	xdr_put_u32(&args, vers);
	xdr_put_u32(&args, (uint32_t)proto);
	xdr_put_u32(&args, 0);
	xdr_enc_init(&res, 64);
	rc = rpc_client_call((struct sockaddr *)&ss, addr_len, IPPROTO_UDP, PMAP_PROG, PMAP_VERS, 3,
			     NULL, args.buf, args.len, &res, timeout_ms);
	if (rc == 0) {
		xdr_dec_init(&d, res.buf, res.len);
		p = xdr_u32(&d);
		if (d.err || p > 65535) {
			errno = EPROTO;
			rc = -1;
		} else {
			*port = (uint16_t)p;
		}
	}
	xdr_enc_free(&args);
	xdr_enc_free(&res);
	return rc;
}

int rpc_pmap_set(uint32_t prog, uint32_t vers, int proto, uint16_t port, int set)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PMAP_PORT) };
	struct xdr_enc args, res;
	struct xdr_dec d;
	int rc;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	xdr_enc_init(&args, 64);
	xdr_put_u32(&args, prog);
	xdr_put_u32(&args, vers);
	xdr_put_u32(&args, (uint32_t)proto);
	xdr_put_u32(&args, port);
	xdr_enc_init(&res, 64);
	rc = rpc_client_call((struct sockaddr *)&sin, sizeof(sin), IPPROTO_UDP, PMAP_PROG, PMAP_VERS,
			     set ? 1 : 2, NULL, args.buf, args.len, &res, 3000);
	if (rc == 0) {
		xdr_dec_init(&d, res.buf, res.len);
		if (!xdr_bool(&d) && set) {
			errno = EEXIST;
			rc = -1;
		}
	}
	xdr_enc_free(&args);
	xdr_enc_free(&res);
	return rc;
}
