/* note_format.h: layouts of the ELF notes a dump carries per vCPU: Linux's
 * x86-64 elf_prstatus ("CORE" NT_PRSTATUS), QEMU's QEMUCPUState ("QEMU",
 * from target/i386/arch_dump.c, read by crash for CR3/IDTR and KASLR) and
 * kvmini's own ("KVMINI": debug registers and MSRs). */
#ifndef KVMINI_DUMP_NOTE_FORMAT_H
#define KVMINI_DUMP_NOTE_FORMAT_H

#include <stdint.h>

/* user_regs_struct order of pr_reg. */
struct x86_64_user_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
	uint64_t fs_base, gs_base, ds, es, fs, gs;
};

struct x86_64_elf_prstatus {
	int32_t si_signo, si_code, si_errno;
	int16_t pr_cursig;
	uint16_t pad0;
	uint64_t pr_sigpend, pr_sighold;
	int32_t pr_pid, pr_ppid, pr_pgrp, pr_sid;
	uint64_t pr_utime[2], pr_stime[2], pr_cutime[2], pr_cstime[2];
	struct x86_64_user_regs pr_reg;
	int32_t pr_fpvalid;
	uint32_t pad1;
};

_Static_assert(sizeof(struct x86_64_elf_prstatus) == 336, "x86-64 elf_prstatus is 336 bytes");
_Static_assert(__builtin_offsetof(struct x86_64_elf_prstatus, pr_reg) == 112, "pr_reg at 112");

struct qemu_cpu_segment {
	uint32_t selector, limit, flags, pad;
	uint64_t base;
};

#define QEMU_CPUSTATE_VERSION 1

struct qemu_cpu_state {
	uint32_t version, size;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	struct qemu_cpu_segment cs, ds, es, fs, gs, ss;
	struct qemu_cpu_segment ldt, tr, gdt, idt;
	uint64_t cr[5];
	uint64_t kernel_gs_base; /* optional tail, present when size says so */
};

_Static_assert(sizeof(struct qemu_cpu_state) == 0x1b8, "QEMUCPUState with kernel_gs_base");

#define KVMINI_NOTE_VERSION 1
#define KVMINI_NOTE_NMSRS 12

struct kvmini_cpu_note {
	uint32_t version, cpu;
	uint64_t dr[4], dr6, dr7;
	uint64_t efer, apic_base;
	uint32_t msr_valid, flags; /* flags bit 0: debug registers valid */
	uint64_t msrs[KVMINI_NOTE_NMSRS];
};

/* One per dump: what kvmini knew about where the kernel lies. */
#define KVMINI_DUMP_PHYS_BASE 0x1  /* phys_base is known */
#define KVMINI_DUMP_KASLR     0x2  /* kaslr_offset is known */
#define KVMINI_DUMP_FROM_IDT  0x4  /* phys_base came from the IDT, not VMCOREINFO */

struct kvmini_dump_note {
	uint32_t version, flags;
	uint64_t phys_base, kaslr_offset;
	int32_t crashing_cpu;
	char reason[20];
};

#define NOTE_NAME_CORE "CORE"
#define NOTE_NAME_QEMU "QEMU"
#define NOTE_NAME_KVMINI "KVMINI"
#define NOTE_NAME_VMCOREINFO "VMCOREINFO"
#define NT_PRSTATUS_TYPE 1
#define NT_KVMINI_CPU 0x4b56
#define NT_KVMINI_DUMP 0x4b57

#endif
