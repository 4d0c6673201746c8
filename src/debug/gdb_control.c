/* gdb_control.c: run control for the GDB stub (all-stop mode).
 *
 * A stop holds the whole VM through vm_pause(). A vCPU that hits a debug
 * exit (KVM_EXIT_DEBUG) or a guest event (pvpanic, triple fault) pauses the
 * others itself, records the stop and returns: its own loop then parks it,
 * since the pause it took is still held. The server thread stops the VM
 * the same way for Ctrl-C and on attach. Each pause taken is counted in
 * held_pauses and undone on resume; per-vCPU vCont actions that leave a
 * vCPU stopped keep it parked with vcpu_set_held(). */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "debug/gdb_stub.h"
#include "util/log.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

#define DB_VECTOR 1
#define BP_VECTOR 3
#define DR6_BS (1ULL << 14)

static void wake_server(struct gdb_stub *s)
{
	uint64_t one = 1;

	if (write(s->wake_fd, &one, sizeof(one)) < 0)
		warn("gdb: cannot wake the stub thread");
}

/* From a vCPU thread: stop every vCPU and hand the stop to gdb. */
static void stop_from_vcpu(struct gdb_stub *s, const struct gdb_stop *stop)
{
	vm_pause(s->vm);
	pthread_mutex_lock(&s->lock);
	if (!s->attached || s->shutting_down) {
		pthread_mutex_unlock(&s->lock);
		vm_resume(s->vm);
		return;
	}
	s->held_pauses++;
	if (!s->stopped) {
		s->stopped = true;
		s->stop = *stop;
		s->stop_unreported = true;
		wake_server(s);
	}
	pthread_mutex_unlock(&s->lock);
}

/* Decides what a KVM_EXIT_DEBUG means; returns false if it is not ours,
 * with *inject set to what must go back to the guest. */
static bool classify_debug_exit(struct gdb_stub *s, struct vcpu *vcpu,
				const struct kvm_debug_exit_arch *a, struct gdb_stop *stop,
				uint32_t *inject)
{
	int slot;

	*stop = (struct gdb_stop){ .vcpu = vcpu->id, .signal = GDB_SIGTRAP, .kind = STOP_SIGNAL };
	*inject = 0;
	if (a->exception == BP_VECTOR) {
		if (gdb_bp_is_ours(s, a->pc)) {
			stop->kind = STOP_SWBREAK;
			return true;
		}
		*inject = KVM_GUESTDBG_INJECT_BP; /* the guest's own int3 */
		return false;
	}
	slot = gdb_bp_hw_hit(s, a->dr6);
	if (slot >= 0) {
		stop->kind = s->hw[slot].type == Z_HW_BREAK ? STOP_HWBREAK : STOP_WATCH;
		stop->watch_type = s->hw[slot].type;
		stop->addr = s->hw[slot].addr;
		return true;
	}
	slot = gdb_soft_watch_changed(s, vcpu);
	if (slot >= 0) {
		stop->kind = STOP_WATCH;
		stop->watch_type = s->hw[slot].type;
		stop->addr = s->hw[slot].addr;
		return true;
	}
	if (s->stepping[vcpu->id] == STEP_USER)
		return true;
	if (s->stepping[vcpu->id] == STEP_WATCH)
		return false; /* nothing changed: keep stepping */
	if (a->dr6 & DR6_BS)
		return true;
	*inject = KVM_GUESTDBG_INJECT_DB;
	return false;
}

static void on_debug(struct vcpu *vcpu, void *opaque)
{
	struct gdb_stub *s = opaque;
	struct gdb_stop stop;
	uint32_t inject = 0;
	bool ours;

	pthread_mutex_lock(&s->lock);
	ours = s->attached && classify_debug_exit(s, vcpu, &vcpu->run->debug.arch, &stop, &inject);
	pthread_mutex_unlock(&s->lock);
	if (ours) {
		stop_from_vcpu(s, &stop);
		return;
	}
	if (s->attached && inject)
		gdb_debug_apply(s, vcpu, s->stepping[vcpu->id], inject);
}

/* PVM cannot deliver the #BP of an int3 as KVM_EXIT_DEBUG: it reports an
 * emulation failure with RIP on the int3. One of ours is a breakpoint hit. */
static bool on_fault(struct vcpu *vcpu, void *opaque)
{
	struct gdb_stub *s = opaque;
	struct gdb_stop stop = { .vcpu = vcpu->id, .signal = GDB_SIGTRAP, .kind = STOP_SWBREAK };
	struct kvm_regs regs;
	bool ours;

	if (vcpu->run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION ||
	    ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return false;
	pthread_mutex_lock(&s->lock);
	ours = s->attached && gdb_bp_is_ours(s, regs.rip);
	pthread_mutex_unlock(&s->lock);
	if (ours)
		stop_from_vcpu(s, &stop);
	return ours;
}

/* pvpanic or triple fault: with gdb attached the VM stops instead of ending. */
static bool on_guest_event(struct vm *vm, struct vcpu *vcpu, enum vm_event ev, void *opaque)
{
	struct gdb_stub *s = opaque;
	struct gdb_stop stop = {
		.vcpu = vcpu ? vcpu->id : 0,
		.signal = ev == VM_EVENT_PANIC ? GDB_SIGABRT : GDB_SIGSEGV,
	};
	bool attached;

	pthread_mutex_lock(&s->lock);
	attached = s->attached && !s->shutting_down;
	pthread_mutex_unlock(&s->lock);
	if (!attached || !vcpu)
		return false;
	info("gdb: %s on vCPU %d: stopped for the debugger",
	     ev == VM_EVENT_PANIC ? "guest panic" : "triple fault", vcpu->id);
	stop_from_vcpu(s, &stop);
	return true;
}

int gdb_control_init(struct gdb_stub *s)
{
	for (int i = 0; i < s->vm->ncpus; i++) {
		s->vm->vcpus[i].on_debug = on_debug;
		s->vm->vcpus[i].on_fault = on_fault;
		s->vm->vcpus[i].debug_opaque = s;
	}
	return vm_add_listener(s->vm, on_guest_event, s);
}

void gdb_stop_all(struct gdb_stub *s, int signal)
{
	pthread_mutex_lock(&s->lock);
	if (s->stopped) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	s->stopped = true;
	s->held_pauses++;
	s->stop = (struct gdb_stop){ .vcpu = s->g_vcpu >= 0 ? s->g_vcpu : 0, .signal = signal };
	s->stop_unreported = true;
	pthread_mutex_unlock(&s->lock);
	vm_pause(s->vm);
}

static void release_pauses(struct gdb_stub *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->held_pauses;
	s->held_pauses = 0;
	s->stopped = false;
	s->stop_unreported = false;
	pthread_mutex_unlock(&s->lock);
	while (n-- > 0)
		vm_resume(s->vm);
}

void gdb_resume(struct gdb_stub *s)
{
	bool soft_watch = gdb_soft_watch_active(s);

	if (soft_watch)
		gdb_soft_watch_snapshot(s, &s->vm->vcpus[s->g_vcpu >= 0 ? s->g_vcpu : 0]);
	for (int i = 0; i < s->vm->ncpus; i++) {
		struct vcpu *v = &s->vm->vcpus[i];
		enum gdb_step_mode mode = s->actions[i] == ACT_STEP ? STEP_USER :
			s->actions[i] == ACT_CONTINUE && soft_watch ? STEP_WATCH : STEP_NONE;

		gdb_debug_apply(s, v, mode, 0);
		vcpu_set_held(v, s->actions[i] == ACT_STOP);
	}
	s->gdb_waiting = true;
	release_pauses(s);
}

void gdb_release(struct gdb_stub *s)
{
	gdb_stop_all(s, GDB_SIGTRAP);
	gdb_bp_remove_all(s);
	for (int i = 0; i < s->vm->ncpus; i++) {
		gdb_debug_apply(s, &s->vm->vcpus[i], STEP_NONE, 0);
		vcpu_set_held(&s->vm->vcpus[i], false);
	}
	pthread_mutex_lock(&s->lock);
	s->attached = false;
	pthread_mutex_unlock(&s->lock);
	s->gdb_waiting = false;
	release_pauses(s);
}

int gdb_format_stop(struct gdb_stub *s, char *buf, size_t size)
{
	struct gdb_stop st;
	const char *kind;

	pthread_mutex_lock(&s->lock);
	st = s->stop;
	s->stop_unreported = false;
	pthread_mutex_unlock(&s->lock);
	s->g_vcpu = st.vcpu; /* gdb reads the stopping thread's registers next */
	switch (st.kind) {
	case STOP_SWBREAK:
		return snprintf(buf, size, "T%02xthread:%x;swbreak:;", st.signal, st.vcpu + 1);
	case STOP_HWBREAK:
		return snprintf(buf, size, "T%02xthread:%x;hwbreak:;", st.signal, st.vcpu + 1);
	case STOP_WATCH:
		kind = st.watch_type == Z_WRITE_WATCH ? "watch" : "awatch";
		return snprintf(buf, size, "T%02xthread:%x;%s:%llx;", st.signal, st.vcpu + 1, kind,
				(unsigned long long)st.addr);
	default:
		return snprintf(buf, size, "T%02xthread:%x;", st.signal, st.vcpu + 1);
	}
}
