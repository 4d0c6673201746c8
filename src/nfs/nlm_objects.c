/* nlm_objects.c: the NLM service's hosts, lock owners, files and per-owner
 * open file descriptions (see nlm_internal.h). Called with mu held. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nfs/nlm_internal.h"
#include "util/log.h"

long nlm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The address without its port (clients call from changing ports). */
socklen_t nlm_host_key(const struct sockaddr *peer, socklen_t len, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (peer->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;

		*in = *(const struct sockaddr_in *)peer;
		in->sin_port = 0;
		return sizeof(*in);
	}
	if (peer->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;

		*in6 = *(const struct sockaddr_in6 *)peer;
		in6->sin6_port = 0;
		in6->sin6_flowinfo = 0;
		return sizeof(*in6);
	}
	return 0;
}

struct nlm_host *nlm_host_get(struct nlm_service *s, const struct sockaddr *peer,
			      socklen_t len, const char *name, bool create)
{
	struct sockaddr_storage key;
	socklen_t klen = nlm_host_key(peer, len, &key);
	struct nlm_host *h;

	if (!klen)
		return NULL;
	for (h = s->hosts; h; h = h->next)
		if (h->addr_len == klen && !memcmp(&h->addr, &key, klen))
			break;
	if (!h && create && s->nhosts < NLM_MAX_HOSTS) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return NULL;
		h->addr = key;
		h->addr_len = klen;
		h->next = s->hosts;
		s->hosts = h;
		s->nhosts++;
	}
	if (h && name && name[0])
		snprintf(h->name, sizeof(h->name), "%s", name);
	return h;
}

struct nlm_owner *nlm_owner_get(struct nlm_service *s, struct nlm_host *host, int32_t svid,
				struct nlm_netobj oh, bool share, bool create)
{
	struct nlm_owner *o;

	for (o = s->owners; o; o = o->next)
		if (o->host == host && o->share == share && (share || o->svid == svid) &&
		    o->oh_len == oh.len && (!oh.len || !memcmp(o->oh, oh.data, oh.len)))
			return o;
	if (!create || s->nowners >= NLM_MAX_OWNERS)
		return NULL;
	o = calloc(1, sizeof(*o) + oh.len);
	if (!o)
		return NULL;
	o->host = host;
	o->svid = share ? 0 : svid;
	o->share = share;
	o->oh_len = oh.len;
	if (oh.len)
		memcpy(o->oh, oh.data, oh.len);
	o->next = s->owners;
	s->owners = o;
	s->nowners++;
	return o;
}

void nlm_owner_ref(struct nlm_owner *o)
{
	o->refs++;
}

void nlm_owner_unref(struct nlm_service *s, struct nlm_owner *o)
{
	if (o->refs && --o->refs)
		return;
	for (struct nlm_owner **pp = &s->owners; *pp; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			s->nowners--;
			free(o);
			return;
		}
	}
}

struct nlm_file *nlm_file_get(struct nlm_service *s, struct nlm_netobj fh, bool create,
			      int *path_fd, int *err)
{
	struct nlm_file *f;
	struct stat st;
	int fd;

	if (path_fd)
		*path_fd = -1;
	fd = s->cfg.open_fh(s->cfg.open_ctx, fh.data, fh.len);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	for (f = s->files; f; f = f->next)
		if (f->dev == st.st_dev && f->ino == st.st_ino)
			break;
	if (!f && create) {
		f = calloc(1, sizeof(*f));
		if (f) {
			f->dev = st.st_dev;
			f->ino = st.st_ino;
			nlm_table_init(&f->table);
			f->next = s->files;
			s->files = f;
		}
	}
	if (!f) {
		*err = create ? -ENOMEM : -ENOENT;
		close(fd);
		return NULL;
	}
	f->users++;
	if (path_fd)
		*path_fd = fd;
	else
		close(fd);
	return f;
}

void nlm_file_put(struct nlm_service *s, struct nlm_file *f)
{
	if (f->users)
		f->users--;
	if (f->users || f->handles || !nlm_table_empty(&f->table))
		return;
	for (struct nlm_file **pp = &s->files; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			nlm_table_free(&f->table);
			free(f);
			return;
		}
	}
}

struct nlm_handle *nlm_handle_find(struct nlm_file *f, const struct nlm_owner *o)
{
	for (struct nlm_handle *h = f->handles; h; h = h->next)
		if (h->owner == o)
			return h;
	return NULL;
}

/* A new open file description of the file behind path_fd (which may be
 * O_PATH): read-write where possible, so the owner can take both kinds of
 * lock on it; O_NONBLOCK so a FIFO cannot stall the server. */
static int reopen(int path_fd, bool read_only, bool *writable)
{
	char proc[64];
	int fd = -1;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
	if (!read_only)
		fd = open(proc, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	*writable = fd >= 0;
	if (fd < 0)
		fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

struct nlm_handle *nlm_handle_get(struct nlm_service *s, struct nlm_file *f,
				  struct nlm_owner *o, int path_fd, int *err)
{
	struct nlm_handle *h = nlm_handle_find(f, o);
	bool writable;
	int fd;

	if (h)
		return h;
	fd = reopen(path_fd, s->cfg.read_only, &writable);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	h->owner = o;
	h->fd = fd;
	h->writable = writable;
	nlm_owner_ref(o);
	h->next = f->handles;
	f->handles = h;
	return h;
}

static void handle_close(struct nlm_service *s, struct nlm_file *f, struct nlm_handle *h)
{
	for (struct nlm_handle **pp = &f->handles; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	close(h->fd); /* drops any OFD lock left on it */
	nlm_owner_unref(s, h->owner);
	free(h);
}

void nlm_handle_put(struct nlm_service *s, struct nlm_file *f, struct nlm_handle *h)
{
	if (!h || h->users || nlm_table_owner_holds(&f->table, h->owner))
		return;
	handle_close(s, f, h);
}

void nlm_hosts_sweep(struct nlm_service *s)
{
	for (struct nlm_host *h = s->hosts; h; h = h->next)
		h->in_use = false;
	for (struct nlm_owner *o = s->owners; o; o = o->next)
		o->host->in_use = true;
	for (struct nlm_host **pp = &s->hosts; *pp;) {
		struct nlm_host *h = *pp;

		if (h->in_use) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		s->nhosts--;
		free(h);
	}
}

void nlm_host_forget(struct nlm_service *s, struct nlm_host *host)
{
	for (struct nlm_waiter *w = s->waiters, *next; w; w = next) {
		next = w->next;
		if (w->owner->host != host)
			continue;
		if (w->state == NLM_W_GRANTED)
			nlm_release_grant(s, w);
		else
			nlm_waiter_free(s, w);
	}
	for (struct nlm_file *f = s->files, *fnext; f; f = fnext) {
		fnext = f->next;
		f->users++;
		for (struct nlm_handle *h = f->handles, *hnext; h; h = hnext) {
			hnext = h->next;
			if (h->owner->host != host)
				continue;
			nlm_table_clear_owner(&f->table, h->owner);
			handle_close(s, f, h);
		}
		for (struct nlm_owner *o = s->owners, *onext; o; o = onext) {
			onext = o->next;
			if (o->host != host || !o->share)
				continue;
			for (struct nlm_share *sh = f->table.shares; sh; sh = sh->next) {
				if (sh->owner == o) {
					nlm_share_remove(&f->table, o);
					nlm_owner_unref(s, o);
					break;
				}
			}
		}
		nlm_retry_file(s, f, false);
		nlm_file_put(s, f);
	}
}
