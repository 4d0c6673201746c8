/* nlm_service.c: the lock service's life cycle and its service thread,
 * which polls blocked requests held up by locks outside NLM (host
 * processes: the kernel tells nobody when those go), schedules GRANTED
 * retries and SM_NOTIFY to the previous run's clients, and ends the grace
 * period. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nfs/nlm_internal.h"
#include "util/log.h"

#define DEFAULT_GRACE_SECONDS 90

struct nlm_service *nlm_service_new(const struct nlm_config *cfg)
{
	struct nlm_service *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	if (!s) {
		error("nlm: out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	if (!s->cfg.client_pmap_port)
		s->cfg.client_pmap_port = 111;
	if (!s->cfg.grace_seconds)
		s->cfg.grace_seconds = DEFAULT_GRACE_SECONDS;
	if (cfg->nsm_name && cfg->nsm_name[0])
		snprintf(s->nsm_name, sizeof(s->nsm_name), "%s", cfg->nsm_name);
	else if (gethostname(s->nsm_name, sizeof(s->nsm_name) - 1) < 0)
		strcpy(s->nsm_name, "kvmini");
	s->cb_cred.flavor = RPC_AUTH_SYS;
	snprintf(s->cb_cred.machine, sizeof(s->cb_cred.machine), "%.255s", s->nsm_name);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&s->jobs_cv, NULL);
	s->jobs_tail = &s->jobs;
	if (nsm_state_open(&s->nsm, cfg->state_dir)) {
		nlm_service_free(s);
		return NULL;
	}
	if (s->nsm.nclients) {
		s->grace_end_ms = nlm_now_ms() + (long)s->cfg.grace_seconds * 1000;
		info("nlm: state %u; %u client(s) of the last run may reclaim locks for %u s",
		     s->nsm.state, s->nsm.nclients, s->cfg.grace_seconds);
	}
	return s;
}

int nlm_service_register(struct nlm_service *s, struct rpc_server *srv)
{
	if (nlm_register_programs(s, srv) || nsm_register_program(s, srv))
		return -1;
	return 0;
}

/* Work due now; returns how long the thread may sleep. */
static long service_tick(struct nlm_service *s)
{
	long now = nlm_now_ms(), sleep_ms = 1000;
	bool queued = false;

	nlm_in_grace(s);
	if (now >= s->next_sweep_ms) {
		nlm_hosts_sweep(s);
		s->next_sweep_ms = now + 10000;
	}
	for (struct nlm_file *f = s->files; f; f = f->next) {
		if (f->table.queue) {
			nlm_retry_file(s, f, true);
			queued |= f->table.queue != NULL;
		}
	}
	if (queued)
		sleep_ms = NLM_POLL_MS;
	for (struct nlm_waiter *w = s->waiters; w; w = w->next) {
		if (w->state != NLM_W_GRANTED || w->cb_busy)
			continue;
		if (w->next_cb_ms <= now)
			nlm_queue_granted(s, w);
		else if (w->next_cb_ms - now < sleep_ms)
			sleep_ms = w->next_cb_ms - now;
	}
	for (struct nsm_client *c = s->nsm.clients; c; c = c->next) {
		if (!c->to_notify || c->busy)
			continue;
		if (c->next_try_ms <= now)
			nlm_queue_notify(s, c);
		else if (c->next_try_ms - now < sleep_ms)
			sleep_ms = c->next_try_ms - now;
	}
	if (s->grace_end_ms && s->grace_end_ms - now < sleep_ms)
		sleep_ms = s->grace_end_ms - now;
	return sleep_ms < 1 ? 1 : sleep_ms;
}

static void *service_thread(void *arg)
{
	struct nlm_service *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		long ms = service_tick(s);
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += ms / 1000;
		ts.tv_nsec += (ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->wake, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int nlm_service_start(struct nlm_service *s)
{
	if (nlm_callbacks_start(s))
		return -1;
	if (pthread_create(&s->thread, NULL, service_thread, s))
		return error("nlm: cannot start the service thread");
	s->started = true;
	return 0;
}

static void release_everything(struct nlm_service *s)
{
	while (s->waiters)
		nlm_waiter_free(s, s->waiters);
	while (s->hosts) {
		struct nlm_host *h = s->hosts;

		nlm_host_forget(s, h);
		s->hosts = h->next;
		free(h);
	}
	while (s->files) {
		struct nlm_file *f = s->files;

		s->files = f->next;
		nlm_table_free(&f->table);
		free(f);
	}
	while (s->owners) {
		struct nlm_owner *o = s->owners;

		s->owners = o->next;
		free(o);
	}
}

void nlm_service_free(struct nlm_service *s)
{
	if (!s)
		return;
	nlm_callbacks_stop(s);
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	pthread_mutex_lock(&s->mu);
	info("nlm: %llu locks granted (%llu reclaimed), %llu blocked, %llu denied; %llu GRANTED "
	     "callbacks answered, %llu failed; %llu malformed calls",
	     (unsigned long long)s->stats.granted, (unsigned long long)s->stats.reclaimed,
	     (unsigned long long)s->stats.blocked, (unsigned long long)s->stats.denied,
	     (unsigned long long)s->stats.callbacks, (unsigned long long)s->stats.callback_failures,
	     (unsigned long long)s->stats.bad_args);
	release_everything(s);
	pthread_mutex_unlock(&s->mu);
	nsm_state_close(&s->nsm);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->jobs_cv);
	free(s);
}
