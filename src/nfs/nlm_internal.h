/* nlm_internal.h: the NLM/NSM service's objects, shared by nlm_*.c and
 * nsm_*.c. Everything here is guarded by nlm_service.mu.
 *
 * host    a client machine (by IP address), with its lock owners
 * owner   (host, svid, oh): what NLM calls a lock owner; share owners are
 *         (host, oh) with `share` set
 * file    an exported file by (dev, ino), with its lock table
 * handle  one owner's open file description on a file: its OFD locks are
 *         the owner's real locks, so they conflict with other owners and
 *         with host processes
 * waiter  a blocked LOCK, queued in its file's table until it is granted,
 *         then kept until the client has taken the GRANTED callback */
#ifndef KVMINI_NFS_NLM_INTERNAL_H
#define KVMINI_NFS_NLM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "nfs/nlm.h"
#include "nfs/nlm_table.h"
#include "nfs/nlm_xdr.h"
#include "nfs/nsm_state.h"
#include "nfs/xdr.h"

#define NLM_MAX_HOSTS 1024
#define NLM_MAX_OWNERS 16384
#define NLM_MAX_WAITERS 4096
#define NLM_CALLBACK_THREADS 4
#define NLM_CALLBACK_TIMEOUT_MS 3000
#define NLM_CALLBACK_TRIES 5
#define NLM_POLL_MS 20           /* first retries of a lock held outside NLM */
#define NLM_POLL_MAX_MS 250      /* ...slowing down to this after a while */
#define NSM_NOTIFY_TRIES 8

struct nlm_host {
	struct nlm_host *next;
	struct sockaddr_storage addr;   /* port cleared */
	socklen_t addr_len;
	char name[NLM_MAXNAME + 1];     /* last caller_name seen */
	int proto;                      /* transport of its last request */
	bool in_use;                    /* nlm_hosts_sweep() mark */
};

struct nlm_owner {
	struct nlm_owner *next;
	struct nlm_host *host;
	int32_t svid;
	bool share;
	unsigned refs;                  /* handles, waiters and shares using it */
	uint32_t oh_len;
	uint8_t oh[];
};

struct nlm_handle {
	struct nlm_handle *next;
	struct nlm_owner *owner;
	int fd;
	bool writable;                  /* opened read-write: exclusive locks possible */
	unsigned users;                 /* waiters using it */
};

struct nlm_file {
	struct nlm_file *next;
	dev_t dev;
	ino_t ino;
	struct nlm_table table;
	struct nlm_handle *handles;
	unsigned users;                 /* requests in progress */
};

enum nlm_waiter_state { NLM_W_QUEUED, NLM_W_GRANTED };

struct nlm_waiter {
	struct nlm_waiter *next;        /* nlm_service.waiters */
	struct nlm_block blk;           /* blk.priv == this */
	uint64_t id;                    /* also the cookie of our callbacks */
	enum nlm_waiter_state state;
	struct nlm_file *file;
	struct nlm_owner *owner;
	struct nlm_handle *h;
	uint32_t vers;
	int proto;
	uint8_t fh[NLM_MAXNETOBJ];
	uint32_t fh_len;
	uint64_t offset, len;           /* as the client sent them */
	struct nlm_range *restore;      /* what the owner held there before */
	unsigned nrestore;
	unsigned cb_failures;
	bool cb_busy;
	long next_cb_ms;
	long granted_ms;
	long queued_ms;
	long next_poll_ms;              /* next retry while held outside NLM */
};

enum nlm_job_kind { NLM_JOB_GRANTED, NLM_JOB_RES, NLM_JOB_NOTIFY };

struct nlm_job {
	struct nlm_job *next;
	enum nlm_job_kind kind;
	uint64_t id;                    /* waiter (GRANTED) */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int proto;
	uint32_t prog, vers, proc;
	struct xdr_enc args;
	char client[NSM_ADDR_LEN];      /* NOTIFY: the client list entry */
};

struct nlm_stats_counters {
	uint64_t granted, reclaimed, denied, blocked, callbacks, callback_failures, bad_args;
};

struct nlm_service {
	pthread_mutex_t mu;
	pthread_cond_t wake;            /* the service thread */
	pthread_cond_t jobs_cv;         /* the callback threads */
	bool stop, started;
	struct nlm_config cfg;
	char nsm_name[NLM_MAXNAME + 1];
	struct rpc_cred cb_cred;
	struct nlm_host *hosts;
	unsigned nhosts;
	struct nlm_owner *owners;
	unsigned nowners;
	struct nlm_file *files;
	struct nlm_waiter *waiters;
	unsigned nwaiters;
	uint64_t next_id;
	struct nlm_job *jobs, **jobs_tail;
	pthread_t thread;
	pthread_t cb_threads[NLM_CALLBACK_THREADS];
	unsigned ncb_threads;
	struct nsm_state nsm;
	long grace_end_ms;              /* 0: not in grace */
	long next_sweep_ms;
	struct nlm_stats_counters stats;
	bool warned_bad_args;
};

long nlm_now_ms(void);

/* nlm_objects.c */
/* A client's address without port (its identity). 0 if not IPv4/IPv6. */
socklen_t nlm_host_key(const struct sockaddr *peer, socklen_t len, struct sockaddr_storage *out);
struct nlm_host *nlm_host_get(struct nlm_service *s, const struct sockaddr *peer,
			      socklen_t len, const char *name, bool create);
struct nlm_owner *nlm_owner_get(struct nlm_service *s, struct nlm_host *host, int32_t svid,
				struct nlm_netobj oh, bool share, bool create);
void nlm_owner_ref(struct nlm_owner *o);
void nlm_owner_unref(struct nlm_service *s, struct nlm_owner *o);
/* Finds (or with `create`, makes) the file a handle names; *path_fd gets
 * the opened file (caller closes) when not NULL. Returns NULL with -errno
 * in *err. The file is held (file->users) until nlm_file_put(). */
struct nlm_file *nlm_file_get(struct nlm_service *s, struct nlm_netobj fh, bool create,
			      int *path_fd, int *err);
void nlm_file_put(struct nlm_service *s, struct nlm_file *f);
struct nlm_handle *nlm_handle_find(struct nlm_file *f, const struct nlm_owner *o);
/* Opens the owner's file description from path_fd if it has none. */
struct nlm_handle *nlm_handle_get(struct nlm_service *s, struct nlm_file *f,
				  struct nlm_owner *o, int path_fd, int *err);
/* Closes the handle once its owner holds nothing there and no waiter uses it. */
void nlm_handle_put(struct nlm_service *s, struct nlm_file *f, struct nlm_handle *h);
/* Frees the hosts no lock owner refers to any more. */
void nlm_hosts_sweep(struct nlm_service *s);
/* Drops every lock, share and waiter of `host` (client rebooted). */
void nlm_host_forget(struct nlm_service *s, struct nlm_host *host);

/* nlm_locking.c: the lock procedures' work, called with mu held. */
struct nlm_request {
	const struct nlm_args *a;
	uint32_t vers;
	int proto;
	const struct sockaddr *peer;
	socklen_t peer_len;
	bool monitored;
};
int nlm_ofd_lock(int fd, int type, const struct nlm_range *r);
bool nlm_in_grace(struct nlm_service *s);
enum nlm_stat nlm_op_test(struct nlm_service *s, const struct nlm_request *rq,
			  struct nlm_holder *holder, uint8_t *oh_buf);
enum nlm_stat nlm_op_lock(struct nlm_service *s, const struct nlm_request *rq);
enum nlm_stat nlm_op_cancel(struct nlm_service *s, const struct nlm_request *rq);
enum nlm_stat nlm_op_unlock(struct nlm_service *s, const struct nlm_request *rq);
enum nlm_stat nlm_op_share(struct nlm_service *s, const struct nlm_request *rq, bool unshare);
/* FREE_ALL and SM_NOTIFY: a client restarted; name or address match. */
void nlm_op_client_rebooted(struct nlm_service *s, const char *name,
			    const struct sockaddr *peer, socklen_t peer_len);
/* Tries the queued requests of `f` in arrival order that no NLM owner
 * stands in the way of: all of them after an NLM owner released a range,
 * or (`poll`) those due for another try at a lock held outside NLM. */
void nlm_retry_file(struct nlm_service *s, struct nlm_file *f, bool poll);
void nlm_waiter_free(struct nlm_service *s, struct nlm_waiter *w);
/* Takes a granted lock back (the client refused it or cannot be reached),
 * restoring what the owner held there before, and frees the waiter. */
void nlm_release_grant(struct nlm_service *s, struct nlm_waiter *w);
struct nlm_waiter *nlm_waiter_by_id(struct nlm_service *s, uint64_t id);

/* nlm_callback.c: calls to clients, run on the callback threads. */
int nlm_callbacks_start(struct nlm_service *s);
void nlm_callbacks_stop(struct nlm_service *s);
/* Queues the GRANTED callback of a granted waiter (mu held). */
void nlm_queue_granted(struct nlm_service *s, struct nlm_waiter *w);
/* Queues a one-way _RES message with `res` (taken over) to the caller. */
void nlm_queue_res(struct nlm_service *s, const struct sockaddr *peer, socklen_t len,
		   int proto, uint32_t vers, uint32_t proc, struct xdr_enc *res);
void nlm_queue_notify(struct nlm_service *s, struct nsm_client *c);
/* A GRANTED_RES (or a GRANTED reply) for the waiter whose id is `cookie`. */
void nlm_granted_answer(struct nlm_service *s, struct nlm_netobj cookie, uint32_t stat);

/* nlm_proc.c / nsm_proc.c */
int nlm_register_programs(struct nlm_service *s, struct rpc_server *srv);
int nsm_register_program(struct nlm_service *s, struct rpc_server *srv);
/* Counts and logs (once) a malformed argument. */
enum rpc_accept_stat nlm_garbage(struct nlm_service *s, const char *what);

#endif
