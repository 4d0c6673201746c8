/* nlm_callback.c: calls from the lock service to its clients, made on a
 * few threads of their own so a dead client only stalls its own call:
 * GRANTED for a blocked lock that became free (retried with backoff while
 * the lock is kept, then taken back), the _RES answers of _MSG requests,
 * and SM_NOTIFY to the clients of the previous run. Each finds the
 * client's service through the client's port mapper. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfs/nlm_internal.h"
#include "nfs/rpc_client.h"
#include "util/log.h"

static void push_job(struct nlm_service *s, struct nlm_job *j)
{
	j->next = NULL;
	*s->jobs_tail = j;
	s->jobs_tail = &j->next;
	pthread_cond_signal(&s->jobs_cv);
}

static struct nlm_job *pop_job(struct nlm_service *s)
{
	struct nlm_job *j = s->jobs;

	if (j) {
		s->jobs = j->next;
		if (!s->jobs)
			s->jobs_tail = &s->jobs;
	}
	return j;
}

static void free_job(struct nlm_job *j)
{
	xdr_enc_free(&j->args);
	free(j);
}

static struct nlm_job *new_job(enum nlm_job_kind kind, const struct sockaddr_storage *addr,
			       socklen_t len, int proto, uint32_t prog, uint32_t vers, uint32_t proc)
{
	struct nlm_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->kind = kind;
	memcpy(&j->addr, addr, len);
	j->addr_len = len;
	j->proto = proto;
	j->prog = prog;
	j->vers = vers;
	j->proc = proc;
	xdr_enc_init(&j->args, 8192);
	return j;
}

static void id_cookie(uint64_t id, uint8_t out[8])
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(id >> (56 - 8 * i));
}

void nlm_queue_granted(struct nlm_service *s, struct nlm_waiter *w)
{
	const struct nlm_owner *o = w->owner;
	uint8_t cookie[8];
	struct nlm_job *j = new_job(NLM_JOB_GRANTED, &o->host->addr, o->host->addr_len, w->proto,
				    NLM_PROG, w->vers, NLMPROC_GRANTED);

	w->cb_busy = true;
	if (!j) {
		w->cb_busy = false;
		w->cb_failures++;
		return;
	}
	j->id = w->id;
	id_cookie(w->id, cookie);
	nlm_encode_testargs(&j->args, w->vers, (struct nlm_netobj){ cookie, 8 }, w->blk.r.excl,
			    s->nsm_name, (struct nlm_netobj){ w->fh, w->fh_len },
			    (struct nlm_netobj){ o->oh, o->oh_len }, o->svid, w->offset, w->len);
	push_job(s, j);
}

void nlm_queue_res(struct nlm_service *s, const struct sockaddr *peer, socklen_t len,
		   int proto, uint32_t vers, uint32_t proc, struct xdr_enc *res)
{
	struct sockaddr_storage key;
	socklen_t klen = nlm_host_key(peer, len, &key);
	struct nlm_job *j = klen ? new_job(NLM_JOB_RES, &key, klen, proto, NLM_PROG, vers, proc) :
				   NULL;

	if (!j) {
		xdr_enc_free(res);
		return;
	}
	xdr_enc_free(&j->args);
	j->args = *res;
	memset(res, 0, sizeof(*res));
	push_job(s, j);
}

void nlm_queue_notify(struct nlm_service *s, struct nsm_client *c)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct nlm_job *j;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, c->addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, c->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		len = sizeof(struct sockaddr_in6);
	} else {
		c->to_notify = false;
		return;
	}
	j = new_job(NLM_JOB_NOTIFY, &ss, len, IPPROTO_UDP, NSM_PROG, NSM_VERS, SM_NOTIFY);
	if (!j)
		return;
	snprintf(j->client, sizeof(j->client), "%s", c->addr);
	xdr_put_string(&j->args, s->nsm_name);
	xdr_put_u32(&j->args, s->nsm.state);
	c->busy = true;
	push_job(s, j);
}

/* Runs the call: port from the client's port mapper, then the procedure. */
static int run_job(struct nlm_service *s, struct nlm_job *j, struct xdr_enc *res, int timeout_ms)
{
	struct sockaddr_storage ss = j->addr;
	uint16_t port = 0;

	if (rpc_pmap_getport((struct sockaddr *)&ss, j->addr_len, s->cfg.client_pmap_port,
			     j->prog, j->vers, j->proto, &port, timeout_ms) < 0)
		return -1;
	if (!port) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	return rpc_client_call((struct sockaddr *)&ss, j->addr_len, j->proto, j->prog, j->vers,
			       j->proc, &s->cb_cred, j->args.buf, j->args.len, res, timeout_ms);
}

static long backoff_ms(unsigned failures, long max)
{
	long ms = 250L << (failures < 6 ? failures : 6);

	return ms > max ? max : ms;
}

/* The GRANTED call's outcome, with mu held. */
static void granted_done(struct nlm_service *s, struct nlm_job *j, int rc, struct xdr_enc *res)
{
	struct nlm_waiter *w = nlm_waiter_by_id(s, j->id);
	struct nlm_args a;
	struct xdr_dec d;

	if (!w || w->state != NLM_W_GRANTED)
		return; /* cancelled, unlocked or confirmed meanwhile */
	w->cb_busy = false;
	if (rc == 0) {
		xdr_dec_init(&d, res->buf, res->len);
		if (nlm_decode_res(&d, &a) == 0) {
			s->stats.callbacks++;
			if (a.stat == NLM_GRANTED)
				nlm_waiter_free(s, w); /* the client has it */
			else
				nlm_release_grant(s, w); /* nobody waits for it there */
			return;
		}
	}
	s->stats.callback_failures++;
	if (++w->cb_failures >= NLM_CALLBACK_TRIES) {
		warn("nlm: client %s does not take the GRANTED callback; lock taken back",
		     w->owner->host->name);
		nlm_release_grant(s, w);
		return;
	}
	w->next_cb_ms = nlm_now_ms() + backoff_ms(w->cb_failures, 4000);
	pthread_cond_signal(&s->wake);
}

static void notify_done(struct nlm_service *s, struct nlm_job *j, int rc)
{
	struct nsm_client *c = nsm_state_find(&s->nsm, j->client);

	if (!c)
		return;
	c->busy = false;
	if (rc == 0 || ++c->tries >= NSM_NOTIFY_TRIES) {
		if (rc)
			warn("nsm: client %s did not take SM_NOTIFY", c->addr);
		else
			info("nsm: notified %s of the restart", c->addr);
		c->to_notify = false;
		if (!c->active)
			nsm_state_remove(&s->nsm, c);
		return;
	}
	c->next_try_ms = nlm_now_ms() + backoff_ms(c->tries, 10000);
	pthread_cond_signal(&s->wake);
}

void nlm_granted_answer(struct nlm_service *s, struct nlm_netobj cookie, uint32_t stat)
{
	uint64_t id = 0;
	struct nlm_waiter *w;

	if (cookie.len != 8)
		return;
	for (int i = 0; i < 8; i++)
		id = id << 8 | cookie.data[i];
	w = nlm_waiter_by_id(s, id);
	if (!w || w->state != NLM_W_GRANTED)
		return;
	if (stat == NLM_GRANTED)
		nlm_waiter_free(s, w);
	else
		nlm_release_grant(s, w);
}

static void *callback_thread(void *arg)
{
	struct nlm_service *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		struct nlm_job *j = pop_job(s);
		struct xdr_enc res;
		int rc;

		if (!j) {
			pthread_cond_wait(&s->jobs_cv, &s->mu);
			continue;
		}
		pthread_mutex_unlock(&s->mu);
		xdr_enc_init(&res, 4096);
		rc = run_job(s, j, &res, j->kind == NLM_JOB_RES ? 1500 : NLM_CALLBACK_TIMEOUT_MS);
		pthread_mutex_lock(&s->mu);
		if (j->kind == NLM_JOB_GRANTED)
			granted_done(s, j, rc, &res);
		else if (j->kind == NLM_JOB_NOTIFY)
			notify_done(s, j, rc);
		xdr_enc_free(&res);
		free_job(j);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int nlm_callbacks_start(struct nlm_service *s)
{
	for (unsigned i = 0; i < NLM_CALLBACK_THREADS; i++) {
		if (pthread_create(&s->cb_threads[i], NULL, callback_thread, s)) {
			error("nlm: cannot start a callback thread");
			return -1;
		}
		s->ncb_threads++;
	}
	return 0;
}

void nlm_callbacks_stop(struct nlm_service *s)
{
	struct nlm_job *j;

	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->jobs_cv);
	pthread_mutex_unlock(&s->mu);
	for (unsigned i = 0; i < s->ncb_threads; i++)
		pthread_join(s->cb_threads[i], NULL);
	s->ncb_threads = 0;
	while ((j = pop_job(s)))
		free_job(j);
}
