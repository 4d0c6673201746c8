/* vm.c: VM lifecycle: create, start vCPUs, run the device loop, exit. */
#include "vm/vm.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "arch/x86/x86.h"
#include "util/log.h"
#include "vm/kvm.h"
#include "vm/vcpu.h"

static void stop_signals(sigset_t *set);

static int create_vcpus(struct vm *vm)
{
	vm->vcpus = calloc((size_t)vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return error("out of memory for %d vCPUs", vm->ncpus);
	for (int i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (int i = 0; i < vm->ncpus; i++) {
		if (vcpu_create(vm, &vm->vcpus[i], i))
			return -1;
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	sigset_t stop;

	/* Blocked before any thread exists: a stop signal that comes early
	 * waits for the device loop's signalfd instead of killing kvmini. */
	stop_signals(&stop);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->ncpus = cfg->ncpus;
	vm->kvm_fd = vm->vm_fd = vm->exit_fd = vm->signal_fd = -1;
	vm->mem.memfd = -1;
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	io_bus_init(&vm->pio);
	io_bus_init(&vm->mmio);
	if (vm->ncpus < 1 || vm->ncpus > VM_MAX_CPUS)
		return error("--cpus %d is out of range: use 1 to %d", vm->ncpus, VM_MAX_CPUS);
	if (event_loop_init(&vm->loop))
		return -1;
	vm->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_fd < 0)
		return error_errno("eventfd");
	vm->kvm_fd = kvm_open();
	if (vm->kvm_fd < 0 || kvm_check_capabilities(vm->kvm_fd))
		return -1;
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0)
		return error_errno("KVM_GET_VCPU_MMAP_SIZE");
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return error_errno("KVM_CREATE_VM (is another hypervisor holding VT-x/SVM?)");
	if (guest_memory_create(&vm->mem, cfg->mem_size) ||
	    guest_memory_map_kvm(&vm->mem, vm->vm_fd))
		return -1;
	if (x86_vm_init(vm))
		return -1;
	return create_vcpus(vm);
}

int vm_start_vcpus(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++)
		if (vcpu_start(&vm->vcpus[i]))
			return -1;
	return 0;
}

static void on_exit_event(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;

	event_loop_stop(&vm->loop);
}

static void on_signal(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	if (read(vm->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	info("stopping on signal %u", si.ssi_signo);
	vm_request_exit(vm, EXIT_SIGNAL);
}

/* SIGINT/SIGTERM/SIGHUP end the VM through the device loop (restoring the
 * terminal); they are blocked in every thread and read from a signalfd. */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

static int watch_signals(struct vm *vm)
{
	sigset_t set;

	stop_signals(&set);
	vm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->signal_fd < 0)
		return error_errno("signalfd");
	return event_loop_add(&vm->loop, vm->signal_fd, EPOLLIN, on_signal, vm);
}

int vm_run(struct vm *vm)
{
	if (watch_signals(vm) ||
	    event_loop_add(&vm->loop, vm->exit_fd, EPOLLIN, on_exit_event, vm) ||
	    vm_start_vcpus(vm))
		return EXIT_ERROR;
	if (event_loop_run(&vm->loop))
		return EXIT_ERROR;
	return __atomic_load_n(&vm->exit_status, __ATOMIC_ACQUIRE);
}

/* Releases paused vCPUs, kicks the rest out of KVM_RUN and joins them;
 * returns -1 if one does not stop within a second. */
static int stop_vcpus(struct vm *vm)
{
	struct timespec deadline;
	int ret = 0;

	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requests = 0;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 1;
	for (int i = 0; i < vm->ncpus; i++) {
		if (!vm->vcpus[i].started)
			continue;
		vcpu_kick(&vm->vcpus[i]);
		if (pthread_timedjoin_np(vm->vcpus[i].thread, NULL, &deadline))
			ret = -1;
		else
			vm->vcpus[i].started = false;
	}
	return ret;
}

int vm_destroy(struct vm *vm)
{
	__atomic_store_n(&vm->exiting, true, __ATOMIC_RELEASE);
	if (vm->vcpus && stop_vcpus(vm))
		return -1; /* a vCPU is stuck in a device: leave everything to exit() */
	while (vm->ncleanups > 0) {
		vm->ncleanups--;
		vm->cleanups[vm->ncleanups].fn(vm->cleanups[vm->ncleanups].arg);
	}
	for (int i = 0; vm->vcpus && i < vm->ncpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	free(vm->supported_cpuid);
	for (int i = 0; i < vm->nallocs; i++)
		free(vm->allocs[i]);
	vm->nallocs = 0;
	guest_memory_destroy(&vm->mem);
	event_loop_destroy(&vm->loop);
	if (vm->signal_fd >= 0)
		close(vm->signal_fd);
	if (vm->exit_fd >= 0)
		close(vm->exit_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	return 0;
}

void vm_request_exit(struct vm *vm, int status)
{
	uint64_t one = 1;

	if (__atomic_exchange_n(&vm->exiting, true, __ATOMIC_ACQ_REL))
		return;
	__atomic_store_n(&vm->exit_status, status, __ATOMIC_RELEASE);
	if (write(vm->exit_fd, &one, sizeof(one)) < 0)
		_exit(status);
}

int vm_add_listener(struct vm *vm, vm_event_fn fn, void *opaque)
{
	if (vm->nlisteners == VM_MAX_LISTENERS)
		return error("too many VM event listeners");
	vm->listeners[vm->nlisteners].fn = fn;
	vm->listeners[vm->nlisteners].opaque = opaque;
	vm->nlisteners++;
	return 0;
}

void vm_guest_event(struct vm *vm, struct vcpu *vcpu, enum vm_event ev, int status)
{
	for (int i = 0; i < vm->nlisteners; i++)
		if (vm->listeners[i].fn(vm, vcpu, ev, vm->listeners[i].opaque))
			return;
	vm_request_exit(vm, status);
}

void vm_pause(struct vm *vm)
{
	struct vcpu *self = vcpu_current(); /* a vCPU pausing the others */
	bool counted = self && !self->paused;

	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requests++;
	for (int i = 0; i < vm->ncpus; i++)
		if (!vm->vcpus[i].paused && &vm->vcpus[i] != self)
			vcpu_kick(&vm->vcpus[i]);
	if (counted)
		vm->running_vcpus--;
	while (vm->running_vcpus > 0)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	if (counted)
		vm->running_vcpus++;
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	if (vm->pause_requests > 0)
		vm->pause_requests--;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_set_irq(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		warn("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
}

void *vm_zalloc(struct vm *vm, size_t size)
{
	void *p;

	if (vm->nallocs == (int)(sizeof(vm->allocs) / sizeof(vm->allocs[0])))
		return NULL;
	p = calloc(1, size);
	if (p)
		vm->allocs[vm->nallocs++] = p;
	return p;
}

int vm_suspend(struct vm *vm)
{
	vm_pause(vm);
	memset(&vm->paused_clock, 0, sizeof(vm->paused_clock));
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &vm->paused_clock) < 0) {
		vm_resume(vm);
		return error_errno("KVM_GET_CLOCK");
	}
	vm->user_paused = true;
	return 0;
}

int vm_continue(struct vm *vm)
{
	struct kvm_clock_data clock = { .clock = vm->paused_clock.clock };

	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return error_errno("KVM_SET_CLOCK");
	vm->user_paused = false;
	vm_resume(vm);
	return 0;
}

int vm_add_cleanup(struct vm *vm, void (*fn)(void *), void *arg)
{
	if (vm->ncleanups == (int)(sizeof(vm->cleanups) / sizeof(vm->cleanups[0])))
		return error("too many device teardown hooks");
	vm->cleanups[vm->ncleanups].fn = fn;
	vm->cleanups[vm->ncleanups].arg = arg;
	vm->ncleanups++;
	return 0;
}
