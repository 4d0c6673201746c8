/* nlm_locking.c: what TEST, LOCK, CANCEL, UNLOCK, SHARE and FREE_ALL do:
 * OFD locks on the owner's own open file description (so locks conflict
 * between owners and with host processes, and survive the NFS server's
 * other opens and closes), the lock table kept in step, blocked requests
 * queued and granted in arrival order. Called with mu held. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfs/nlm_internal.h"
#include "util/log.h"

int nlm_ofd_lock(int fd, int type, const struct nlm_range *r)
{
	struct flock fl = {
		.l_type = (short)type,
		.l_whence = SEEK_SET,
		.l_start = (off_t)r->start,
		.l_len = (off_t)nlm_range_wire_len(r),
	};

	return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

static int lock_type(const struct nlm_range *r)
{
	return r->excl ? F_WRLCK : F_RDLCK;
}

bool nlm_in_grace(struct nlm_service *s)
{
	if (s->grace_end_ms && nlm_now_ms() >= s->grace_end_ms) {
		s->grace_end_ms = 0;
		info("nlm: grace period over");
	}
	return s->grace_end_ms != 0;
}

static enum nlm_stat stat_from_errno(struct nlm_service *s, int err)
{
	switch (err) {
	case -EAGAIN:
	case -EACCES:
		return NLM_DENIED;
	case -EDEADLK:
		return NLM_DEADLCK;
	case -ENOLCK:
	case -ENOMEM:
		return NLM_DENIED_NOLOCKS;
	case -ESTALE:
	case -ENOENT:
	case -EBADR:
		return NLM_STALE_FH;
	case -EROFS:
		return NLM_ROFS;
	case -EBADF:
		return s->cfg.read_only ? NLM_ROFS : NLM_FAILED;
	case -EINVAL:
	case -EOVERFLOW:
		return NLM_FBIG;
	default:
		return NLM_FAILED;
	}
}

struct nlm_waiter *nlm_waiter_by_id(struct nlm_service *s, uint64_t id)
{
	for (struct nlm_waiter *w = s->waiters; w; w = w->next)
		if (w->id == id)
			return w;
	return NULL;
}

static struct nlm_waiter *waiter_find(struct nlm_service *s, struct nlm_file *f,
				      const struct nlm_owner *o, const struct nlm_range *r)
{
	for (struct nlm_waiter *w = s->waiters; w; w = w->next)
		if (w->file == f && w->owner == o && w->blk.r.start == r->start &&
		    w->blk.r.end == r->end && w->blk.r.excl == r->excl)
			return w;
	return NULL;
}

void nlm_waiter_free(struct nlm_service *s, struct nlm_waiter *w)
{
	for (struct nlm_waiter **pp = &s->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			s->nwaiters--;
			break;
		}
	}
	if (w->state == NLM_W_QUEUED)
		nlm_queue_remove(&w->file->table, &w->blk);
	w->h->users--;
	nlm_handle_put(s, w->file, w->h);
	nlm_owner_unref(s, w->owner);
	nlm_file_put(s, w->file);
	free(w->restore);
	free(w);
}

static struct nlm_waiter *waiter_new(struct nlm_service *s, const struct nlm_request *rq,
				     struct nlm_file *f, struct nlm_owner *o,
				     struct nlm_handle *h, const struct nlm_range *r)
{
	struct nlm_waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->id = ++s->next_id;
	w->blk.owner = o;
	w->blk.r = *r;
	w->blk.priv = w;
	w->state = NLM_W_QUEUED;
	w->file = f;
	w->owner = o;
	w->h = h;
	w->vers = rq->vers;
	w->proto = rq->proto;
	memcpy(w->fh, rq->a->lock.fh.data, rq->a->lock.fh.len);
	w->fh_len = rq->a->lock.fh.len;
	w->offset = rq->a->lock.offset;
	w->len = rq->a->lock.len;
	w->queued_ms = nlm_now_ms();
	w->next_poll_ms = w->queued_ms + NLM_POLL_MS;
	f->users++;
	h->users++;
	nlm_owner_ref(o);
	nlm_queue_append(&f->table, &w->blk);
	w->next = s->waiters;
	s->waiters = w;
	s->nwaiters++;
	return w;
}

/* The lock is ours: note what the owner held there (to give it back if
 * the client refuses the grant), record it, and call the client back. */
static void grant(struct nlm_service *s, struct nlm_waiter *w)
{
	const struct nlm_range *r = &w->blk.r;
	unsigned n = nlm_table_owner_pieces(&w->file->table, w->owner, r->start, r->end, NULL, 0);

	if (n) {
		w->restore = calloc(n, sizeof(*w->restore));
		if (w->restore)
			w->nrestore = nlm_table_owner_pieces(&w->file->table, w->owner, r->start,
							     r->end, w->restore, n);
	}
	if (nlm_table_set(&w->file->table, w->owner, r))
		warn("nlm: out of memory recording a granted lock");
	nlm_queue_remove(&w->file->table, &w->blk);
	w->state = NLM_W_GRANTED;
	w->granted_ms = nlm_now_ms();
	w->next_cb_ms = w->granted_ms;
	s->stats.granted++;
	nlm_queue_granted(s, w);
}

/* Polls a lock held outside NLM every NLM_POLL_MS for the first second of
 * the wait, then less often, up to NLM_POLL_MAX_MS. */
static long poll_interval(const struct nlm_waiter *w, long now)
{
	long waited = now - w->queued_ms;

	if (waited < 1000)
		return NLM_POLL_MS;
	return waited < 10000 ? 4 * NLM_POLL_MS : NLM_POLL_MAX_MS;
}

void nlm_retry_file(struct nlm_service *s, struct nlm_file *f, bool poll)
{
	struct nlm_block *after = NULL, *b;
	long now = nlm_now_ms();

	while ((b = nlm_queue_next_grantable(&f->table, after))) {
		struct nlm_waiter *w = b->priv;

		if (poll && w->next_poll_ms > now) {
			after = b;
			continue;
		}
		if (nlm_ofd_lock(w->h->fd, lock_type(&b->r), &b->r) == 0) {
			grant(s, w);
		} else {
			/* A holder outside NLM: the service thread polls. */
			w->next_poll_ms = now + poll_interval(w, now);
			after = b;
		}
	}
}

void nlm_release_grant(struct nlm_service *s, struct nlm_waiter *w)
{
	struct nlm_file *f = w->file;
	const struct nlm_range *r = &w->blk.r;

	f->users++;
	if (nlm_ofd_lock(w->h->fd, F_UNLCK, r))
		warn("nlm: cannot release a lock the client refused");
	nlm_table_clear(&f->table, w->owner, r->start, r->end);
	for (unsigned i = 0; i < w->nrestore; i++) {
		if (nlm_ofd_lock(w->h->fd, lock_type(&w->restore[i]), &w->restore[i]))
			continue; /* taken by another owner meanwhile */
		nlm_table_set(&f->table, w->owner, &w->restore[i]);
	}
	nlm_waiter_free(s, w);
	nlm_retry_file(s, f, false);
	nlm_file_put(s, f);
}

/* The owner a lock request speaks for, with its host; NULL if unknown and
 * not to be created. */
static struct nlm_owner *request_owner(struct nlm_service *s, const struct nlm_request *rq,
				       bool create)
{
	const struct nlm_lock_desc *l = &rq->a->lock;
	struct nlm_host *host = nlm_host_get(s, rq->peer, rq->peer_len, l->caller_name, create);

	if (!host)
		return NULL;
	if (create)
		host->proto = rq->proto;
	return nlm_owner_get(s, host, l->svid, l->oh, false, create);
}

static void note_client(struct nlm_service *s, const struct nlm_request *rq,
			const struct nlm_owner *o)
{
	char addr[NSM_ADDR_LEN];
	const struct sockaddr *sa = (const struct sockaddr *)&o->host->addr;
	const void *ip = sa->sa_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)sa)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;

	if (!rq->monitored || !inet_ntop(sa->sa_family, ip, addr, sizeof(addr)))
		return;
	nsm_state_add_client(&s->nsm, addr, rq->a->lock.caller_name);
}

enum nlm_stat nlm_op_test(struct nlm_service *s, const struct nlm_request *rq,
			  struct nlm_holder *holder, uint8_t *oh_buf)
{
	struct nlm_range r = nlm_range_from_wire(rq->a->lock.offset, rq->a->lock.len, rq->a->excl);
	struct nlm_owner *o;
	struct nlm_file *f;
	const struct nlm_lock *l;
	struct nlm_handle *h;
	struct flock fl;
	int path_fd, err, fd;

	if (nlm_in_grace(s))
		return NLM_DENIED_GRACE_PERIOD;
	f = nlm_file_get(s, rq->a->lock.fh, true, &path_fd, &err);
	if (!f)
		return stat_from_errno(s, err);
	o = request_owner(s, rq, false);
	l = nlm_table_conflict(&f->table, o, &r);
	if (l) {
		const struct nlm_owner *lo = l->owner;

		holder->excl = l->r.excl;
		holder->svid = lo->svid;
		memcpy(oh_buf, lo->oh, lo->oh_len);
		holder->oh = (struct nlm_netobj){ oh_buf, lo->oh_len };
		holder->offset = l->r.start;
		holder->len = nlm_range_wire_len(&l->r);
		goto denied;
	}
	/* Not an NLM owner's lock: ask the kernel (host processes). */
	h = o ? nlm_handle_find(f, o) : NULL;
	fd = h ? h->fd : -1;
	if (fd < 0) {
		char proc[64];

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
		fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	}
	fl = (struct flock){ .l_type = (short)lock_type(&r), .l_whence = SEEK_SET,
			     .l_start = (off_t)r.start, .l_len = (off_t)nlm_range_wire_len(&r) };
	err = fd < 0 || fcntl(fd, F_OFD_GETLK, &fl) < 0 ? -errno : 0;
	if (fd >= 0 && !h)
		close(fd);
	close(path_fd);
	nlm_file_put(s, f);
	if (err)
		return stat_from_errno(s, err);
	if (fl.l_type == F_UNLCK)
		return NLM_GRANTED;
	holder->excl = fl.l_type == F_WRLCK;
	holder->svid = fl.l_pid > 0 ? fl.l_pid : 0;
	holder->oh = (struct nlm_netobj){ oh_buf, 0 };
	holder->offset = (uint64_t)fl.l_start;
	holder->len = (uint64_t)fl.l_len;
	return NLM_DENIED;
denied:
	close(path_fd);
	nlm_file_put(s, f);
	return NLM_DENIED;
}

#define DEADLOCK_SEARCH_MAX 256

static bool note_owner(const void **seen, unsigned *n, const void *o)
{
	for (unsigned i = 0; i < *n; i++)
		if (seen[i] == o)
			return true;
	if (*n >= DEADLOCK_SEARCH_MAX)
		return false;
	seen[(*n)++] = o;
	return true;
}

/* Would `o` waiting for `r` on `f` close a cycle of NLM owners waiting for
 * each other (across files)? Follows the holders of conflicting locks to
 * the requests they are queued for, and those requests' holders. The
 * search is bounded; past the bound it answers no. */
static bool would_deadlock(struct nlm_service *s, struct nlm_file *f, const struct nlm_owner *o,
			   const struct nlm_range *r)
{
	const void *seen[DEADLOCK_SEARCH_MAX];
	unsigned n = 0;

	for (const struct nlm_lock *l = f->table.locks; l; l = l->next)
		if (l->owner != o && nlm_ranges_conflict(&l->r, r) && !note_owner(seen, &n, l->owner))
			return false;
	for (unsigned next = 0; next < n; next++) {
		for (const struct nlm_waiter *w = s->waiters; w; w = w->next) {
			if (w->owner != seen[next] || w->state != NLM_W_QUEUED)
				continue;
			for (const struct nlm_lock *l = w->file->table.locks; l; l = l->next) {
				if (l->owner == w->owner || !nlm_ranges_conflict(&l->r, &w->blk.r))
					continue;
				if (l->owner == o)
					return true;
				if (!note_owner(seen, &n, l->owner))
					return false;
			}
		}
	}
	return false;
}

static enum nlm_stat lock_owned(struct nlm_service *s, const struct nlm_request *rq,
				struct nlm_file *f, struct nlm_owner *o, int path_fd)
{
	const struct nlm_args *a = rq->a;
	struct nlm_range r = nlm_range_from_wire(a->lock.offset, a->lock.len, a->excl);
	struct nlm_waiter *w = waiter_find(s, f, o, &r);
	struct nlm_handle *h;
	int err, rc;

	h = nlm_handle_get(s, f, o, path_fd, &err);
	if (!h)
		return stat_from_errno(s, err);
	if (r.excl && !h->writable) {
		/* A read-only file system or file: no write lock on it. */
		nlm_handle_put(s, f, h);
		return NLM_ROFS;
	}
	rc = nlm_ofd_lock(h->fd, lock_type(&r), &r);
	if (rc == 0) {
		if (nlm_table_set(&f->table, o, &r))
			warn("nlm: out of memory recording a lock");
		/* A re-sent blocking LOCK answers for a queued or granted one. */
		if (w)
			nlm_waiter_free(s, w);
		note_client(s, rq, o);
		s->stats.granted++;
		s->stats.reclaimed += a->reclaim;
		return NLM_GRANTED;
	}
	if ((rc == -EAGAIN || rc == -EACCES) && a->block) {
		if (!w) {
			if (would_deadlock(s, f, o, &r)) {
				nlm_handle_put(s, f, h);
				s->stats.denied++;
				return NLM_DEADLCK;
			}
			if (s->nwaiters >= NLM_MAX_WAITERS) {
				nlm_handle_put(s, f, h);
				return NLM_DENIED_NOLOCKS;
			}
			if (!waiter_new(s, rq, f, o, h, &r)) {
				nlm_handle_put(s, f, h);
				return NLM_DENIED_NOLOCKS;
			}
			note_client(s, rq, o);
			pthread_cond_signal(&s->wake);
		}
		s->stats.blocked++;
		return NLM_BLOCKED;
	}
	nlm_handle_put(s, f, h);
	s->stats.denied++;
	return stat_from_errno(s, rc);
}

enum nlm_stat nlm_op_lock(struct nlm_service *s, const struct nlm_request *rq)
{
	const struct nlm_args *a = rq->a;
	struct nlm_owner *o;
	struct nlm_file *f;
	enum nlm_stat st;
	int path_fd, err;

	if (nlm_in_grace(s) != a->reclaim)
		return NLM_DENIED_GRACE_PERIOD;
	if (a->excl && s->cfg.read_only)
		return NLM_ROFS;
	if (a->lock.fh.len > NLM_MAXNETOBJ)
		return NLM_STALE_FH;
	o = request_owner(s, rq, true);
	if (!o)
		return NLM_DENIED_NOLOCKS;
	nlm_owner_ref(o);
	f = nlm_file_get(s, a->lock.fh, true, &path_fd, &err);
	if (!f) {
		nlm_owner_unref(s, o);
		return stat_from_errno(s, err);
	}
	st = lock_owned(s, rq, f, o, path_fd);
	close(path_fd);
	nlm_file_put(s, f);
	nlm_owner_unref(s, o);
	return st;
}

enum nlm_stat nlm_op_cancel(struct nlm_service *s, const struct nlm_request *rq)
{
	const struct nlm_args *a = rq->a;
	struct nlm_range r = nlm_range_from_wire(a->lock.offset, a->lock.len, a->excl);
	struct nlm_owner *o = request_owner(s, rq, false);
	struct nlm_waiter *w;
	struct nlm_file *f;
	int err;

	if (!o)
		return NLM_GRANTED; /* nothing of theirs is waiting */
	f = nlm_file_get(s, a->lock.fh, false, NULL, &err);
	if (!f)
		return err == -ENOENT ? NLM_GRANTED : stat_from_errno(s, err);
	w = waiter_find(s, f, o, &r);
	if (w && w->state == NLM_W_GRANTED) {
		nlm_release_grant(s, w);
	} else if (w) {
		nlm_waiter_free(s, w);
		nlm_retry_file(s, f, false);
	}
	nlm_file_put(s, f);
	return NLM_GRANTED;
}

enum nlm_stat nlm_op_unlock(struct nlm_service *s, const struct nlm_request *rq)
{
	const struct nlm_args *a = rq->a;
	struct nlm_range r = nlm_range_from_wire(a->lock.offset, a->lock.len, true);
	struct nlm_owner *o = request_owner(s, rq, false);
	struct nlm_handle *h;
	struct nlm_file *f;
	int err, rc;

	if (!o)
		return NLM_GRANTED;
	f = nlm_file_get(s, a->lock.fh, false, NULL, &err);
	if (!f)
		return err == -ENOENT ? NLM_GRANTED : stat_from_errno(s, err);
	h = nlm_handle_find(f, o);
	if (h) {
		rc = nlm_ofd_lock(h->fd, F_UNLCK, &r);
		if (rc)
			warn("nlm: unlock failed: %s", strerror(-rc));
		nlm_table_clear(&f->table, o, r.start, r.end);
		/* A grant the client has not confirmed yet is gone with it;
		 * h (and its owner) stay ours until the put below. */
		h->users++;
		for (struct nlm_waiter *w = s->waiters, *next; w; w = next) {
			next = w->next;
			if (w->file == f && w->owner == o && w->state == NLM_W_GRANTED &&
			    nlm_ranges_overlap(&w->blk.r, &r))
				nlm_waiter_free(s, w);
		}
		h->users--;
		nlm_handle_put(s, f, h);
		nlm_retry_file(s, f, false);
	}
	nlm_file_put(s, f);
	return NLM_GRANTED;
}

enum nlm_stat nlm_op_share(struct nlm_service *s, const struct nlm_request *rq, bool unshare)
{
	const struct nlm_args *a = rq->a;
	struct nlm_host *host;
	struct nlm_owner *o;
	struct nlm_file *f;
	bool had = false;
	int err, rc;

	if (!unshare && nlm_in_grace(s) != a->reclaim)
		return NLM_DENIED_GRACE_PERIOD;
	host = nlm_host_get(s, rq->peer, rq->peer_len, a->lock.caller_name, !unshare);
	o = host ? nlm_owner_get(s, host, 0, a->lock.oh, true, !unshare) : NULL;
	if (!o)
		return unshare ? NLM_GRANTED : NLM_DENIED_NOLOCKS;
	f = nlm_file_get(s, a->lock.fh, !unshare, NULL, &err);
	if (!f)
		return unshare && err == -ENOENT ? NLM_GRANTED : stat_from_errno(s, err);
	for (struct nlm_share *sh = f->table.shares; sh; sh = sh->next)
		had |= sh->owner == o;
	if (unshare) {
		if (had) {
			nlm_share_remove(&f->table, o);
			nlm_owner_unref(s, o);
		}
		nlm_file_put(s, f);
		return NLM_GRANTED;
	}
	rc = nlm_share_add(&f->table, o, a->share_mode, a->share_access);
	if (rc == 0 && !had)
		nlm_owner_ref(o);
	if (!had && rc)
		nlm_owner_unref(s, o); /* frees an owner made for nothing */
	nlm_file_put(s, f);
	return rc == 0 ? NLM_GRANTED : rc == -EAGAIN ? NLM_DENIED : NLM_DENIED_NOLOCKS;
}

static bool same_ip(const struct nlm_host *h, const struct sockaddr *peer, socklen_t len)
{
	struct sockaddr_storage key;
	socklen_t klen = peer ? nlm_host_key(peer, len, &key) : 0;

	return klen && h->addr_len == klen && !memcmp(&h->addr, &key, klen);
}

void nlm_op_client_rebooted(struct nlm_service *s, const char *name,
			    const struct sockaddr *peer, socklen_t peer_len)
{
	for (struct nlm_host *h = s->hosts, *next; h; h = next) {
		next = h->next;
		if (peer ? same_ip(h, peer, peer_len) : (name && !strcmp(h->name, name))) {
			info("nlm: client %s restarted: releasing its locks", h->name);
			nlm_host_forget(s, h);
		}
	}
}
