/* rpc_internal.h: the RPC server's private state, shared by its files
 * (rpc_server.c: programs, sockets, dispatch; rpc_conn.c: connection I/O;
 * rpc_workers.c: the worker pool; rpc_splice.c: zero-copy reply data). */
#ifndef KVMINI_NFS_RPC_INTERNAL_H
#define KVMINI_NFS_RPC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "nfs/rpc_record.h"
#include "nfs/rpc_server.h"

#define RPC_MAX_PROGRAMS 32
#define RPC_MAX_LISTENERS 8
#define RPC_MAX_CONNS 1024
#define RPC_PIPE_POOL 64
#define RPC_UDP_MAX_DATA 32768
/* Bulk opaques (NFS WRITE data) at least this long are spliced in. */
#define RPC_BULK_MIN 16384
#define RPC_PEEK_SIZE 512

enum rpc_ep_kind { EP_WAKE, EP_LISTEN, EP_CONN };

struct rpc_job {
	struct rpc_conn *conn;
	uint8_t *rec;           /* the request record (owned) */
	size_t rec_acct;        /* its bytes counted in buffered */
	struct rpc_call call;
	const struct rpc_program *prog;
	const struct rpc_proc *proc;
	struct rpc_reply *reply;
	int bulk_wr;             /* write end of call.bulk_pipe */
	void (*task)(void *arg); /* a plain submitted task (no conn) */
	void *task_arg;
	struct rpc_job *next;
};

struct rpc_conn {
	enum rpc_ep_kind kind;   /* EP_CONN: first, for epoll tags */
	struct rpc_server *srv;
	int fd;
	bool udp;
	bool dead;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct rpc_record_reader rd;
	struct rpc_reply *out_head, *out_tail;
	/* A bulk opaque being spliced from the socket into a pipe. */
	struct rpc_bulk {
		bool active;     /* splicing */
		bool ready;      /* all that goes to the pipe is in, record not finished yet */
		int pipe[2];
		uint32_t len;
		uint32_t left;
		uint32_t piped;  /* bytes in the pipe when ready (len, or less: the rest
				  * follows in the record, see bulk_stop_splicing) */
	} bulk;
	/* Read ahead (TCP): a record header is read with up to
	 * RPC_PEEK_SIZE following bytes in one recv; what the record reader
	 * has not taken yet. A connection left with such bytes when it had
	 * to stop reading waits on srv->ra_list (the socket may be empty, so
	 * epoll would not report it). */
	uint8_t ra[4 + RPC_PEEK_SIZE];
	uint32_t ra_off, ra_len;
	int ra_sock_left;        /* TCP_INQ after the read-ahead recv */
	bool ra_queued;
	struct rpc_conn *ra_next;
	unsigned inflight;       /* event-loop thread only */
	unsigned refs;           /* event-loop thread only */
	uint32_t events;         /* registered with epoll */
	/* Under srv->lock: calls waiting for a worker, and the ring link. */
	struct rpc_job *q_head, *q_tail;
	bool in_ring;
	struct rpc_conn *ring_next;
	struct rpc_conn *all_next, *all_prev;
};

struct rpc_listener {
	enum rpc_ep_kind kind;   /* EP_LISTEN */
	int fd;
	int proto;
	uint16_t port;
	struct rpc_conn *udp;    /* UDP: the pseudo-connection */
};

struct rpc_server {
	struct rpc_server_config cfg;
	struct rpc_program progs[RPC_MAX_PROGRAMS];
	unsigned nprogs;
	struct rpc_listener lst[RPC_MAX_LISTENERS];
	unsigned nlst;
	int epfd;
	int wakefd;              /* eventfd: completions and stop */
	enum rpc_ep_kind wake_kind;
	pthread_t loop_thread;
	pthread_t *workers;
	unsigned nworkers;
	bool started;
	bool loop_started;
	bool has_bulk;           /* some procedure takes bulk data */
	atomic_bool stopping;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rpc_conn *ring_head, *ring_tail;   /* conns with queued calls */
	struct rpc_job *tasks_head, *tasks_tail;  /* rpc_server_submit() */
	struct rpc_job *done_head, *done_tail;    /* finished calls */
	/* The loop is (about to be) asleep in epoll_wait: a finished call
	 * must wake it through wakefd; a busy loop drains done_head itself
	 * before it sleeps. wake_sent: a wake-up is on its way. */
	bool loop_idle;
	bool wake_sent;
	int pipe_pool[RPC_PIPE_POOL][2];
	unsigned npipes;

	/* Event-loop thread only. */
	struct rpc_conn *conns;
	struct rpc_conn *graveyard; /* unreferenced, freed after each batch */
	struct rpc_conn *ra_list;   /* connections with read-ahead bytes left */
	bool accept_paused;         /* out of descriptors */
	unsigned nconns;
	bool paused_mem;

	atomic_size_t buffered;
	struct rpc_stats stats;  /* updated with atomic adds */
	atomic_uint warned;      /* one bit per kind of complaint */
};

#define STAT_ADD(srv, field, n) __atomic_fetch_add(&(srv)->stats.field, (n), __ATOMIC_RELAXED)

/* Logs `msg` the first time complaint `bit` happens. */
void rpc_warn_once(struct rpc_server *srv, unsigned bit, const char *msg);

/* rpc_server.c */
void rpc_handle_record(struct rpc_conn *conn, uint8_t *rec, size_t len, size_t acct,
		       const struct sockaddr_storage *peer, socklen_t peer_len, struct rpc_bulk *bulk);
/* Finds whether a record's first bytes are a call with bulk data: stores
 * where in buf the data starts and its length. */
bool rpc_bulk_probe(struct rpc_server *srv, const uint8_t *buf, size_t len, size_t *data_off,
		    uint32_t *data_len);
bool rpc_run_job(struct rpc_job *job);
void rpc_job_free(struct rpc_server *srv, struct rpc_job *job);

/* rpc_conn.c */
struct rpc_conn *rpc_conn_new(struct rpc_server *srv, int fd, bool udp);
void rpc_conn_readable(struct rpc_conn *conn);
void rpc_conn_writable(struct rpc_conn *conn);
void rpc_conn_queue_reply(struct rpc_conn *conn, struct rpc_reply *reply);
void rpc_conn_close(struct rpc_conn *conn);
void rpc_conn_unref(struct rpc_conn *conn);
void rpc_conn_update_events(struct rpc_conn *conn);
void rpc_conns_resume(struct rpc_server *srv);
void rpc_conns_bury(struct rpc_server *srv);
void rpc_accept(struct rpc_server *srv, struct rpc_listener *l);
/* Reads on for connections whose read-ahead bytes wait (see rpc_conn.ra)
 * and may read now; returns true if one of those still may (the loop
 * must not sleep then). */
bool rpc_conns_read_ahead(struct rpc_server *srv);

/* rpc_workers.c */
int rpc_workers_start(struct rpc_server *srv);
void rpc_workers_stop(struct rpc_server *srv);
void rpc_enqueue_job(struct rpc_server *srv, struct rpc_job *job);
void rpc_drain_done(struct rpc_server *srv);
/* Before epoll_wait: drains finished calls; returns true if there were
 * some (do not sleep: replies may have made work), else marks the loop
 * idle so the next finished call wakes it. */
bool rpc_loop_before_sleep(struct rpc_server *srv);
void rpc_loop_after_sleep(struct rpc_server *srv);
/* Removes a closing connection's queued calls; returns how many. */
unsigned rpc_dequeue_conn(struct rpc_server *srv, struct rpc_conn *conn);

/* rpc_splice.c */
struct rpc_reply *rpc_reply_new(size_t max);
void rpc_reply_reset(struct rpc_server *srv, struct rpc_reply *reply);
void rpc_reply_free(struct rpc_server *srv, struct rpc_reply *reply);
void rpc_pipe_pool_free(struct rpc_server *srv);
/* A pipe from the pool or a new one: returns its capacity (max_data
 * unless the pipe quota is exhausted) or -errno. */
int rpc_pipe_get(struct rpc_server *srv, int fds[2]);
/* Back to the pool if empty, else closed. */
void rpc_pipe_put(struct rpc_server *srv, int fds[2]);

#endif
