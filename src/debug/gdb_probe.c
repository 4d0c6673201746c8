/* gdb_probe.c: does this KVM report data breakpoints (DR7 write watches)?
 * Runs a throw-away one-vCPU VM in real mode that stores one byte to a
 * watched address. Some KVMs (the paravirtual PVM measured on kvmini's CI
 * host) run the store without the #DB: the stub then watches by
 * single-stepping and comparing memory instead. */
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "debug/gdb_stub.h"

#define PROBE_MEM 0x1000
#define PROBE_WATCH 0x100
#define PROBE_TRIES 4

/* mov [0x100], al ; hlt */
static const uint8_t probe_code[] = { 0xa2, 0x00, 0x01, 0xf4 };

static int setup_probe_vcpu(int vcpu_fd)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 0x2, .rax = 0x5a };
	struct kvm_guest_debug dbg = {
		.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
		.arch.debugreg = { PROBE_WATCH, 0, 0, 0, 0, 0, 0, 0x600 | 0x2 | (0x1 << 16) },
	};

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -1;
	return ioctl(vcpu_fd, KVM_SET_GUEST_DEBUG, &dbg);
}

static bool run_probe(int kvm_fd, int vm_fd, uint8_t *mem)
{
	struct kvm_userspace_memory_region region = {
		.memory_size = PROBE_MEM, .userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	int mmap_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	int vcpu_fd;
	struct kvm_run *run;
	bool hit = false;

	memcpy(mem, probe_code, sizeof(probe_code));
	if (mmap_size <= 0 || ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return false;
	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0)
		return false;
	run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (run != MAP_FAILED && setup_probe_vcpu(vcpu_fd) == 0) {
		for (int i = 0; i < PROBE_TRIES; i++) {
			if (ioctl(vcpu_fd, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_DEBUG)
				break;
			if (run->debug.arch.dr6 & 0x1) {
				hit = true;
				break;
			}
		}
	}
	if (run != MAP_FAILED)
		munmap(run, (size_t)mmap_size);
	close(vcpu_fd);
	return hit;
}

bool gdb_probe_data_breakpoints(int kvm_fd)
{
	int vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	uint8_t *mem;
	bool hit = false;

	if (vm_fd < 0)
		return false;
	mem = mmap(NULL, PROBE_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem != MAP_FAILED) {
		hit = run_probe(kvm_fd, vm_fd, mem);
		munmap(mem, PROBE_MEM);
	}
	close(vm_fd);
	return hit;
}
