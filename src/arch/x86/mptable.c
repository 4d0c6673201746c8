/* mptable.c: the Intel MultiProcessor Specification 1.4 tables (floating
 * pointer at the start of the EBDA, configuration table in the BIOS area),
 * so kernels booted with acpi=off still find every vCPU and the IOAPIC. */
#include "arch/x86/x86.h"

#include <string.h>

#include "arch/x86/checksum.h"
#include "util/log.h"
#include "vm/vm.h"

#define MPF_ADDR   EBDA_START
#define MPC_ADDR   0xf0000ULL
#define BDA_EBDA_SEG 0x40e

#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_INTSRC 3
#define MP_LINTSRC 4
#define MP_INT 0
#define MP_NMI 1
#define MP_EXTINT 3
#define CPU_ENABLED 1
#define CPU_BOOTPROCESSOR 2
#define APIC_VERSION 0x14
#define IOAPIC_VERSION 0x11
#define ISA_IRQS 16

struct mpf {
	char signature[4];
	uint32_t physptr;
	uint8_t length, specification, checksum, feature[5];
} __attribute__((packed));

struct mpc_header {
	char signature[4];
	uint16_t length;
	uint8_t spec, checksum;
	char oem[8], product[12];
	uint32_t oemptr;
	uint16_t oemsize, count;
	uint32_t lapic;
	uint16_t reserved;
	uint8_t ext_checksum, reserved2;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag, reserved[2];
} __attribute__((packed));

struct mpc_small { /* bus, IOAPIC, interrupt source entries: 8 bytes each */
	uint8_t b[8];
} __attribute__((packed));

static size_t add(uint8_t *buf, size_t off, const void *entry, size_t len, uint16_t *count)
{
	memcpy(buf + off, entry, len);
	(*count)++;
	return off + len;
}

static size_t add_interrupts(uint8_t *buf, size_t off, uint8_t ioapic_id, uint16_t *count)
{
	for (uint8_t irq = 0; irq < ISA_IRQS; irq++) {
		/* ISA IRQ0 (the PIT) is wired to IOAPIC pin 2. */
		struct mpc_small e = { { MP_INTSRC, MP_INT, 0, 0, 0, irq, ioapic_id,
					 irq == 0 ? 2 : irq } };

		off = add(buf, off, &e, sizeof(e), count);
	}
	{
		struct mpc_small extint = { { MP_LINTSRC, MP_EXTINT, 0, 0, 0, 0, 0xff, 0 } };
		struct mpc_small nmi = { { MP_LINTSRC, MP_NMI, 0, 0, 0, 0, 0xff, 1 } };

		off = add(buf, off, &extint, sizeof(extint), count);
		off = add(buf, off, &nmi, sizeof(nmi), count);
	}
	return off;
}

int x86_mptable_build(struct vm *vm)
{
	uint8_t buf[sizeof(struct mpc_header) + VM_MAX_CPUS * sizeof(struct mpc_cpu) + 64 * 8];
	struct mpc_header *h = (struct mpc_header *)buf;
	struct mpf mpf = { .signature = "_MP_", .physptr = (uint32_t)MPC_ADDR, .length = 1,
			   .specification = 4 };
	uint8_t ioapic_id = (uint8_t)vm->ncpus;
	uint16_t ebda_seg = (uint16_t)(EBDA_START >> 4);
	size_t off = sizeof(*h);
	uint16_t count = 0;

	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < vm->ncpus; i++) {
		struct mpc_cpu cpu = { MP_PROCESSOR, (uint8_t)i, APIC_VERSION,
				       (uint8_t)(CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0)),
				       0x600, 0x201, { 0, 0 } };

		off = add(buf, off, &cpu, sizeof(cpu), &count);
	}
	{
		struct mpc_small bus = { { MP_BUS, 0, 'I', 'S', 'A', ' ', ' ', ' ' } };
		struct mpc_small ioapic = { { MP_IOAPIC, ioapic_id, IOAPIC_VERSION, 1, 0, 0, 0xc0, 0xfe } };

		off = add(buf, off, &bus, sizeof(bus), &count);
		off = add(buf, off, &ioapic, sizeof(ioapic), &count);
	}
	off = add_interrupts(buf, off, ioapic_id, &count);
	h->count = count;
	memcpy(h->signature, "PCMP", 4);
	h->length = (uint16_t)off;
	h->spec = 4;
	memcpy(h->oem, "KVMINI  ", 8);
	memcpy(h->product, "KVMINI VM   ", 12);
	h->lapic = (uint32_t)LAPIC_ADDR;
	h->checksum = table_checksum(buf, off);
	mpf.checksum = table_checksum(&mpf, sizeof(mpf));
	if (MPC_ADDR + off > 0x100000 || guest_write(&vm->mem, MPC_ADDR, buf, off) ||
	    guest_write(&vm->mem, MPF_ADDR, &mpf, sizeof(mpf)) ||
	    guest_write(&vm->mem, BDA_EBDA_SEG, &ebda_seg, sizeof(ebda_seg)))
		return error("no guest RAM for the MP tables");
	return 0;
}
