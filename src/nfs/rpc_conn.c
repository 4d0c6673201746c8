/* rpc_conn.c: one client connection (or a UDP socket) on the event-loop
 * thread: reading records, queueing and sending replies (zero-copy data
 * by splice from a pipe), flow control by in-flight count and memory. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "nfs/rpc_internal.h"
#include "util/log.h"

#define READ_BUDGET 16          /* records per wakeup per connection */
#define SEND_BUDGET (8u << 20)  /* bytes per wakeup per connection */
#define UDP_MAX 65536

static const uint8_t zeros[4];

struct rpc_conn *rpc_conn_new(struct rpc_server *srv, int fd, bool udp)
{
	struct rpc_conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!c)
		return NULL;
	c->kind = EP_CONN;
	c->srv = srv;
	c->fd = fd;
	c->udp = udp;
	c->refs = 1;
	c->events = EPOLLIN;
	c->bulk.pipe[0] = c->bulk.pipe[1] = -1;
	rpc_record_init(&c->rd, srv->cfg.max_record);
	if (srv->has_bulk && !udp) {
		c->rd.peek_size = RPC_PEEK_SIZE;
		c->rd.peek_min = RPC_BULK_MIN;
	}
	ev.data.ptr = c;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		error_errno("rpc: epoll_ctl");
		free(c);
		return NULL;
	}
	c->all_next = srv->conns;
	if (srv->conns)
		srv->conns->all_prev = c;
	srv->conns = c;
	srv->nconns++;
	return c;
}

static void resume_accept(struct rpc_server *srv)
{
	srv->accept_paused = false;
	for (unsigned i = 0; i < srv->nlst; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &srv->lst[i] };

		if (srv->lst[i].proto == IPPROTO_TCP)
			epoll_ctl(srv->epfd, EPOLL_CTL_MOD, srv->lst[i].fd, &ev);
	}
}

void rpc_conn_unref(struct rpc_conn *c)
{
	struct rpc_server *srv = c->srv;

	if (--c->refs)
		return;
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else
		srv->conns = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	srv->nconns--;
	if (srv->accept_paused)
		resume_accept(srv);
	/* Freed after the current epoll batch, which may still name it. */
	c->all_next = srv->graveyard;
	srv->graveyard = c;
}

void rpc_conns_bury(struct rpc_server *srv)
{
	while (srv->graveyard) {
		struct rpc_conn *c = srv->graveyard;

		srv->graveyard = c->all_next;
		free(c);
	}
}

static void drop_replies(struct rpc_conn *c)
{
	while (c->out_head) {
		struct rpc_reply *r = c->out_head;

		c->out_head = r->next;
		rpc_reply_free(c->srv, r);
		c->inflight--;
	}
	c->out_tail = NULL;
}

static void ra_queue(struct rpc_conn *c)
{
	if (c->ra_queued || c->ra_off == c->ra_len)
		return;
	c->ra_queued = true;
	c->ra_next = c->srv->ra_list;
	c->srv->ra_list = c;
}

static void ra_unqueue(struct rpc_conn *c)
{
	struct rpc_conn **pp = &c->srv->ra_list;

	if (!c->ra_queued)
		return;
	while (*pp != c)
		pp = &(*pp)->ra_next;
	*pp = c->ra_next;
	c->ra_queued = false;
}

void rpc_conn_close(struct rpc_conn *c)
{
	struct rpc_server *srv = c->srv;
	unsigned dropped;

	if (c->dead)
		return;
	c->dead = true;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	rpc_record_free(&c->rd);
	ra_unqueue(c);
	rpc_pipe_put(srv, c->bulk.pipe);
	drop_replies(c);
	dropped = rpc_dequeue_conn(srv, c);
	c->inflight -= dropped;
	c->refs -= dropped;
	rpc_conn_unref(c);
}

/* A connection is read while it has room for more calls and the server
 * is under its memory cap; one in the middle of a record may finish it
 * (records become calls, which always complete and free their memory). */
static bool can_read(const struct rpc_conn *c)
{
	unsigned cap = c->srv->cfg.max_inflight * (c->udp ? 4 : 1);

	if (c->inflight >= cap)
		return false;
	return !c->srv->paused_mem || (!c->udp && !rpc_record_idle(&c->rd));
}

void rpc_conn_update_events(struct rpc_conn *c)
{
	uint32_t want = (can_read(c) ? EPOLLIN : 0) | (c->out_head ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want, .data.ptr = c };

	if (c->dead || want == c->events)
		return;
	if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

void rpc_conns_resume(struct rpc_server *srv)
{
	srv->paused_mem = false;
	for (struct rpc_conn *c = srv->conns; c; c = c->all_next)
		rpc_conn_update_events(c);
}

static void check_memory(struct rpc_server *srv)
{
	if (!srv->paused_mem && atomic_load(&srv->buffered) > srv->cfg.max_buffered) {
		srv->paused_mem = true;
		rpc_warn_once(srv, 4, "buffered requests reached the memory cap: reading paused");
	}
}

static void read_udp(struct rpc_conn *c)
{
	struct rpc_server *srv = c->srv;

	for (int i = 0; i < READ_BUDGET && can_read(c); i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		uint8_t *buf = malloc(UDP_MAX);
		ssize_t n;

		if (!buf)
			return;
		n = recvfrom(c->fd, buf, UDP_MAX, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&peer, &plen);
		if (n < 0 || n > UDP_MAX) {
			free(buf);
			if (n < 0)
				return;
			STAT_ADD(srv, oversized, 1);
			continue;
		}
		atomic_fetch_add(&srv->buffered, UDP_MAX);
		rpc_handle_record(c, buf, (size_t)n, UDP_MAX, &peer, plen, NULL);
		check_memory(srv);
	}
}

/* A whole record arrived: hand it (and its bulk pipe) to dispatch. */
static int record_done(struct rpc_conn *c)
{
	struct rpc_server *srv = c->srv;
	struct rpc_bulk *bulk = c->bulk.ready ? &c->bulk : NULL;
	size_t len, acct = rpc_record_buffered(&c->rd);
	uint8_t *rec = rpc_record_take(&c->rd, &len);

	if (!rec)
		return -1;
	if (bulk)
		acct += bulk->len;
	c->bulk.ready = false;
	atomic_fetch_add(&srv->buffered, acct);
	rpc_handle_record(c, rec, len, acct, &c->peer, c->peer_len, bulk);
	check_memory(srv);
	return 0;
}

/* The first bytes of a long record arrived: if it is a call with bulk
 * data (NFS WRITE), move the data bytes already read into a pipe and
 * splice the rest from the socket. Returns 0 (either way) or -1. */
static int start_bulk(struct rpc_conn *c)
{
	struct rpc_bulk *b = &c->bulk;
	size_t off, have;
	uint32_t len;
	int cap;

	if (!rpc_bulk_probe(c->srv, c->rd.buf, c->rd.len, &off, &len) || len < RPC_BULK_MIN)
		return 0;
	have = c->rd.len - off;
	if (have > len || len - have > rpc_record_frag_left(&c->rd))
		return 0; /* the data does not fit the record: the procedure refuses it */
	cap = rpc_pipe_get(c->srv, b->pipe);
	if (cap < 0)
		return 0;
	if ((uint32_t)cap < len ||
	    (have && write(b->pipe[1], c->rd.buf + off, have) != (ssize_t)have)) {
		rpc_pipe_put(c->srv, b->pipe);
		return 0;
	}
	c->rd.len = off; /* those bytes are in the pipe now */
	b->len = len;
	b->left = len - (uint32_t)have;
	b->active = true;
	if (b->left)
		return 0;
	b->active = false;
	b->ready = true;
	b->piped = len;
	return 0;
}

#define RPC_BULK_PIPE_MAX (16 << 20)

/* Whether the socket still holds bytes (splice then failed for the pipe). */
static bool socket_has_data(int fd)
{
	int avail = 0;

	return ioctl(fd, FIONREAD, &avail) == 0 && avail > 0;
}

/* The pipe filled before the data was in: a socket's pages can use up its
 * slots long before its byte size (one slot per received segment). First
 * the pipe grows (up to RPC_BULK_PIPE_MAX, where the system allows); past
 * that, what it holds stays there and the rest of the data is read into
 * the record the ordinary way (one copy for that part). 1 progress. */
static int bulk_stop_splicing(struct rpc_conn *c)
{
	struct rpc_bulk *b = &c->bulk;
	int size = fcntl(b->pipe[1], F_GETPIPE_SZ);

	if (size > 0 && size <= RPC_BULK_PIPE_MAX / 2 &&
	    fcntl(b->pipe[1], F_SETPIPE_SZ, size * 2) > size) {
		STAT_ADD(c->srv, bulk_pipe_grown, 1);
		return 1;
	}
	b->piped = b->len - b->left;
	b->active = false;
	b->ready = true;
	STAT_ADD(c->srv, bulk_fallbacks, 1);
	rpc_warn_once(c->srv, 9, "WRITE data came in segments too small for its pipe's slots: "
		      "the rest of such a WRITE is copied (counted in bulk_fallbacks)");
	return 1;
}

/* Splices bulk data from the socket: 1 progress, 0 would block, -1 error. */
static int splice_bulk(struct rpc_conn *c)
{
	struct rpc_bulk *b = &c->bulk;
	enum rpc_record_status st;
	ssize_t n = splice(c->fd, NULL, b->pipe[1], NULL, b->left, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);

	if (n < 0 && errno == EAGAIN && socket_has_data(c->fd))
		return bulk_stop_splicing(c);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	STAT_ADD(c->srv, spliced_in_bytes, (uint64_t)n);
	b->left -= (uint32_t)n;
	st = rpc_record_skip(&c->rd, (size_t)n);
	if (st < 0)
		return -1;
	if (!b->left) {
		b->active = false;
		b->ready = true;
		b->piped = b->len;
	}
	if (st == RPC_RECORD_DONE && record_done(c))
		return -1;
	return 1;
}

/* recv, also telling how many bytes are left in the socket after it
 * (TCP_INQ, set on accepted sockets): *left is -1 when unknown. */
static ssize_t recv_inq(int fd, uint8_t *dst, size_t len, int *left)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = dst, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

	*left = -1;
	if (n <= 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_TCP && cm->cmsg_type == TCP_CM_INQ &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(left, CMSG_DATA(cm), sizeof(int));
	return n;
}

/* The next bytes the record reader wants, at most `want` into dst: from
 * the read-ahead buffer while it holds some; else from the socket, and
 * when a fragment header is due, with up to RPC_PEEK_SIZE bytes after it
 * in the same recv. Those never reach past a bulk call's peek point, so
 * the socket is where splice_bulk expects it. Returns what recv does;
 * *left as recv_inq (-1 when served from the buffer). */
static ssize_t next_bytes(struct rpc_conn *c, uint8_t *dst, size_t want, int *left)
{
	ssize_t n;

	*left = -1;
	if (c->ra_off == c->ra_len && c->rd.hdr_got == 0 && want == 4) {
		n = recv_inq(c->fd, c->ra, sizeof(c->ra), left);
		if (n <= 0)
			return n;
		c->ra_off = 0;
		c->ra_len = (uint32_t)n;
		c->ra_sock_left = *left;
	}
	if (c->ra_off < c->ra_len) {
		size_t have = c->ra_len - c->ra_off;

		if (want > have)
			want = have;
		memcpy(dst, c->ra + c->ra_off, want);
		c->ra_off += (uint32_t)want;
		/* Emptied: the socket held what it did after that recv. */
		*left = c->ra_off < c->ra_len ? -1 : c->ra_sock_left;
		return (ssize_t)want;
	}
	return recv_inq(c->fd, dst, want, left);
}

static void read_tcp(struct rpc_conn *c)
{
	struct rpc_server *srv = c->srv;
	int steps = 0;

	while (steps++ < 4 * READ_BUDGET && can_read(c) && !c->dead) {
		enum rpc_record_status st;
		uint8_t *dst;
		size_t want;
		ssize_t n;
		int left;

		if (c->bulk.active) {
			int rc = splice_bulk(c);

			if (rc < 0)
				rpc_conn_close(c);
			if (rc <= 0)
				return;
			continue;
		}
		rpc_record_want(&c->rd, &dst, &want);
		if (!want) {
			rpc_conn_close(c);
			return;
		}
		n = next_bytes(c, dst, want, &left);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			rpc_conn_close(c); /* EOF or a reset */
			return;
		}
		st = rpc_record_got(&c->rd, (size_t)n);
		if (st < 0) {
			STAT_ADD(srv, oversized, 1);
			rpc_warn_once(srv, 5, "a record over the size limit: connection closed");
			rpc_conn_close(c);
			return;
		}
		if ((st == RPC_RECORD_PEEK && start_bulk(c)) ||
		    (st == RPC_RECORD_DONE && record_done(c))) {
			rpc_conn_close(c);
			return;
		}
		/* The socket is empty: epoll says when more comes (saves the
		 * recv that would fail with EAGAIN). */
		if (left == 0)
			break;
	}
}

void rpc_conn_readable(struct rpc_conn *c)
{
	if (c->udp)
		read_udp(c);
	else
		read_tcp(c);
	if (!c->dead) {
		ra_queue(c);
		rpc_conn_update_events(c);
	}
}

bool rpc_conns_read_ahead(struct rpc_server *srv)
{
	struct rpc_conn *list = srv->ra_list;
	bool more = false;

	srv->ra_list = NULL;
	while (list) {
		struct rpc_conn *c = list;

		list = c->ra_next;
		c->ra_queued = false;
		if (can_read(c))
			rpc_conn_readable(c); /* queues it again if bytes are left */
		else
			ra_queue(c);
	}
	for (struct rpc_conn *c = srv->ra_list; c && !more; c = c->ra_next)
		more = can_read(c);
	return more;
}

/* Header, spliced data and padding as one corked datagram. */
static int send_udp_spliced(struct rpc_conn *c, struct rpc_reply *r)
{
	int on = 1, off = 0, rc = 0;

	if (setsockopt(c->fd, IPPROTO_UDP, UDP_CORK, &on, sizeof(on)))
		return -1;
	if (sendto(c->fd, r->enc.buf + 4, r->enc.len - 4, MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE,
		   (struct sockaddr *)&r->peer, r->peer_len) < 0)
		rc = -1;
	while (!rc && r->data_sent < r->data_len) {
		ssize_t n = splice(r->pipe_rd, NULL, c->fd, NULL, r->data_len - r->data_sent,
				   SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_MOVE);

		if (n <= 0)
			rc = -1;
		else
			r->data_sent += (size_t)n;
	}
	if (!rc && r->data_pad && send(c->fd, zeros, r->data_pad, MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE) < 0)
		rc = -1;
	if (!rc)
		STAT_ADD(c->srv, spliced_bytes, r->data_len);
	/* Uncorking sends the datagram (a failed one goes out short and the
	 * client drops it as undecodable, as it would a lost datagram). */
	setsockopt(c->fd, IPPROTO_UDP, UDP_CORK, &off, sizeof(off));
	return rc;
}

static void send_udp(struct rpc_conn *c, struct rpc_reply *r)
{
	int rc;

	if (r->data_len)
		rc = send_udp_spliced(c, r);
	else
		rc = sendto(c->fd, r->enc.buf + 4, r->enc.len - 4, MSG_DONTWAIT | MSG_NOSIGNAL,
			    (struct sockaddr *)&r->peer, r->peer_len) < 0 ? -1 : 0;
	if (rc)
		STAT_ADD(c->srv, dropped, 1);
	rpc_reply_free(c->srv, r);
	c->inflight--;
}

/* Sends what it can of one reply: 1 when it is all out, 0 when the socket
 * is full, -1 on a socket error. */
static int send_one(struct rpc_conn *c, struct rpc_reply *r, size_t *budget)
{
	bool more_after = r->next != NULL;
	ssize_t n;

	while (r->sent < r->enc.len) {
		int more = (r->data_len || more_after) ? MSG_MORE : 0;

		n = send(c->fd, r->enc.buf + r->sent, r->enc.len - r->sent,
			 MSG_DONTWAIT | MSG_NOSIGNAL | more);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		r->sent += (size_t)n;
		*budget -= *budget < (size_t)n ? *budget : (size_t)n;
	}
	while (r->data_sent < r->data_len) {
		unsigned flags = SPLICE_F_NONBLOCK | SPLICE_F_MOVE;

		if (r->data_pad || more_after)
			flags |= SPLICE_F_MORE;
		n = splice(r->pipe_rd, NULL, c->fd, NULL, r->data_len - r->data_sent, flags);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (n == 0)
			return -1;
		r->data_sent += (size_t)n;
		STAT_ADD(c->srv, spliced_bytes, (uint64_t)n);
		*budget -= *budget < (size_t)n ? *budget : (size_t)n;
	}
	while (r->pad_sent < r->data_pad) {
		n = send(c->fd, zeros, r->data_pad - r->pad_sent,
			 MSG_DONTWAIT | MSG_NOSIGNAL | (more_after ? MSG_MORE : 0));
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		r->pad_sent += (uint32_t)n;
	}
	return 1;
}

static void flush(struct rpc_conn *c)
{
	size_t budget = SEND_BUDGET;

	while (c->out_head && budget) {
		struct rpc_reply *r = c->out_head;
		int rc = send_one(c, r, &budget);

		if (rc < 0) {
			rpc_conn_close(c);
			return;
		}
		if (rc == 0)
			break;
		c->out_head = r->next;
		if (!c->out_head)
			c->out_tail = NULL;
		rpc_reply_free(c->srv, r);
		c->inflight--;
	}
	rpc_conn_update_events(c);
}

void rpc_conn_writable(struct rpc_conn *c)
{
	flush(c);
}

void rpc_conn_queue_reply(struct rpc_conn *c, struct rpc_reply *r)
{
	r->next = NULL;
	if (c->dead) {
		rpc_reply_free(c->srv, r);
		c->inflight--;
		return;
	}
	if (c->udp) {
		send_udp(c, r);
		rpc_conn_update_events(c);
		return;
	}
	if (c->out_tail)
		c->out_tail->next = r;
	else
		c->out_head = r;
	c->out_tail = r;
	/* Queued behind others: the writable event sends it. */
	if (c->out_head == r)
		flush(c);
	else
		rpc_conn_update_events(c);
}

void rpc_accept(struct rpc_server *srv, struct rpc_listener *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int one = 1, fd;
		struct rpc_conn *c;

		fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS)) {
			/* Out of descriptors: stop listening (level-triggered
			 * epoll would spin) until a connection closes. */
			struct epoll_event ev = { .events = 0, .data.ptr = l };

			rpc_warn_once(srv, 8, "out of file descriptors: not accepting until a connection closes");
			epoll_ctl(srv->epfd, EPOLL_CTL_MOD, l->fd, &ev);
			srv->accept_paused = true;
			return;
		}
		if (fd < 0)
			return;
		if (srv->nconns >= RPC_MAX_CONNS) {
			rpc_warn_once(srv, 6, "too many connections: refusing new ones");
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_INQ, &one, sizeof(one));
		c = rpc_conn_new(srv, fd, false);
		if (!c) {
			close(fd);
			continue;
		}
		c->peer = peer;
		c->peer_len = plen;
	}
}
