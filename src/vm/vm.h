/* vm.h: the virtual machine: KVM handles, RAM, vCPUs, buses and its exit. */
#ifndef KVMINI_VM_H
#define KVMINI_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/event_loop.h"
#include "vm/io_bus.h"
#include "vm/memory.h"

/* Exit statuses of `kvmini run` (see README). Debug-exit gives (v << 1) | 1,
 * which is always odd, so the statuses kvmini picks itself are even (or 1). */
enum vm_exit_status {
	EXIT_SHUTDOWN = 0,     /* guest reset, ACPI power-off, Ctrl-A x */
	EXIT_ERROR = 1,        /* kvmini could not start or run the VM */
	EXIT_USAGE = 2,        /* bad command line */
	EXIT_GUEST_PANIC = 4,  /* the guest reported a panic through pvpanic */
	EXIT_TRIPLE_FAULT = 6, /* a vCPU triple-faulted (KVM_EXIT_SHUTDOWN) */
	EXIT_KVM_FAILURE = 8,  /* KVM could not run a vCPU (internal error, failed entry) */
	EXIT_SIGNAL = 10,      /* kvmini was stopped by SIGINT/SIGTERM/SIGHUP */
};

/* What happened to the guest, for listeners (debugger, dumper). */
enum vm_event {
	VM_EVENT_PANIC,
	VM_EVENT_TRIPLE_FAULT,
};

struct vm;
struct vcpu;
struct console;
struct serial;
struct vmem_hotplug;
struct balloon;
struct fw_cfg;
struct virtio_dev;

/* Returns true if the listener took the event over (e.g. a debugger now holds
 * the stopped vCPUs), so the VM must not exit. */
typedef bool (*vm_event_fn)(struct vm *vm, struct vcpu *vcpu, enum vm_event ev, void *opaque);

#define VM_MAX_LISTENERS 4
#define VM_MAX_CPUS 255

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *console;
	int ncpus;
	uint64_t mem_size;
	bool debug_exit;
	const char *api;
	const char *cgroup;
	int seccomp; /* enum seccomp_mode */
	uint64_t hotplug_size;  /* virtio-mem region (0: none) */
	uint64_t hotplug_block; /* its block size */
	const char *gdb;      /* --gdb tcp:HOST:PORT | unix:PATH */
	bool gdb_wait;        /* --gdb-wait: vCPUs held until gdb continues */
	const char *serial2;
	int ndisks;
	const char *disks[8]; /* --disk PATH[,readonly] */
	bool balloon;         /* --balloon: a virtio-balloon device */
	bool virtio_console;  /* --console virtio[:KIND]: hvc0 takes the console's input */
	int nports;
	const char *ports[15]; /* --port NAME=KIND: virtio-console named ports */
	uint64_t rng_rate, rng_burst; /* --rng / --rng-rate (rate 0: no virtio-rng) */
	const char *net;      /* --net tap[=NAME][,...] (NULL: no network device) */
	const char *share;    /* --share DIR[,tag=NAME][,ro]: NFS over the net link */
};

struct vm {
	struct vm_config cfg;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct kvm_cpuid2 *supported_cpuid;
	bool hypercall_exit; /* KVM_HC_MAP_GPA_RANGE reaches user space */
	struct guest_memory mem;
	struct io_bus pio;
	struct io_bus mmio;
	struct event_loop loop;

	int ncpus;
	struct vcpu *vcpus;

	struct console *console;
	struct serial *com1;
	struct vmem_hotplug *vmem; /* virtio-mem hotplug region, if any */
	struct balloon *balloon;  /* virtio-balloon, if any */
	struct console *console2; /* COM2's back end (--serial2) */
	struct serial *com2;
	uint8_t last_post_code; /* last byte written to port 0x80 */
	struct pci_bus *pci;
	struct fw_cfg *fw_cfg;  /* etc/vmcoreinfo, for dumps */
	struct virtio_dev *virtio_console; /* with --console virtio or --port */
	struct virtio_dev *net; /* virtio-net (--net), if any; its TAP: virtio_net_tap() */

	/* Pausing every vCPU (debugger, dumps, API). */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	int pause_requests;
	int running_vcpus;

	/* Paused from the control socket, with the guest clock saved. */
	bool user_paused;
	struct kvm_clock_data paused_clock;

	int nlisteners;
	struct { vm_event_fn fn; void *opaque; } listeners[VM_MAX_LISTENERS];

	int signal_fd;    /* SIGINT/SIGTERM/SIGHUP, read by the device loop */
	int exit_fd;      /* eventfd: written when the VM must end */
	int exit_status;  /* first status set wins */

	/* Device state, freed with the VM; teardown hooks run first. */
	int nallocs;
	void *allocs[64];
	int ncleanups;
	struct { void (*fn)(void *); void *arg; } cleanups[16];
	bool exiting;
};

int vm_create(struct vm *vm, const struct vm_config *cfg);
int vm_start_vcpus(struct vm *vm);
/* Runs the device event loop until the VM ends; returns the exit status. */
int vm_run(struct vm *vm);
/* Stops the vCPUs and frees the VM; -1 if a vCPU would not stop. */
int vm_destroy(struct vm *vm);

/* Ends the VM with `status` (the first caller wins). Thread-safe. */
void vm_request_exit(struct vm *vm, int status);
/* Reports a guest event to listeners; exits with `status` unless one takes it. */
void vm_guest_event(struct vm *vm, struct vcpu *vcpu, enum vm_event ev, int status);
int vm_add_listener(struct vm *vm, vm_event_fn fn, void *opaque);

/* Stops every vCPU outside KVM_RUN and waits until they are; nests. Called
 * from a vCPU thread, it stops the others while the caller goes on. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);

/* Zeroed memory for device state, owned by the VM (freed by vm_destroy). */
void *vm_zalloc(struct vm *vm, size_t size);

/* Pauses the guest for a user (API): vCPUs stop and kvmclock is saved, so
 * that vm_continue() resumes guest time where it stopped. */
int vm_suspend(struct vm *vm);
int vm_continue(struct vm *vm);

/* Runs fn(arg) in vm_destroy(), after the vCPUs stopped and before guest
 * memory goes (for devices with I/O in flight into it). */
int vm_add_cleanup(struct vm *vm, void (*fn)(void *), void *arg);

/* Raises or lowers a GSI on the in-kernel interrupt controllers. */
void vm_set_irq(struct vm *vm, uint32_t gsi, int level);

#endif
