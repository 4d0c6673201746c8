/* test_acpi.c: the ACPI tables kvmini writes, built into guest memory and
 * checked: checksums, one MADT entry per vCPU, and a DSDT that the ACPICA
 * disassembler (iasl -d) decodes into the expected devices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/x86.h"
#include "vm/vm.h"

static uint8_t sum(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static const uint8_t *table(struct vm *vm, uint64_t addr)
{
	const uint8_t *h = gpa_to_hva(&vm->mem, addr, 36);
	uint32_t len;

	assert_non_null(h);
	memcpy(&len, h + 4, 4);
	h = gpa_to_hva(&vm->mem, addr, len);
	assert_non_null(h);
	assert_int_equal(sum(h, len), 0);
	return h;
}

static void tables_check_out(void **state)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	const uint8_t *rsdp, *xsdt, *t, *fadt = NULL, *madt = NULL, *dsdt;
	uint64_t rsdp_addr, addr;
	uint32_t len;
	int cpus = 0;

	vm->ncpus = 3;
	assert_int_equal(guest_memory_create(&vm->mem, 64ULL << 20), 0);
	assert_int_equal(x86_acpi_build(vm, &rsdp_addr), 0);
	rsdp = gpa_to_hva(&vm->mem, rsdp_addr, 36);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(rsdp, 20), 0);
	assert_int_equal(sum(rsdp, 36), 0);
	memcpy(&addr, rsdp + 24, 8);
	xsdt = table(vm, addr);
	memcpy(&len, xsdt + 4, 4);
	for (uint32_t off = 36; off < len; off += 8) {
		memcpy(&addr, xsdt + off, 8);
		t = table(vm, addr);
		if (!memcmp(t, "FACP", 4))
			fadt = t;
		if (!memcmp(t, "APIC", 4))
			madt = t;
	}
	assert_non_null(fadt);
	assert_non_null(madt);
	memcpy(&len, madt + 4, 4);
	for (uint32_t off = 44; off < len; off += madt[off + 1])
		cpus += madt[off] == 0;
	assert_int_equal(cpus, 3);
	memcpy(&addr, fadt + 140, 8);
	dsdt = table(vm, addr);
	memcpy(&len, dsdt + 4, 4);
	if (access("/usr/bin/iasl", X_OK) == 0) {
		char dir[] = "/tmp/kvmini-acpi-XXXXXX", cmd[512];
		FILE *f;

		assert_non_null(mkdtemp(dir));
		snprintf(cmd, sizeof(cmd), "%s/dsdt.aml", dir);
		f = fopen(cmd, "wb");
		fwrite(dsdt, 1, len, f);
		fclose(f);
		snprintf(cmd, sizeof(cmd),
			 "cd %s && iasl -d dsdt.aml >/dev/null 2>&1 && grep -q PNP0A03 dsdt.dsl && "
			 "grep -q QEMU0001 dsdt.dsl && grep -q PNP0501 dsdt.dsl && grep -q _S5_ dsdt.dsl && "
			 "grep -q 0xFEBFFFFF dsdt.dsl", dir);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
	guest_memory_destroy(&vm->mem);
	free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(tables_check_out) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
