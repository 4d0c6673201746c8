/* gdb_regs.h: the x86-64 register file as gdb numbers it (the order of the
 * target description), read from and written to a vCPU through KVM. */
#ifndef KVMINI_GDB_REGS_H
#define KVMINI_GDB_REGS_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;

/* Everything gdb's registers come from. */
struct x86_cpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	uint64_t kernel_gs_base;
};

/* One register of the target description. */
struct gdb_reg_desc {
	const char *name;
	unsigned bits;
	const char *type;    /* target-description type */
	const char *group;   /* NULL: default group */
	int feature;         /* index into gdb_reg_features */
	size_t offset;       /* in struct x86_cpu_state */
	size_t state_size;   /* bytes backing it (0: always reads as zero) */
};

extern const char *const gdb_reg_features[];
extern const int gdb_reg_nfeatures;
extern const struct gdb_reg_desc gdb_reg_table[];
extern const int gdb_reg_count;

/* Total bytes of a `g` packet (before hex encoding). */
size_t gdb_regs_size(void);

int x86_state_get(struct vcpu *vcpu, struct x86_cpu_state *st);
int x86_state_set(struct vcpu *vcpu, const struct x86_cpu_state *st);

/* Register `regno` in gdb's byte order into out (bits/8 bytes); -1 if no such. */
int gdb_reg_read(const struct x86_cpu_state *st, int regno, uint8_t *out);
/* Sets register `regno` from bits/8 bytes. */
int gdb_reg_write(struct x86_cpu_state *st, int regno, const uint8_t *in);

#endif
