/* dumper.c: when dumps are taken. A guest panic or triple fault is dumped
 * from the vCPU thread that saw it (once: a second crash report is ignored),
 * then kvmini exits with the crash status; SIGUSR1 or the control socket's
 * `dump` command dumps on demand from a worker thread and the guest resumes. One dump at a time: a request while
 * one is being written is refused; a crash during an on-demand dump is
 * dumped right after it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "dump/dump.h"
#include "dump/take.h"
#include "util/log.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

struct dumper {
	struct vm *vm;
	struct dump_options opt;
	int signal_fd;
	pthread_mutex_t lock;
	pthread_cond_t idle;  /* signalled when busy goes false */
	bool busy;            /* a dump is being written */
	bool crash_taken;     /* the guest's crash has been (or is being) dumped */
	bool worker_started;
	pthread_t worker;
	unsigned seq;
	/* A crash reported while an on-demand dump was being written. */
	bool crash_pending;
	const char *pending_reason;
	int pending_cpu, pending_status;
	/* The last on-demand dump: its number and whether it was written. */
	bool have_last;
	unsigned last_seq;
	bool last_ok;
};

static const char *event_reason(enum vm_event ev)
{
	return ev == VM_EVENT_PANIC ? "panic" : "triple-fault";
}

static bool wanted(const struct dumper *d, enum vm_event ev)
{
	return ev == VM_EVENT_PANIC ? d->opt.on_panic : d->opt.on_triple_fault;
}

static unsigned next_seq(struct dumper *d)
{
	return d->seq++; /* called with d->lock held */
}

/* From the vCPU thread that saw the crash. */
static bool on_guest_event(struct vm *vm, struct vcpu *vcpu, enum vm_event ev, void *opaque)
{
	struct dumper *d = opaque;
	int cpu = vcpu ? vcpu->id : -1;
	unsigned seq;

	if (!wanted(d, ev))
		return false;
	pthread_mutex_lock(&d->lock);
	if (d->crash_taken) {
		pthread_mutex_unlock(&d->lock);
		info("dump: the guest reported another crash (%s); only the first one is dumped",
		     event_reason(ev));
		return true; /* the first crash's dump ends the VM */
	}
	d->crash_taken = true;
	if (d->busy) {
		d->crash_pending = true;
		d->pending_reason = event_reason(ev);
		d->pending_cpu = cpu;
		d->pending_status = ev == VM_EVENT_PANIC ? EXIT_GUEST_PANIC : EXIT_TRIPLE_FAULT;
		pthread_mutex_unlock(&d->lock);
		info("dump: crash (%s) while a dump is being written; dumping it right after",
		     event_reason(ev));
		return true;
	}
	d->busy = true;
	seq = next_seq(d);
	pthread_mutex_unlock(&d->lock);
	dump_take(vm, &d->opt, event_reason(ev), cpu, seq);
	pthread_mutex_lock(&d->lock);
	d->busy = false;
	pthread_cond_broadcast(&d->idle);
	pthread_mutex_unlock(&d->lock);
	return false; /* exit with the crash status */
}

static void *dump_worker(void *opaque)
{
	struct dumper *d = opaque;
	unsigned seq;

	int ret;

	pthread_mutex_lock(&d->lock);
	seq = d->last_seq; /* chosen by dumper_request() */
	pthread_mutex_unlock(&d->lock);
	ret = dump_take(d->vm, &d->opt, "request", -1, seq);
	pthread_mutex_lock(&d->lock);
	d->have_last = true;
	d->last_ok = ret == 0;
	if (d->crash_pending) {
		d->crash_pending = false;
		seq = next_seq(d);
		pthread_mutex_unlock(&d->lock);
		dump_take(d->vm, &d->opt, d->pending_reason, d->pending_cpu, seq);
		vm_request_exit(d->vm, d->pending_status);
		pthread_mutex_lock(&d->lock);
	}
	d->busy = false;
	pthread_cond_broadcast(&d->idle);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static void start_worker(struct dumper *d)
{
	sigset_t all, old;
	int err;

	if (d->worker_started)
		pthread_join(d->worker, NULL); /* finished: busy was clear */
	d->worker_started = false;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&d->worker, NULL, dump_worker, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errno = err;
		error_errno("cannot start the dump thread");
		d->busy = false;
		return;
	}
	d->worker_started = true;
}

int dumper_request(struct dumper *d, unsigned *seq)
{
	pthread_mutex_lock(&d->lock);
	if (d->busy || d->crash_taken) {
		pthread_mutex_unlock(&d->lock);
		return -1;
	}
	d->busy = true;
	d->have_last = false;
	d->last_seq = *seq = next_seq(d);
	start_worker(d);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void dumper_status(struct dumper *d, struct dumper_state *st)
{
	pthread_mutex_lock(&d->lock);
	st->busy = d->busy;
	st->have_last = d->have_last;
	st->last_seq = d->last_seq;
	st->last_ok = d->last_ok;
	pthread_mutex_unlock(&d->lock);
	st->dir = d->opt.dir;
	st->formats = d->opt.formats;
}

/* SIGUSR1, in the device thread. */
static void on_dump_signal(void *opaque, uint32_t events)
{
	struct dumper *d = opaque;
	struct signalfd_siginfo si;
	unsigned seq;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si))
		if (dumper_request(d, &seq))
			warn("dump requested (SIGUSR1) while another dump is being written: refused; "
			     "ask again when it is done");
}

static int watch_dump_signal(struct dumper *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->signal_fd < 0)
		return error_errno("signalfd for SIGUSR1 dumps");
	return event_loop_add(&d->vm->loop, d->signal_fd, EPOLLIN, on_dump_signal, d);
}

static int check_dir(const char *dir)
{
	if (access(dir, W_OK | X_OK) < 0)
		return error_errno("--dump-dir %s is not a writable directory; create it first", dir);
	return 0;
}

struct dumper *dumper_create(struct vm *vm, const struct dump_options *o)
{
	struct dumper *d;

	if (!o->dir)
		return NULL;
	if (check_dir(o->dir))
		return NULL;
	d = vm_zalloc(vm, sizeof(*d));
	if (!d) {
		error("out of memory for the dumper");
		return NULL;
	}
	d->vm = vm;
	d->opt = *o;
	d->signal_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->idle, NULL);
	if (watch_dump_signal(d) || vm_add_listener(vm, on_guest_event, d)) {
		if (d->signal_fd >= 0)
			close(d->signal_fd);
		return NULL;
	}
	return d;
}

void dumper_stop(struct dumper *d)
{
	bool started;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	while (d->busy) /* a crash dump in a vCPU thread finishes before the VM goes */
		pthread_cond_wait(&d->idle, &d->lock);
	started = d->worker_started;
	d->worker_started = false;
	pthread_mutex_unlock(&d->lock);
	if (started)
		pthread_join(d->worker, NULL);
	if (d->signal_fd >= 0) {
		event_loop_del(&d->vm->loop, d->signal_fd);
		close(d->signal_fd);
		d->signal_fd = -1;
	}
}
