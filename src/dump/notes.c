/* notes.c: the ELF notes of a dump: per vCPU a CORE NT_PRSTATUS (what gdb
 * and crash read registers from), the guest's VMCOREINFO, per vCPU a QEMU
 * CPU-state note (CR0-CR4, GDT/IDT: crash finds phys_base and KASLR from it)
 * and a KVMINI note (debug registers, MSRs); last, what kvmini derived
 * (phys_base, KASLR offset) in a KVMINI dump note. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump_source.h"
#include "dump/note_format.h"
#include "util/log.h"

struct note_buf {
	uint8_t *p;
	size_t len, cap;
};

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static size_t note_size(const char *name, size_t desc_len)
{
	return sizeof(Elf64_Nhdr) + align4(strlen(name) + 1) + align4(desc_len);
}

static void add_note(struct note_buf *b, const char *name, uint32_t type, const void *desc,
		     size_t desc_len)
{
	Elf64_Nhdr h = { .n_namesz = (Elf64_Word)(strlen(name) + 1),
			 .n_descsz = (Elf64_Word)desc_len, .n_type = type };
	uint8_t *p = b->p + b->len;

	if (b->len + note_size(name, desc_len) > b->cap)
		return; /* sized beforehand: cannot happen */
	memset(p, 0, note_size(name, desc_len));
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), name, h.n_namesz);
	memcpy(p + sizeof(h) + align4(h.n_namesz), desc, desc_len);
	b->len += note_size(name, desc_len);
}

static void fill_prstatus(const struct dump_cpu *c, struct x86_64_elf_prstatus *s)
{
	const struct kvm_regs *r = &c->regs;
	const struct kvm_sregs *sr = &c->sregs;

	memset(s, 0, sizeof(*s));
	s->pr_pid = c->id + 1;
	s->pr_reg = (struct x86_64_user_regs){
		.r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12, .rbp = r->rbp,
		.rbx = r->rbx, .r11 = r->r11, .r10 = r->r10, .r9 = r->r9, .r8 = r->r8,
		.rax = r->rax, .rcx = r->rcx, .rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi,
		.orig_rax = r->rax, .rip = r->rip, .cs = sr->cs.selector, .eflags = r->rflags,
		.rsp = r->rsp, .ss = sr->ss.selector, .fs_base = sr->fs.base,
		.gs_base = sr->gs.base, .ds = sr->ds.selector, .es = sr->es.selector,
		.fs = sr->fs.selector, .gs = sr->gs.selector,
	};
}

static struct qemu_cpu_segment qemu_segment(const struct kvm_segment *s)
{
	return (struct qemu_cpu_segment){
		.selector = s->selector, .limit = s->limit, .base = s->base,
		.flags = (uint32_t)s->type << 8 | (uint32_t)s->s << 12 | (uint32_t)s->dpl << 13 |
			 (uint32_t)s->present << 15 | (uint32_t)s->avl << 20 |
			 (uint32_t)s->l << 21 | (uint32_t)s->db << 22 | (uint32_t)s->g << 23,
	};
}

static void fill_qemu_state(const struct dump_cpu *c, struct qemu_cpu_state *q)
{
	const struct kvm_regs *r = &c->regs;
	const struct kvm_sregs *sr = &c->sregs;

	memset(q, 0, sizeof(*q));
	q->version = QEMU_CPUSTATE_VERSION;
	q->size = sizeof(*q);
	q->rax = r->rax; q->rbx = r->rbx; q->rcx = r->rcx; q->rdx = r->rdx;
	q->rsi = r->rsi; q->rdi = r->rdi; q->rsp = r->rsp; q->rbp = r->rbp;
	q->r8 = r->r8; q->r9 = r->r9; q->r10 = r->r10; q->r11 = r->r11;
	q->r12 = r->r12; q->r13 = r->r13; q->r14 = r->r14; q->r15 = r->r15;
	q->rip = r->rip; q->rflags = r->rflags;
	q->cs = qemu_segment(&sr->cs); q->ds = qemu_segment(&sr->ds);
	q->es = qemu_segment(&sr->es); q->fs = qemu_segment(&sr->fs);
	q->gs = qemu_segment(&sr->gs); q->ss = qemu_segment(&sr->ss);
	q->ldt = qemu_segment(&sr->ldt); q->tr = qemu_segment(&sr->tr);
	q->gdt = (struct qemu_cpu_segment){ .limit = sr->gdt.limit, .base = sr->gdt.base };
	q->idt = (struct qemu_cpu_segment){ .limit = sr->idt.limit, .base = sr->idt.base };
	q->cr[0] = sr->cr0; q->cr[2] = sr->cr2; q->cr[3] = sr->cr3; q->cr[4] = sr->cr4;
	q->kernel_gs_base = c->msrs[DUMP_MSR_KERNEL_GS_BASE];
}

static void fill_kvmini_note(const struct dump_cpu *c, struct kvmini_cpu_note *k)
{
	_Static_assert(DUMP_NMSRS <= KVMINI_NOTE_NMSRS, "KVMINI note holds every dumped MSR");
	memset(k, 0, sizeof(*k));
	k->version = KVMINI_NOTE_VERSION;
	k->cpu = (uint32_t)c->id;
	if (c->have_debugregs) {
		memcpy(k->dr, c->debugregs.db, sizeof(k->dr));
		k->dr6 = c->debugregs.dr6;
		k->dr7 = c->debugregs.dr7;
		k->flags |= 1;
	}
	k->efer = c->sregs.efer;
	k->apic_base = c->sregs.apic_base;
	k->msr_valid = c->msr_valid;
	memcpy(k->msrs, c->msrs, sizeof(c->msrs));
}

static void fill_dump_note(const struct dump_source *src, struct kvmini_dump_note *n)
{
	memset(n, 0, sizeof(*n));
	n->version = KVMINI_NOTE_VERSION;
	n->flags = (src->have_phys_base ? KVMINI_DUMP_PHYS_BASE : 0) |
		   (src->have_kaslr ? KVMINI_DUMP_KASLR : 0) |
		   (src->phys_base_from_idt ? KVMINI_DUMP_FROM_IDT : 0);
	n->phys_base = src->phys_base;
	n->kaslr_offset = src->kaslr_offset;
	n->crashing_cpu = src->crashing_cpu;
	snprintf(n->reason, sizeof(n->reason), "%s", src->reason ? src->reason : "");
}

int dump_notes_build(const struct dump_source *src, uint8_t **out, size_t *len)
{
	struct kvmini_dump_note dn;
	struct note_buf b = { 0 };
	size_t per_cpu = note_size(NOTE_NAME_CORE, sizeof(struct x86_64_elf_prstatus)) +
			 note_size(NOTE_NAME_QEMU, sizeof(struct qemu_cpu_state)) +
			 note_size(NOTE_NAME_KVMINI, sizeof(struct kvmini_cpu_note));

	b.cap = per_cpu * (size_t)src->ncpus + note_size(NOTE_NAME_KVMINI, sizeof(dn));
	if (src->vmcoreinfo)
		b.cap += note_size(NOTE_NAME_VMCOREINFO, src->vmcoreinfo_len);
	b.p = malloc(b.cap ? b.cap : 1);
	if (!b.p)
		return error("out of memory for the dump's notes");
	for (int i = 0; i < src->ncpus; i++) {
		struct x86_64_elf_prstatus s;

		fill_prstatus(&src->cpus[i], &s);
		add_note(&b, NOTE_NAME_CORE, NT_PRSTATUS_TYPE, &s, sizeof(s));
	}
	if (src->vmcoreinfo)
		add_note(&b, NOTE_NAME_VMCOREINFO, 0, src->vmcoreinfo, src->vmcoreinfo_len);
	for (int i = 0; i < src->ncpus; i++) {
		struct qemu_cpu_state q;
		struct kvmini_cpu_note k;

		fill_qemu_state(&src->cpus[i], &q);
		add_note(&b, NOTE_NAME_QEMU, 0, &q, sizeof(q));
		fill_kvmini_note(&src->cpus[i], &k);
		add_note(&b, NOTE_NAME_KVMINI, NT_KVMINI_CPU, &k, sizeof(k));
	}
	fill_dump_note(src, &dn);
	add_note(&b, NOTE_NAME_KVMINI, NT_KVMINI_DUMP, &dn, sizeof(dn));
	*out = b.p;
	*len = b.len;
	return 0;
}
