/* rpc_splice.c: replies and their zero-copy data. File data for a READ is
 * spliced by a worker from the file into a pipe (the page-cache pages are
 * referenced, not copied) and later by the event loop from the pipe into
 * the socket (over UDP: into one corked datagram after the header). Pipes
 * sized for the largest reply are pooled. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "nfs/rpc_internal.h"
#include "util/log.h"

struct rpc_reply *rpc_reply_new(size_t max)
{
	struct rpc_reply *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	xdr_enc_init(&r->enc, max);
	r->pipe_rd = r->pipe_wr = -1;
	xdr_put_u32(&r->enc, 0); /* the record mark, set when finished */
	if (r->enc.err) {
		free(r);
		return NULL;
	}
	return r;
}

static void pipe_release(struct rpc_server *srv, struct rpc_reply *r)
{
	bool empty = r->data_sent == r->data_len;

	if (r->pipe_rd < 0)
		return;
	pthread_mutex_lock(&srv->lock);
	if (empty && srv->npipes < RPC_PIPE_POOL) {
		srv->pipe_pool[srv->npipes][0] = r->pipe_rd;
		srv->pipe_pool[srv->npipes][1] = r->pipe_wr;
		srv->npipes++;
		r->pipe_rd = r->pipe_wr = -1;
	}
	pthread_mutex_unlock(&srv->lock);
	if (r->pipe_rd >= 0) {
		close(r->pipe_rd);
		close(r->pipe_wr);
	}
	r->pipe_rd = r->pipe_wr = -1;
}

/* Drops the procedure's results and data: back to the bare header. */
void rpc_reply_reset(struct rpc_server *srv, struct rpc_reply *r)
{
	pipe_release(srv, r);
	r->data_len = r->data_sent = 0;
	r->data_pad = 0;
	r->enc.len = 4;
	r->enc.err = false;
}

void rpc_reply_free(struct rpc_server *srv, struct rpc_reply *r)
{
	if (!r)
		return;
	pipe_release(srv, r);
	xdr_enc_free(&r->enc);
	free(r);
}

void rpc_pipe_put(struct rpc_server *srv, int fds[2])
{
	int queued = 1;

	if (fds[0] < 0)
		return;
	if (ioctl(fds[0], FIONREAD, &queued) == 0 && queued == 0) {
		pthread_mutex_lock(&srv->lock);
		if (srv->npipes < RPC_PIPE_POOL) {
			srv->pipe_pool[srv->npipes][0] = fds[0];
			srv->pipe_pool[srv->npipes][1] = fds[1];
			srv->npipes++;
			fds[0] = fds[1] = -1;
		}
		pthread_mutex_unlock(&srv->lock);
	}
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	fds[0] = fds[1] = -1;
}

void rpc_pipe_pool_free(struct rpc_server *srv)
{
	for (unsigned i = 0; i < srv->npipes; i++) {
		close(srv->pipe_pool[i][0]);
		close(srv->pipe_pool[i][1]);
	}
	srv->npipes = 0;
}

int rpc_pipe_get(struct rpc_server *srv, int fds[2])
{
	pthread_mutex_lock(&srv->lock);
	if (srv->npipes) {
		srv->npipes--;
		fds[0] = srv->pipe_pool[srv->npipes][0];
		fds[1] = srv->pipe_pool[srv->npipes][1];
		pthread_mutex_unlock(&srv->lock);
		return 0;
	}
	pthread_mutex_unlock(&srv->lock);
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	/* As large as one reply's data, so filling it never blocks. */
	fcntl(fds[1], F_SETPIPE_SZ, (int)srv->cfg.max_data);
	return 0;
}

/* The copying path, for file systems that cannot splice. */
static int copy_into_reply(struct rpc_call *call, struct rpc_reply *r, int fd, uint64_t off,
			   uint32_t count, uint32_t *got)
{
	uint8_t *p = xdr_reserve(&r->enc, (size_t)count + 3);
	uint32_t n = 0;

	if (!p)
		return -EFBIG;
	while (n < count) {
		ssize_t k = pread(fd, p + n, count - n, (off_t)(off + n));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r->enc.len -= (size_t)count + 3;
			return -errno;
		}
		if (k == 0)
			break;
		n += (uint32_t)k;
	}
	r->enc.len -= (size_t)count + 3 - n - xdr_pad(n);
	memset(p + n, 0, xdr_pad(n));
	STAT_ADD(call->srv, copied_bytes, n);
	*got = n;
	return 0;
}

int rpc_reply_splice_file(struct rpc_call *call, struct rpc_reply *r, int fd, uint64_t offset,
			  uint32_t count, uint32_t *got)
{
	struct rpc_server *srv = call->srv;
	loff_t off = (loff_t)offset;
	int fds[2], cap, rc;
	uint32_t n = 0;

	*got = 0;
	if (count > srv->cfg.max_data)
		count = (uint32_t)srv->cfg.max_data;
	/* A UDP reply is one datagram: header and data within 64 KiB. */
	if (call->proto == IPPROTO_UDP && count > RPC_UDP_MAX_DATA)
		count = RPC_UDP_MAX_DATA;
	if (!count)
		return 0;
	rc = rpc_pipe_get(srv, fds);
	if (rc)
		return rc;
	cap = fcntl(fds[1], F_GETPIPE_SZ);
	if (cap > 0 && (uint32_t)cap < count)
		count = (uint32_t)cap;
	r->pipe_rd = fds[0];
	r->pipe_wr = fds[1];
	while (n < count) {
		ssize_t k = splice(fd, &off, fds[1], NULL, count - n, SPLICE_F_MOVE);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && n == 0 && (errno == EINVAL || errno == ENOSYS)) {
			pipe_release(srv, r);
			return copy_into_reply(call, r, fd, offset, count, got);
		}
		if (k < 0) {
			rc = -errno;
			r->data_len = n + 1; /* not empty: the pipe is closed */
			pipe_release(srv, r);
			r->data_len = 0;
			return rc;
		}
		if (k == 0)
			break;
		n += (uint32_t)k;
	}
	r->data_len = n;
	r->data_sent = 0;
	r->data_pad = xdr_pad(n);
	if (!n)
		pipe_release(srv, r);
	*got = n;
	return 0;
}
