/* rpc_server.c: the RPC server's program table, its listening sockets, the
 * event-loop thread, and the dispatch of each call (header checks and RPC
 * errors here, procedures inline or on a worker). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "nfs/rpc_internal.h"
#include "util/log.h"

#define REPLY_MAX ((size_t)2 << 20)

void rpc_warn_once(struct rpc_server *srv, unsigned bit, const char *msg)
{
	unsigned old = atomic_fetch_or(&srv->warned, 1u << bit);

	if (!(old & (1u << bit)))
		warn("rpc: %s (logged once; counted in the server's statistics)", msg);
}

struct rpc_server *rpc_server_new(const struct rpc_server_config *cfg)
{
	struct rpc_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	if (cfg)
		srv->cfg = *cfg;
	if (!srv->cfg.workers)
		srv->cfg.workers = 8;
	if (!srv->cfg.max_inflight)
		srv->cfg.max_inflight = 16;
	if (!srv->cfg.max_buffered)
		srv->cfg.max_buffered = (size_t)256 << 20;
	if (!srv->cfg.max_record)
		srv->cfg.max_record = ((size_t)1 << 20) + (64 << 10);
	if (!srv->cfg.max_data)
		srv->cfg.max_data = (size_t)1 << 20;
	srv->epfd = -1;
	srv->wakefd = -1;
	srv->wake_kind = EP_WAKE;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->cond, NULL);
	return srv;
}

int rpc_server_add_program(struct rpc_server *srv, const struct rpc_program *prog)
{
	if (srv->started)
		return error("rpc: programs must be added before the server starts");
	if (srv->nprogs == RPC_MAX_PROGRAMS)
		return error("rpc: too many programs");
	if (rpc_server_has_program(srv, prog->prog, prog->vers))
		return error("rpc: program %u version %u registered twice", prog->prog, prog->vers);
	srv->progs[srv->nprogs++] = *prog;
	if (prog->bulk)
		srv->has_bulk = true;
	return 0;
}

bool rpc_server_has_program(const struct rpc_server *srv, uint32_t prog, uint32_t vers)
{
	for (unsigned i = 0; i < srv->nprogs; i++)
		if (srv->progs[i].prog == prog && (!vers || srv->progs[i].vers == vers))
			return true;
	return false;
}

const struct rpc_program *rpc_server_program(const struct rpc_server *srv, unsigned i)
{
	return i < srv->nprogs ? &srv->progs[i] : NULL;
}

uint16_t rpc_server_port(const struct rpc_server *srv, int proto)
{
	for (unsigned i = 0; i < srv->nlst; i++)
		if (srv->lst[i].proto == proto)
			return srv->lst[i].port;
	return 0;
}

/* "1.2.3.4:PORT", "[::1]:PORT" or ":PORT" (any IPv4 address). */
static int parse_addr(const char *spec, struct addrinfo **res, int proto)
{
	char host[128], port[16];
	const char *colon = strrchr(spec, ':');
	size_t hlen;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	int rc;

	if (!colon || strlen(colon + 1) >= sizeof(port) || !colon[1])
		return error("rpc: address '%s' is not ADDR:PORT", spec);
	hlen = (size_t)(colon - spec);
	if (hlen && spec[0] == '[' && spec[hlen - 1] == ']') {
		spec++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return error("rpc: address '%s' is too long", spec);
	memcpy(host, spec, hlen);
	host[hlen] = 0;
	strcpy(port, colon + 1);
	hints.ai_socktype = proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	rc = getaddrinfo(hlen ? host : "0.0.0.0", port, &hints, res);
	if (rc)
		return error("rpc: address '%s': %s", spec, gai_strerror(rc));
	return 0;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int open_listener(const char *spec, int proto, int *out)
{
	struct addrinfo *ai;
	int fd, one = 1;

	if (parse_addr(spec, &ai, proto))
		return -1;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return error_errno("rpc: socket for %s", spec);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) ||
	    (proto == IPPROTO_TCP && listen(fd, 128))) {
		int e = errno;

		freeaddrinfo(ai);
		close(fd);
		errno = e;
		return error_errno("rpc: cannot listen on %s/%s", spec,
				   proto == IPPROTO_UDP ? "udp" : "tcp");
	}
	freeaddrinfo(ai);
	*out = fd;
	return 0;
}

int rpc_server_listen(struct rpc_server *srv, const char *spec, int proto, uint16_t *port)
{
	struct rpc_listener *l;
	int fd = -1;

	if (srv->started || srv->nlst == RPC_MAX_LISTENERS)
		return error("rpc: cannot add a listener now");
	if (open_listener(spec, proto, &fd))
		return -1;
	l = &srv->lst[srv->nlst++];
	l->kind = EP_LISTEN;
	l->fd = fd;
	l->proto = proto;
	l->port = bound_port(fd);
	l->udp = NULL;
	if (port)
		*port = l->port;
	return 0;
}

/* --- dispatch ---------------------------------------------------------- */

static struct rpc_reply *error_reply(uint32_t xid)
{
	struct rpc_reply *r = rpc_reply_new(REPLY_MAX);

	return r;
}

static const struct rpc_program *find_program(struct rpc_server *srv, const struct rpc_call_header *h,
					      uint32_t *low, uint32_t *high)
{
	bool any = false;

	*low = UINT32_MAX;
	*high = 0;
	for (unsigned i = 0; i < srv->nprogs; i++) {
		const struct rpc_program *p = &srv->progs[i];

		if (p->prog != h->prog)
			continue;
		if (p->vers == h->vers)
			return p;
		any = true;
		if (p->vers < *low)
			*low = p->vers;
		if (p->vers > *high)
			*high = p->vers;
	}
	if (!any)
		*low = *high = 0;
	return NULL;
}

void rpc_job_free(struct rpc_server *srv, struct rpc_job *job)
{
	if (job->call.has_bulk) {
		int fds[2] = { job->call.bulk_pipe, job->bulk_wr };

		rpc_pipe_put(srv, fds);
	}
	if (job->rec) {
		free(job->rec);
		atomic_fetch_sub(&srv->buffered, job->rec_acct);
	}
	if (job->reply)
		rpc_reply_free(srv, job->reply);
	free(job);
}

/* Answers a call the server handles itself (errors), without a worker. */
static void reply_now(struct rpc_conn *conn, struct rpc_job *job, struct rpc_reply *r)
{
	struct rpc_reply *reply = job->reply ? job->reply : r;

	job->reply = NULL;
	conn->inflight++;
	rpc_conn_queue_reply(conn, reply);
	rpc_job_free(conn->srv, job);
}

/* Makes the reply's record mark once the procedure is done. */
static void finish_reply(struct rpc_reply *r)
{
	size_t len = r->enc.len - 4 + r->data_len + r->data_pad;

	xdr_patch_u32(&r->enc, 0, (uint32_t)len | RPC_RECORD_LAST);
}

/* Runs the procedure; returns false if, tried on the event loop, it would
 * block (the reply is back to its header, the arguments rewound). */
bool rpc_run_job(struct rpc_job *job)
{
	struct rpc_server *srv = job->call.srv;
	struct rpc_reply *r = job->reply;
	struct xdr_dec args = job->call.args;
	enum rpc_accept_stat st;

	st = job->proc->fn(job->prog->opaque, &job->call, r);
	if (st == RPC_WOULD_BLOCK && job->call.on_loop) {
		rpc_reply_reset(srv, r);
		r->enc.len = r->body_start;
		job->call.args = args;
		job->call.on_loop = false;
		return false;
	}
	if (st == RPC_WOULD_BLOCK)
		st = RPC_SYSTEM_ERR;
	if (st == RPC_SUCCESS && r->enc.err) {
		rpc_warn_once(srv, 0, "a reply outgrew its buffer: answering SYSTEM_ERR");
		st = RPC_SYSTEM_ERR;
	}
	if (st != RPC_SUCCESS) {
		rpc_reply_reset(srv, r);
		if (st == RPC_NO_REPLY) {
			rpc_reply_free(srv, r);
			job->reply = NULL;
			return true;
		}
		if (st == RPC_GARBAGE_ARGS) {
			STAT_ADD(srv, garbage, 1);
			rpc_warn_once(srv, 1, "procedure arguments that do not decode: GARBAGE_ARGS");
		}
		rpc_encode_accepted(&r->enc, job->call.h.xid, st);
	}
	finish_reply(r);
	return true;
}

static void refuse(struct rpc_conn *conn, struct rpc_job *job, enum rpc_accept_stat st,
		   uint32_t low, uint32_t high)
{
	struct rpc_reply *r = error_reply(job->call.h.xid);

	if (!r) {
		rpc_job_free(conn->srv, job);
		return;
	}
	if (st == RPC_PROG_MISMATCH)
		rpc_encode_prog_mismatch(&r->enc, job->call.h.xid, low, high);
	else
		rpc_encode_accepted(&r->enc, job->call.h.xid, st);
	r->peer = job->call.peer;
	r->peer_len = job->call.peer_len;
	finish_reply(r);
	STAT_ADD(conn->srv, unavail, 1);
	reply_now(conn, job, r);
}

static void deny(struct rpc_conn *conn, struct rpc_job *job, enum rpc_header_result hr,
		 enum rpc_auth_stat auth)
{
	struct rpc_reply *r = error_reply(job->call.h.xid);

	if (!r) {
		rpc_job_free(conn->srv, job);
		return;
	}
	if (hr == RPC_HDR_BAD_RPCVERS) {
		rpc_encode_rpc_mismatch(&r->enc, job->call.h.xid);
	} else {
		rpc_encode_auth_error(&r->enc, job->call.h.xid, auth);
		STAT_ADD(conn->srv, auth_errors, 1);
		rpc_warn_once(conn->srv, 2, "a call with bad or unsupported credentials");
	}
	r->peer = job->call.peer;
	r->peer_len = job->call.peer_len;
	finish_reply(r);
	reply_now(conn, job, r);
}

static int prepare_job(struct rpc_conn *conn, struct rpc_job *job)
{
	struct rpc_reply *r = rpc_reply_new(REPLY_MAX);

	if (!r)
		return -1;
	rpc_encode_accepted(&r->enc, job->call.h.xid, RPC_SUCCESS);
	r->body_start = r->enc.len;
	r->peer = job->call.peer;
	r->peer_len = job->call.peer_len;
	job->reply = r;
	return 0;
}

bool rpc_bulk_probe(struct rpc_server *srv, const uint8_t *buf, size_t len, size_t *data_off,
		    uint32_t *data_len)
{
	struct rpc_call_header h;
	enum rpc_auth_stat auth;
	const struct rpc_program *p;
	uint32_t low, high;
	struct xdr_dec d;

	xdr_dec_init(&d, buf, len);
	if (rpc_decode_call(&d, &h, &auth) != RPC_HDR_OK)
		return false;
	p = find_program(srv, &h, &low, &high);
	if (!p || !p->bulk || h.proc >= p->nprocs || !p->procs[h.proc].fn)
		return false;
	if (p->bulk(h.proc, &d, data_len) || d.err)
		return false;
	*data_off = d.pos;
	return true;
}

void rpc_handle_record(struct rpc_conn *conn, uint8_t *rec, size_t len, size_t acct,
		       const struct sockaddr_storage *peer, socklen_t peer_len, struct rpc_bulk *bulk)
{
	struct rpc_server *srv = conn->srv;
	struct rpc_job *job = calloc(1, sizeof(*job));
	enum rpc_header_result hr;
	enum rpc_auth_stat auth;
	uint32_t low, high;

	if (!job) {
		free(rec);
		atomic_fetch_sub(&srv->buffered, acct);
		if (bulk)
			rpc_pipe_put(srv, bulk->pipe);
		return;
	}
	job->conn = conn;
	job->rec = rec;
	job->rec_acct = acct;
	job->call.bulk_pipe = -1;
	job->bulk_wr = -1;
	if (bulk) {
		job->call.has_bulk = true;
		job->call.bulk_pipe = bulk->pipe[0];
		job->bulk_wr = bulk->pipe[1];
		job->call.bulk_len = bulk->len;
		job->call.bulk_piped = bulk->piped;
		bulk->pipe[0] = bulk->pipe[1] = -1;
	}
	job->call.srv = srv;
	job->call.proto = conn->udp ? IPPROTO_UDP : IPPROTO_TCP;
	memcpy(&job->call.peer, peer, peer_len);
	job->call.peer_len = peer_len;
	STAT_ADD(srv, calls, 1);
	xdr_dec_init(&job->call.args, rec, len);
	hr = rpc_decode_call(&job->call.args, &job->call.h, &auth);
	if (hr == RPC_HDR_GARBAGE || hr == RPC_HDR_NOT_CALL) {
		STAT_ADD(srv, garbage, 1);
		rpc_warn_once(srv, 3, "a message that is not an RPC call: dropped");
		rpc_job_free(srv, job);
		return;
	}
	if (hr != RPC_HDR_OK) {
		deny(conn, job, hr, auth);
		return;
	}
	job->prog = find_program(srv, &job->call.h, &low, &high);
	if (!job->prog) {
		refuse(conn, job, high ? RPC_PROG_MISMATCH : RPC_PROG_UNAVAIL, low, high);
		return;
	}
	if (job->call.h.proc >= job->prog->nprocs || !job->prog->procs[job->call.h.proc].fn) {
		refuse(conn, job, RPC_PROC_UNAVAIL, 0, 0);
		return;
	}
	job->proc = &job->prog->procs[job->call.h.proc];
	if (prepare_job(conn, job)) {
		rpc_job_free(srv, job);
		return;
	}
	conn->inflight++;
	conn->refs++;
	job->call.on_loop = job->proc->inline_ok == true ||
			    (job->proc->inline_ok == RPC_INLINE_TRY && !job->call.has_bulk);
	if (job->call.on_loop && rpc_run_job(job)) {
		if (job->reply)
			rpc_conn_queue_reply(conn, job->reply);
		else
			conn->inflight--;
		job->reply = NULL;
		rpc_job_free(srv, job);
		rpc_conn_unref(conn);
		return;
	}
	rpc_enqueue_job(srv, job);
}

/* --- the event loop ---------------------------------------------------- */

static void *event_loop(void *arg)
{
	struct rpc_server *srv = arg;
	struct epoll_event evs[64];
	bool busy = false;

	while (!atomic_load(&srv->stopping)) {
		int n;

		/* Finished calls drained before sleeping (or read-ahead bytes
		 * that may be read now) may have made work: poll, do not sleep. */
		busy |= rpc_loop_before_sleep(srv);
		n = epoll_wait(srv->epfd, evs, 64, busy ? 0 : -1);
		rpc_loop_after_sleep(srv);

		if (n < 0 && errno != EINTR) {
			error_errno("rpc: epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++) {
			enum rpc_ep_kind *kind = evs[i].data.ptr;

			if (*kind == EP_WAKE) {
				uint64_t v;

				if (read(srv->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					break;
				pthread_mutex_lock(&srv->lock);
				srv->wake_sent = false;
				pthread_mutex_unlock(&srv->lock);
				rpc_drain_done(srv);
			} else if (*kind == EP_LISTEN) {
				rpc_accept(srv, (struct rpc_listener *)kind);
			} else {
				struct rpc_conn *c = (struct rpc_conn *)kind;

				/* A conn closed earlier in this batch is still
				 * referenced by epoll data only until now. */
				if (c->dead)
					continue;
				/* Hung up or failed: nothing more can be read or
				 * sent (also when reading is paused). */
				if (!c->udp && (evs[i].events & (EPOLLERR | EPOLLHUP))) {
					rpc_conn_close(c);
					continue;
				}
				if (evs[i].events & EPOLLOUT)
					rpc_conn_writable(c);
				if (!c->dead && (evs[i].events & EPOLLIN))
					rpc_conn_readable(c);
			}
		}
		if (srv->paused_mem && atomic_load(&srv->buffered) < srv->cfg.max_buffered / 4 * 3)
			rpc_conns_resume(srv);
		busy = rpc_conns_read_ahead(srv);
		rpc_conns_bury(srv);
	}
	return NULL;
}

static int add_to_epoll(struct rpc_server *srv, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup_loop(struct rpc_server *srv)
{
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->epfd < 0 || srv->wakefd < 0)
		return error_errno("rpc: epoll/eventfd");
	if (add_to_epoll(srv, srv->wakefd, &srv->wake_kind))
		return error_errno("rpc: epoll_ctl");
	for (unsigned i = 0; i < srv->nlst; i++) {
		struct rpc_listener *l = &srv->lst[i];

		if (l->proto == IPPROTO_UDP) {
			l->udp = rpc_conn_new(srv, l->fd, true);
			if (!l->udp)
				return -1;
			continue; /* rpc_conn_new registered it */
		}
		if (add_to_epoll(srv, l->fd, l))
			return error_errno("rpc: epoll_ctl");
	}
	return 0;
}

int rpc_server_start(struct rpc_server *srv)
{
	sigset_t all, old;
	int rc = 0;

	if (srv->started)
		return error("rpc: server already started");
	if (!srv->nlst)
		return error("rpc: no listening socket");
	srv->started = true;
	if (setup_loop(srv))
		return -1;
	/* The server's threads take no signals: they belong to the embedding
	 * process's own threads (kvmini run, or sigwait in kvmini nfsd). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rpc_workers_start(srv))
		rc = -1;
	else if ((rc = pthread_create(&srv->loop_thread, NULL, event_loop, srv))) {
		errno = rc;
		rc = error_errno("rpc: event-loop thread");
		srv->loop_started = false;
	} else {
		srv->loop_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void rpc_server_stop(struct rpc_server *srv)
{
	uint64_t one = 1;

	if (!srv->started || atomic_exchange(&srv->stopping, true))
		return;
	if (srv->loop_started) {
		if (write(srv->wakefd, &one, sizeof(one)) < 0)
			warn("rpc: cannot wake the event loop");
		pthread_join(srv->loop_thread, NULL);
	}
	rpc_workers_stop(srv);
	rpc_drain_done(srv);
	for (struct rpc_conn *c = srv->conns, *next; c; c = next) {
		next = c->all_next;
		rpc_conn_close(c);
	}
	rpc_conns_bury(srv);
}

void rpc_server_free(struct rpc_server *srv)
{
	if (!srv)
		return;
	rpc_server_stop(srv);
	for (unsigned i = 0; i < srv->nlst; i++)
		if (srv->lst[i].proto == IPPROTO_TCP)
			close(srv->lst[i].fd); /* UDP fds were closed with their conn */
		else if (!srv->lst[i].udp)
			close(srv->lst[i].fd);
	rpc_pipe_pool_free(srv);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->wakefd >= 0)
		close(srv->wakefd);
	free(srv->workers);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->cond);
	free(srv);
}

void rpc_server_get_stats(struct rpc_server *srv, struct rpc_stats *out)
{
	uint64_t *dst = (uint64_t *)out;
	uint64_t *src = (uint64_t *)&srv->stats;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
