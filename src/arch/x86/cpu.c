/* cpu.c: x86 VM and vCPU setup: irqchip, PIT, long mode, page tables, LAPIC. */
#include "arch/x86/x86.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/hypercall.h"
#include "util/log.h"
#include "vm/kvm.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

#define KVM_TSS_ADDR      0xfffbd000ULL
#define KVM_IDENTITY_ADDR 0xfffbc000ULL

#define CR0_PE 0x1ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

#define PTE_PRESENT 0x1ULL
#define PTE_RW      0x2ULL
#define PTE_PS      0x80ULL

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 0x1ULL

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI    0x4

#define GDT_CODE64 0x00af9b000000ffffULL
#define GDT_DATA   0x00cf93000000ffffULL
#define GDT_TSS    0x008f89000000ffffULL
#define SEL_CODE 0x10
#define SEL_DATA 0x18
#define SEL_TSS  0x20

int x86_vm_init(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = KVM_IDENTITY_ADDR;

	/* Needed by VMX only; PVM and SVM ignore or refuse them harmlessly. */
	ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity);
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return error_errno("KVM_CREATE_IRQCHIP (in-kernel PIC, IOAPIC and LAPIC)");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return error_errno("KVM_CREATE_PIT2 (in-kernel i8254 timer)");
	vm->hypercall_exit = x86_hypercall_enable(vm);
	vm->supported_cpuid = kvm_supported_cpuid(vm->kvm_fd);
	if (!vm->supported_cpuid)
		return -1;
	return x86_build_page_tables(vm, x86_cpuid_has_1g_pages(vm->supported_cpuid));
}

/* Identity-maps guest-physical addresses from 0 to max(4 GiB, end of RAM). */
int x86_build_page_tables(struct vm *vm, int use_1g_pages)
{
	uint64_t top = MEM_HOLE_END;
	uint64_t *pml4 = gpa_to_hva(&vm->mem, BOOT_PML4_ADDR, 4096);
	uint64_t *pdpt = gpa_to_hva(&vm->mem, BOOT_PDPT_ADDR, 4096);
	uint64_t *pd = gpa_to_hva(&vm->mem, BOOT_PD_ADDR, 4096ULL * BOOT_PD_MAX);
	const struct mem_region *last = &vm->mem.regions[vm->mem.nregions - 1];
	uint64_t gib;

	if (!pml4 || !pdpt || !pd)
		return error("guest RAM too small for the boot page tables");
	if (last->gpa + last->size > top)
		top = last->gpa + last->size;
	gib = (top + (1ULL << 30) - 1) >> 30;
	if (gib > 512)
		gib = 512;
	if (!use_1g_pages && gib > BOOT_PD_MAX)
		gib = BOOT_PD_MAX; /* Linux maps the rest itself */
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT_ADDR | PTE_PRESENT | PTE_RW;
	for (uint64_t g = 0; g < gib; g++) {
		if (use_1g_pages) {
			pdpt[g] = (g << 30) | PTE_PRESENT | PTE_RW | PTE_PS;
			continue;
		}
		pdpt[g] = (BOOT_PD_ADDR + g * 4096) | PTE_PRESENT | PTE_RW;
		for (uint64_t i = 0; i < 512; i++)
			pd[g * 512 + i] = (g << 30) + (i << 21) + (PTE_PRESENT | PTE_RW | PTE_PS);
	}
	return 0;
}

static void set_segment(struct kvm_segment *s, uint16_t sel, uint64_t desc)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = 0;
	s->limit = 0xfffff | (uint32_t)((desc >> 32) & 0xf0000);
	s->type = (desc >> 40) & 0xf;
	s->s = (desc >> 44) & 1;
	s->dpl = (desc >> 45) & 3;
	s->present = (desc >> 47) & 1;
	s->avl = (desc >> 52) & 1;
	s->l = (desc >> 53) & 1;
	s->db = (desc >> 54) & 1;
	s->g = (desc >> 55) & 1;
	if (s->g)
		s->limit = 0xffffffff;
}

static int setup_long_mode(struct vcpu *vcpu)
{
	uint64_t gdt[] = { 0, 0, GDT_CODE64, GDT_DATA, GDT_TSS };
	struct kvm_sregs sregs;

	if (guest_write(&vcpu->vm->mem, BOOT_GDT_ADDR, gdt, sizeof(gdt)))
		return error("no guest RAM for the boot GDT");
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return error_errno("KVM_GET_SREGS");
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = sizeof(gdt) - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	set_segment(&sregs.cs, SEL_CODE, GDT_CODE64);
	set_segment(&sregs.ds, SEL_DATA, GDT_DATA);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	set_segment(&sregs.tr, SEL_TSS, GDT_TSS);
	sregs.tr.type = 11; /* busy 64-bit TSS */
	sregs.tr.s = 0;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	sregs.cr3 = BOOT_PML4_ADDR;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return error_errno("KVM_SET_SREGS (long mode)");
	return 0;
}

static int setup_boot_regs(struct vcpu *vcpu, uint64_t entry)
{
	struct kvm_regs regs = {
		.rflags = 0x2,
		.rip = entry,
		.rsi = BOOT_ZERO_PAGE,
		.rsp = BOOT_STACK_TOP,
		.rbp = BOOT_STACK_TOP,
	};
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return error_errno("KVM_SET_FPU");
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return error_errno("KVM_SET_REGS");
	return 0;
}

static int setup_msrs(struct vcpu *vcpu)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} msrs = { .hdr.nmsrs = 1, .e[0] = { .index = MSR_IA32_MISC_ENABLE,
					       .data = MISC_ENABLE_FAST_STRING } };

	if (ioctl(vcpu->fd, KVM_SET_MSRS, &msrs) != 1)
		warn("vCPU %d: cannot set IA32_MISC_ENABLE", vcpu->id);
	return 0;
}

static void set_lvt_mode(struct kvm_lapic_state *lapic, int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, lapic->regs + reg, 4);
	v = (v & ~0x700U) | (mode << 8);
	memcpy(lapic->regs + reg, &v, 4);
}

/* LINT0 as ExtINT (the 8259) and LINT1 as NMI, as firmware leaves them. */
static int setup_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return error_errno("KVM_GET_LAPIC");
	set_lvt_mode(&lapic, APIC_LVT0, APIC_MODE_EXTINT);
	set_lvt_mode(&lapic, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return error_errno("KVM_SET_LAPIC");
	return 0;
}

int x86_vcpu_setup(struct vcpu *vcpu, uint64_t entry)
{
	if (x86_cpuid_setup(vcpu) || setup_msrs(vcpu) || setup_lapic(vcpu))
		return -1;
	if (vcpu->id != 0)
		return 0; /* application processors wait for INIT/SIPI */
	return setup_long_mode(vcpu) || setup_boot_regs(vcpu, entry);
}
