/* vcpu.h: one thread per virtual CPU, running KVM_RUN and dispatching exits. */
#ifndef KVMINI_VCPU_H
#define KVMINI_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

struct vm;
struct vcpu;

/* Hook for a debugger: called on KVM_EXIT_DEBUG, returns when the vCPU
 * may run again. */
typedef void (*vcpu_debug_fn)(struct vcpu *vcpu, void *opaque);
/* Hook for a debugger: called on KVM_EXIT_INTERNAL_ERROR before the VM
 * fails; returns true if the fault was its own (an int3 it planted that
 * KVM could not handle, as PVM reports them) and the vCPU may run on. */
typedef bool (*vcpu_fault_fn)(struct vcpu *vcpu, void *opaque);

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	bool paused;          /* parked in vm_pause() */
	bool held;            /* kept parked by a debugger while the VM runs */
	vcpu_debug_fn on_debug;
	vcpu_fault_fn on_fault;
	void *debug_opaque;
};

int vcpu_create(struct vm *vm, struct vcpu *vcpu, int id);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
/* Forces the vCPU out of KVM_RUN (it rechecks pause requests). */
void vcpu_kick(struct vcpu *vcpu);
/* Keeps the vCPU parked (a debugger resuming only some vCPUs) or lets it go. */
void vcpu_set_held(struct vcpu *vcpu, bool held);
/* The vCPU whose thread is calling (NULL outside vCPU threads). */
struct vcpu *vcpu_current(void);
/* Prints general, segment and control registers, one group per line. */
void vcpu_dump_registers(struct vcpu *vcpu, FILE *out);

#endif
