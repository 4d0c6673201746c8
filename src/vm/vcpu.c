/* vcpu.c: the vCPU thread: KVM_RUN, exit dispatch, pausing. */
#include "vm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/hypercall.h"
#include "util/log.h"
#include "vm/vm.h"

#define KICK_SIGNAL (SIGRTMIN)

static __thread struct vcpu *current_vcpu;

struct vcpu *vcpu_current(void)
{
	return current_vcpu;
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, int id)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return error_errno("KVM_CREATE_VCPU %d", id);
	vcpu->run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return error_errno("mmap of vCPU %d state", id);
	}
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, KICK_SIGNAL);
}

/* Parks the vCPU while the VM is paused. */
static void wait_while_paused(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	while (vm->pause_requests ||
	       (vcpu->held && !__atomic_load_n(&vm->exiting, __ATOMIC_ACQUIRE))) {
		if (!vcpu->paused) {
			vcpu->paused = true;
			vm->running_vcpus--;
			pthread_cond_broadcast(&vm->pause_cond);
		}
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	}
	if (vcpu->paused) {
		vcpu->paused = false;
		vm->running_vcpus++;
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

void vcpu_set_held(struct vcpu *vcpu, bool held)
{
	pthread_mutex_lock(&vcpu->vm->pause_lock);
	vcpu->held = held;
	pthread_cond_broadcast(&vcpu->vm->pause_cond);
	pthread_mutex_unlock(&vcpu->vm->pause_lock);
}

static void handle_pio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++) {
		io_bus_access(&vcpu->vm->pio, run->io.port, data, run->io.size, is_write);
		data += run->io.size;
	}
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;

	io_bus_access(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len,
		      run->mmio.is_write);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_CRASH:
		vm_guest_event(vcpu->vm, vcpu, VM_EVENT_PANIC, EXIT_GUEST_PANIC);
		break;
	default: /* reset, shutdown */
		vm_request_exit(vcpu->vm, EXIT_SHUTDOWN);
		break;
	}
}

static void handle_failure(struct vcpu *vcpu, const char *what, unsigned long long code)
{
	error("vCPU %d: %s (code 0x%llx); registers follow", vcpu->id, what, code);
	vcpu_dump_registers(vcpu, stderr);
	vm_request_exit(vcpu->vm, EXIT_KVM_FAILURE);
}

/* Returns false when the vCPU must stop running. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_pio(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_HLT:
		return true;
	case KVM_EXIT_DEBUG:
		if (vcpu->on_debug)
			vcpu->on_debug(vcpu, vcpu->debug_opaque);
		return true;
	case KVM_EXIT_HYPERCALL:
		x86_handle_hypercall(vcpu);
		return true;
	case KVM_EXIT_SHUTDOWN:
		error("vCPU %d triple fault; registers follow", vcpu->id);
		vcpu_dump_registers(vcpu, stderr);
		vm_guest_event(vcpu->vm, vcpu, VM_EVENT_TRIPLE_FAULT, EXIT_TRIPLE_FAULT);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		return true;
	case KVM_EXIT_FAIL_ENTRY:
		handle_failure(vcpu, "KVM failed to enter the guest",
			       run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		if (vcpu->on_fault && vcpu->on_fault(vcpu, vcpu->debug_opaque))
			return true;
		handle_failure(vcpu, "KVM internal error", run->internal.suberror);
		return false;
	default:
		handle_failure(vcpu, "unexpected KVM exit", run->exit_reason);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char name[16];

	current_vcpu = vcpu;
	snprintf(name, sizeof(name), "vcpu%d", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		wait_while_paused(vcpu);
		if (__atomic_load_n(&vm->exiting, __ATOMIC_ACQUIRE))
			break;
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				continue;
			}
			error_errno("vCPU %d: KVM_RUN", vcpu->id);
			vm_request_exit(vm, EXIT_KVM_FAILURE);
			break;
		}
		if (!handle_exit(vcpu))
			break;
	}
	/* A stopped vCPU no longer holds up pause requests. */
	pthread_mutex_lock(&vm->pause_lock);
	if (!vcpu->paused)
		vm->running_vcpus--;
	vcpu->paused = true;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	static bool handler_installed;
	sigset_t all, old;
	int ret;

	if (!handler_installed) {
		struct sigaction sa = { .sa_handler = kick_handler };

		sigemptyset(&sa.sa_mask);
		sigaction(KICK_SIGNAL, &sa, NULL);
		handler_installed = true;
	}
	/* vCPU threads take only the kick signal; the device thread takes the rest. */
	sigfillset(&all);
	sigdelset(&all, KICK_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_mutex_lock(&vcpu->vm->pause_lock);
	vcpu->vm->running_vcpus++;
	pthread_mutex_unlock(&vcpu->vm->pause_lock);
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		errno = ret;
		return error_errno("cannot start vCPU %d thread", vcpu->id);
	}
	vcpu->started = true;
	return 0;
}

static void dump_segment(FILE *out, const char *name, const struct kvm_segment *s)
{
	fprintf(out, "%-4s sel=%04x base=%016llx limit=%08x type=%x dpl=%u p=%u l=%u db=%u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl,
		s->present, s->l, s->db);
}

void vcpu_dump_registers(struct vcpu *vcpu, FILE *out)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		error_errno("vCPU %d: cannot read registers", vcpu->id);
		return;
	}
	fprintf(out, "vCPU %d registers:\n", vcpu->id);
	fprintf(out, "RIP=%016llx RFLAGS=%016llx\n", r.rip, r.rflags);
	fprintf(out, "RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n", r.rax, r.rbx, r.rcx, r.rdx);
	fprintf(out, "RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n", r.rsi, r.rdi, r.rbp, r.rsp);
	fprintf(out, "R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n", r.r8, r.r9, r.r10, r.r11);
	fprintf(out, "R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n", r.r12, r.r13, r.r14, r.r15);
	dump_segment(out, "CS", &s.cs);
	dump_segment(out, "DS", &s.ds);
	dump_segment(out, "SS", &s.ss);
	dump_segment(out, "TR", &s.tr);
	fprintf(out, "GDT=%016llx/%04x IDT=%016llx/%04x\n", s.gdt.base, s.gdt.limit,
		s.idt.base, s.idt.limit);
	fprintf(out, "CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx EFER=%016llx\n",
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	fprintf(out, "last POST code (port 0x80): 0x%02x\n",
		__atomic_load_n(&vcpu->vm->last_post_code, __ATOMIC_RELAXED));
	fflush(out);
}
