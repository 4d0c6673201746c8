/* rpc_workers.c: the bounded worker pool. Calls wait in a queue per
 * connection; the connections with waiting calls form a ring, and each
 * worker takes one call from the ring's head connection and moves that
 * connection to the tail, so one busy client cannot starve the others.
 * Finished calls go back to the event loop through the done list. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "nfs/rpc_internal.h"
#include "util/log.h"

static void wake_loop(struct rpc_server *srv)
{
	uint64_t one = 1;

	if (write(srv->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		rpc_warn_once(srv, 7, "cannot wake the event loop");
}

static void ring_push(struct rpc_server *srv, struct rpc_conn *c)
{
	c->in_ring = true;
	c->ring_next = NULL;
	if (srv->ring_tail)
		srv->ring_tail->ring_next = c;
	else
		srv->ring_head = c;
	srv->ring_tail = c;
}

static struct rpc_conn *ring_pop(struct rpc_server *srv)
{
	struct rpc_conn *c = srv->ring_head;

	srv->ring_head = c->ring_next;
	if (!srv->ring_head)
		srv->ring_tail = NULL;
	c->in_ring = false;
	return c;
}

void rpc_enqueue_job(struct rpc_server *srv, struct rpc_job *job)
{
	struct rpc_conn *c = job->conn;

	pthread_mutex_lock(&srv->lock);
	job->next = NULL;
	if (c->q_tail)
		c->q_tail->next = job;
	else
		c->q_head = job;
	c->q_tail = job;
	if (!c->in_ring)
		ring_push(srv, c);
	pthread_mutex_unlock(&srv->lock);
	/* After unlocking, so the woken worker does not block on the lock. */
	pthread_cond_signal(&srv->cond);
}

unsigned rpc_dequeue_conn(struct rpc_server *srv, struct rpc_conn *c)
{
	struct rpc_job *jobs;
	unsigned n = 0;

	pthread_mutex_lock(&srv->lock);
	jobs = c->q_head;
	c->q_head = c->q_tail = NULL;
	if (c->in_ring) {
		struct rpc_conn **pp = &srv->ring_head, *prev = NULL;

		while (*pp != c) {
			prev = *pp;
			pp = &(*pp)->ring_next;
		}
		*pp = c->ring_next;
		if (srv->ring_tail == c)
			srv->ring_tail = prev;
		c->in_ring = false;
	}
	pthread_mutex_unlock(&srv->lock);
	while (jobs) {
		struct rpc_job *next = jobs->next;

		rpc_job_free(srv, jobs);
		jobs = next;
		n++;
	}
	return n;
}

/* Takes the next thing to do, or NULL when stopping. Called locked. */
static struct rpc_job *next_job(struct rpc_server *srv)
{
	for (;;) {
		if (srv->tasks_head) {
			struct rpc_job *t = srv->tasks_head;

			srv->tasks_head = t->next;
			if (!srv->tasks_head)
				srv->tasks_tail = NULL;
			return t;
		}
		if (atomic_load(&srv->stopping))
			return NULL;
		if (srv->ring_head) {
			struct rpc_conn *c = ring_pop(srv);
			struct rpc_job *job = c->q_head;

			c->q_head = job->next;
			if (!c->q_head)
				c->q_tail = NULL;
			else
				ring_push(srv, c);
			return job;
		}
		pthread_cond_wait(&srv->cond, &srv->lock);
	}
}

static void *worker(void *arg)
{
	struct rpc_server *srv = arg;
	struct rpc_job *job;

	pthread_mutex_lock(&srv->lock);
	while ((job = next_job(srv))) {
		pthread_mutex_unlock(&srv->lock);
		if (job->task) {
			job->task(job->task_arg);
			free(job);
			pthread_mutex_lock(&srv->lock);
			continue;
		}
		rpc_run_job(job);
		pthread_mutex_lock(&srv->lock);
		job->next = NULL;
		if (srv->done_tail) {
			/* The loop has a wake-up pending and drains all. */
			srv->done_tail->next = job;
			srv->done_tail = job;
			continue;
		}
		srv->done_head = srv->done_tail = job;
		pthread_mutex_unlock(&srv->lock);
		wake_loop(srv);
		pthread_mutex_lock(&srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

void rpc_drain_done(struct rpc_server *srv)
{
	struct rpc_job *job;

	pthread_mutex_lock(&srv->lock);
	job = srv->done_head;
	srv->done_head = srv->done_tail = NULL;
	pthread_mutex_unlock(&srv->lock);
	while (job) {
		struct rpc_job *next = job->next;
		struct rpc_conn *c = job->conn;

		if (job->reply)
			rpc_conn_queue_reply(c, job->reply);
		else
			c->inflight--;
		job->reply = NULL;
		rpc_job_free(srv, job);
		rpc_conn_unref(c);
		job = next;
	}
}

int rpc_server_submit(struct rpc_server *srv, void (*fn)(void *arg), void *arg)
{
	struct rpc_job *t;

	if (atomic_load(&srv->stopping) || !srv->started)
		return -1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->task = fn;
	t->task_arg = arg;
	pthread_mutex_lock(&srv->lock);
	if (srv->tasks_tail)
		srv->tasks_tail->next = t;
	else
		srv->tasks_head = t;
	srv->tasks_tail = t;
	pthread_mutex_unlock(&srv->lock);
	pthread_cond_signal(&srv->cond);
	return 0;
}

int rpc_workers_start(struct rpc_server *srv)
{
	srv->workers = calloc(srv->cfg.workers, sizeof(pthread_t));
	if (!srv->workers)
		return error("rpc: out of memory for workers");
	for (unsigned i = 0; i < srv->cfg.workers; i++) {
		int rc = pthread_create(&srv->workers[i], NULL, worker, srv);

		if (rc) {
			errno = rc;
			return error_errno("rpc: worker thread");
		}
		srv->nworkers++;
	}
	return 0;
}

void rpc_workers_stop(struct rpc_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
	for (unsigned i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
	srv->nworkers = 0;
}
