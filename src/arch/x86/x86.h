/* x86.h: the x86 machine: boot memory layout and the setup entry points. */
#ifndef KVMINI_X86_H
#define KVMINI_X86_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/kernel_loader.h"

struct vm;
struct vcpu;

/* Guest-physical layout of what kvmini writes before the kernel runs. */
#define BOOT_GDT_ADDR     0x500ULL
#define BOOT_ZERO_PAGE    0x7000ULL
#define BOOT_STACK_TOP    0x8ff0ULL
#define BOOT_PML4_ADDR    0x9000ULL
#define BOOT_PDPT_ADDR    0xa000ULL
#define BOOT_CMDLINE_ADDR 0x20000ULL
#define BOOT_CMDLINE_MAX  0x10000ULL
#define BOOT_PD_ADDR      0x30000ULL /* up to 64 page directories: 64 GiB of 2 MiB pages */
#define BOOT_PD_MAX       64
#define EBDA_START        0x9fc00ULL
#define ACPI_TABLES_ADDR  0xe0000ULL
#define ACPI_TABLES_END   0xf0000ULL  /* the MP configuration table follows */

#define IOAPIC_ADDR       0xfec00000ULL
#define LAPIC_ADDR        0xfee00000ULL

/* Fixed I/O ports of the platform. */
#define PORT_ACPI_PM1_EVT 0x600
#define PORT_ACPI_PM1_CNT 0x604
#define ACPI_SCI_IRQ      9
#define ACPI_S5_SLP_TYP   5

/* In-kernel irqchip, PIT and the x86-only VM setup. */
int x86_vm_init(struct vm *vm);
/* Loads kernel and initrd, writes the zero page, command line, e820 and ACPI. */
int x86_boot_prepare(struct vm *vm, const uint8_t *kernel, size_t kernel_len,
		     const uint8_t *initrd, size_t initrd_len, struct kernel_image *img);
/* CPUID, MSRs, LAPIC for every vCPU; long-mode registers for the boot vCPU. */
int x86_vcpu_setup(struct vcpu *vcpu, uint64_t entry);
/* Builds the boot page tables (2 MiB pages, or 1 GiB with pdpe1gb). */
int x86_build_page_tables(struct vm *vm, int use_1g_pages);
/* ACPI: RSDP, XSDT, FADT, MADT, DSDT at ACPI_TABLES_ADDR; returns the RSDP address. */
int x86_acpi_build(struct vm *vm, uint64_t *rsdp_addr);
/* MP tables: floating pointer at the EBDA, configuration table at 0xF0000. */
int x86_mptable_build(struct vm *vm);
/* The e820 map of `vm`'s RAM into `table`; returns the count. */
int x86_e820_build(const struct vm *vm, struct e820_entry *table, int max);

#endif
