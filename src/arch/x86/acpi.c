/* acpi.c: ACPI tables so an OS finds every vCPU and the platform devices and
 * can power off: RSDP -> XSDT -> {FADT -> DSDT, MADT}. */
#include "arch/x86/x86.h"

#include <string.h>

#include "arch/x86/aml.h"
#include "arch/x86/checksum.h"
#include "devices/pci.h"
#include "util/log.h"
#include "vm/vm.h"

#define OEM_ID       "KVMINI"
#define OEM_TABLE_ID "KVMINIVM"

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_gas {
	uint8_t space_id; /* 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl, dsdt;
	uint8_t reserved0, preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk;
	uint32_t gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	uint8_t gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t fadt_minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 is 276 bytes");

#define FADT_WBINVD      (1U << 0)
#define FADT_PWR_BUTTON  (1U << 4)
#define FADT_SLP_BUTTON  (1U << 5)
#define FADT_RESET_REG_SUP (1U << 10)
#define BOOT_ARCH_LEGACY_DEVICES 0x1
#define BOOT_ARCH_8042   0x2
#define RESET_PORT       0xcf9
#define RESET_VALUE      0x06

#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_OVERRIDE 2
#define MADT_LAPIC_NMI 4

struct table_writer {
	struct vm *vm;
	uint64_t next; /* guest address of the next table */
};

static void init_header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "KVMI", 4);
	h->creator_revision = 1;
}

/* Checksums a table in `buf` and copies it into guest RAM; returns its address. */
static uint64_t emit(struct table_writer *w, void *buf, uint32_t len)
{
	struct acpi_header *h = buf;
	uint64_t addr = w->next;

	if (len >= sizeof(*h))
		h->checksum = table_checksum(buf, len);
	if (addr + len > ACPI_TABLES_END || guest_write(&w->vm->mem, addr, buf, len))
		return 0;
	w->next = (addr + len + 15) & ~15ULL;
	return addr;
}

static void dsdt_device(struct aml *scope, const char *name, const struct aml *hid,
			const struct aml *resources)
{
	struct aml body = { 0 }, crs = { 0 }, sta = { 0 };

	aml_name(&body, "_HID", hid);
	aml_resource_template(&crs, resources);
	aml_name(&body, "_CRS", &crs);
	aml_integer(&sta, 0xf);
	aml_name(&body, "_STA", &sta);
	aml_device(scope, name, &body);
}

static void dsdt_legacy_device(struct aml *scope, const char *name, const char *eisa,
			       uint16_t port, uint8_t len, int irq)
{
	struct aml hid = { 0 }, res = { 0 };

	aml_integer(&hid, aml_eisa_id(eisa));
	aml_io_port(&res, port, len);
	if (irq >= 0)
		aml_irq(&res, (uint8_t)irq);
	dsdt_device(scope, name, &hid, &res);
}

/* PCI0: the host bridge of bus 0, its config ports and its windows
 * (I/O around 0xcf8, memory in the hole below the IOAPIC). */
static void dsdt_pci_root(struct aml *scope)
{
	struct aml hid = { 0 }, res = { 0 }, zero = { 0 };

	aml_integer(&hid, aml_eisa_id("PNP0A03"));
	aml_integer(&zero, 0);
	aml_word_bus_range(&res, 0, 0);
	aml_io_port(&res, 0xcf8, 8);
	aml_word_io_range(&res, 0x0000, 0x0cf7);
	aml_word_io_range(&res, 0x0d00, 0xffff);
	aml_dword_memory_range(&res, (uint32_t)PCI_MMIO_START, (uint32_t)PCI_MMIO_END - 1);
	{
		struct aml body = { 0 }, crs = { 0 };

		aml_name(&body, "_HID", &hid);
		aml_name(&body, "_UID", &zero);
		aml_name(&body, "_BBN", &zero);
		aml_name(&body, "_SEG", &zero);
		aml_resource_template(&crs, &res);
		aml_name(&body, "_CRS", &crs);
		aml_device(scope, "PCI0", &body);
	}
}

static uint64_t build_dsdt(struct table_writer *w)
{
	struct aml sb, body, s5, pkg, hid, res;
	uint8_t buf[sizeof(struct acpi_header) + AML_MAX];
	struct acpi_header *h = (struct acpi_header *)buf;

	memset(&sb, 0, sizeof(sb));
	memset(&body, 0, sizeof(body));
	dsdt_legacy_device(&sb, "COM1", "PNP0501", 0x3f8, 8, 4);
	dsdt_legacy_device(&sb, "RTC_", "PNP0B00", 0x70, 2, 8);
	memset(&hid, 0, sizeof(hid));
	memset(&res, 0, sizeof(res));
	aml_string(&hid, "QEMU0001");
	aml_io_port(&res, 0x505, 1);
	dsdt_device(&sb, "PEVT", &hid, &res);
	memset(&hid, 0, sizeof(hid));
	memset(&res, 0, sizeof(res));
	aml_string(&hid, "QEMU0002"); /* fw_cfg: etc/vmcoreinfo for dumps */
	aml_io_port(&res, 0x510, 12);
	dsdt_device(&sb, "FWCF", &hid, &res);
	memset(&hid, 0, sizeof(hid));
	memset(&res, 0, sizeof(res));
	aml_integer(&hid, aml_eisa_id("PNP0303"));
	aml_io_port(&res, 0x60, 1);
	aml_io_port(&res, 0x64, 1);
	aml_irq(&res, 1);
	dsdt_device(&sb, "PS2K", &hid, &res);
	dsdt_pci_root(&sb);
	aml_scope(&body, "\\_SB_", &sb);
	/* \_S5: SLP_TYP for soft-off, as the PM1a control register expects. */
	memset(&pkg, 0, sizeof(pkg));
	memset(&s5, 0, sizeof(s5));
	aml_integer(&pkg, ACPI_S5_SLP_TYP);
	aml_integer(&pkg, ACPI_S5_SLP_TYP);
	aml_integer(&pkg, 0);
	aml_integer(&pkg, 0);
	aml_package(&s5, 4, &pkg);
	aml_name(&body, "_S5_", &s5);
	if (sb.overflow || body.overflow)
		return 0;
	memset(buf, 0, sizeof(buf));
	init_header(h, "DSDT", (uint32_t)(sizeof(*h) + body.len), 2);
	memcpy(buf + sizeof(*h), body.buf, body.len);
	return emit(w, buf, h->length);
}

static struct acpi_gas io_gas(uint16_t port, uint8_t bytes)
{
	return (struct acpi_gas){ .space_id = 1, .bit_width = (uint8_t)(bytes * 8),
				  .access_size = bytes > 1 ? 2 : 1, .address = port };
}

static uint64_t build_fadt(struct table_writer *w, uint64_t dsdt)
{
	struct acpi_fadt f;

	memset(&f, 0, sizeof(f));
	init_header(&f.h, "FACP", sizeof(f), 6);
	f.fadt_minor_version = 4;
	f.dsdt = (uint32_t)dsdt;
	f.x_dsdt = dsdt;
	f.sci_int = ACPI_SCI_IRQ;
	f.smi_cmd = 0; /* no SMM: ACPI mode is always on */
	f.pm1a_evt_blk = PORT_ACPI_PM1_EVT;
	f.pm1_evt_len = 4;
	f.pm1a_cnt_blk = PORT_ACPI_PM1_CNT;
	f.pm1_cnt_len = 2;
	f.x_pm1a_evt_blk = io_gas(PORT_ACPI_PM1_EVT, 4);
	f.x_pm1a_cnt_blk = io_gas(PORT_ACPI_PM1_CNT, 2);
	f.iapc_boot_arch = BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042;
	f.flags = FADT_WBINVD | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_RESET_REG_SUP;
	f.reset_reg = io_gas(RESET_PORT, 1);
	f.reset_value = RESET_VALUE;
	memcpy(&f.hypervisor_vendor_id, "KVMINI\0\0", 8);
	return emit(w, &f, sizeof(f));
}

static void put(uint8_t *buf, size_t *off, const void *p, size_t n)
{
	memcpy(buf + *off, p, n);
	*off += n;
}

static uint64_t build_madt(struct table_writer *w)
{
	uint8_t buf[4096];
	size_t off = sizeof(struct acpi_header);
	uint32_t lapic_addr = (uint32_t)LAPIC_ADDR, flags = 1; /* PCAT_COMPAT: 8259s present */
	int ncpus = w->vm->ncpus;

	memset(buf, 0, sizeof(buf));
	put(buf, &off, &lapic_addr, 4);
	put(buf, &off, &flags, 4);
	for (int i = 0; i < ncpus; i++) {
		uint8_t e[8] = { MADT_LAPIC, 8, (uint8_t)i, (uint8_t)i, 1, 0, 0, 0 };

		put(buf, &off, e, sizeof(e));
	}
	{
		uint8_t ioapic[12] = { MADT_IOAPIC, 12, (uint8_t)ncpus, 0 };
		uint32_t addr = (uint32_t)IOAPIC_ADDR;

		memcpy(ioapic + 4, &addr, 4);
		put(buf, &off, ioapic, sizeof(ioapic));
	}
	{
		/* IRQ0 -> GSI2 (the PIT), and the SCI as level/active-high. */
		uint8_t irq0[10] = { MADT_OVERRIDE, 10, 0, 0, 2, 0, 0, 0, 0, 0 };
		uint8_t sci[10] = { MADT_OVERRIDE, 10, 0, ACPI_SCI_IRQ, ACPI_SCI_IRQ, 0, 0, 0,
				    0x0d, 0 };
		uint8_t nmi[6] = { MADT_LAPIC_NMI, 6, 0xff, 0, 0, 1 };

		put(buf, &off, irq0, sizeof(irq0));
		put(buf, &off, sci, sizeof(sci));
		put(buf, &off, nmi, sizeof(nmi));
	}
	init_header((struct acpi_header *)buf, "APIC", (uint32_t)off, 5);
	return emit(w, buf, (uint32_t)off);
}

static uint64_t build_xsdt(struct table_writer *w, const uint64_t *tables, int n)
{
	uint8_t buf[sizeof(struct acpi_header) + 8 * 8];
	uint32_t len = (uint32_t)(sizeof(struct acpi_header) + 8 * (size_t)n);

	memset(buf, 0, sizeof(buf));
	init_header((struct acpi_header *)buf, "XSDT", len, 1);
	memcpy(buf + sizeof(struct acpi_header), tables, 8 * (size_t)n);
	return emit(w, buf, len);
}

int x86_acpi_build(struct vm *vm, uint64_t *rsdp_addr)
{
	struct table_writer w = { vm, ACPI_TABLES_ADDR + 64 };
	struct acpi_rsdp rsdp;
	uint64_t tables[2], dsdt, xsdt;

	dsdt = build_dsdt(&w);
	tables[0] = dsdt ? build_fadt(&w, dsdt) : 0;
	tables[1] = build_madt(&w);
	xsdt = tables[0] && tables[1] ? build_xsdt(&w, tables, 2) : 0;
	if (!xsdt)
		return error("ACPI tables do not fit below 1 MiB");
	memset(&rsdp, 0, sizeof(rsdp));
	memcpy(rsdp.signature, "RSD PTR ", 8);
	memcpy(rsdp.oem_id, OEM_ID, 6);
	rsdp.revision = 2;
	rsdp.length = sizeof(rsdp);
	rsdp.xsdt_address = xsdt;
	rsdp.checksum = table_checksum(&rsdp, 20);
	rsdp.ext_checksum = table_checksum(&rsdp, sizeof(rsdp));
	if (guest_write(&vm->mem, ACPI_TABLES_ADDR, &rsdp, sizeof(rsdp)))
		return error("no guest RAM for the ACPI RSDP");
	*rsdp_addr = ACPI_TABLES_ADDR;
	return 0;
}
