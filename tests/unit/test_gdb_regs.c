/* test_gdb_regs.c: the stub's x86-64 register table and target.xml
 * (src/debug/gdb_regs.c, gdb_tdesc.c): gdb's register names in order,
 * sizes, and reads/writes that keep the bits gdb does not see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "debug/gdb_regs.h"
#include "debug/gdb_tdesc.h"

static int find(const char *name)
{
	for (int i = 0; i < gdb_reg_count; i++)
		if (!strcmp(gdb_reg_table[i].name, name))
			return i;
	return -1;
}

static void order_and_sizes(void **state)
{
	static const char *const core[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",
		"rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags",
		"cs", "ss", "ds", "es", "fs", "gs", "st0" };

	for (int i = 0; i < (int)(sizeof(core) / sizeof(core[0])); i++)
		assert_int_equal(find(core[i]), i);
	assert_int_equal(find("xmm0"), 40);
	assert_int_equal(find("mxcsr"), 56);
	assert_true(find("cr3") > find("fs_base"));
	assert_int_equal(gdb_reg_table[find("st7")].bits, 80);
	/* core 276 + sse 260 + segments 16 + system 9 * 8 */
	assert_int_equal(gdb_regs_size(), 276 + 260 + 16 + 72);
}

static void reads_and_writes(void **state)
{
	struct x86_cpu_state st;
	uint8_t buf[16];
	uint32_t eflags = 0x246;
	uint16_t sel = 0x33;

	memset(&st, 0, sizeof(st));
	st.regs.rflags = 0xffffffff00000002ULL; /* upper half gdb cannot see */
	st.sregs.cs.selector = 0x10;
	st.sregs.cr3 = 0x9000;
	assert_int_equal(gdb_reg_read(&st, find("cs"), buf), 0);
	assert_memory_equal(buf, "\x10\x00\x00\x00", 4);
	assert_int_equal(gdb_reg_read(&st, find("cr3"), buf), 0);
	assert_memory_equal(buf, "\x00\x90\x00\x00\x00\x00\x00\x00", 8);
	memcpy(buf, &eflags, 4);
	assert_int_equal(gdb_reg_write(&st, find("eflags"), buf), 0);
	assert_int_equal(st.regs.rflags, 0xffffffff00000246ULL);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &sel, 2);
	assert_int_equal(gdb_reg_write(&st, find("ss"), buf), 0);
	assert_int_equal(st.sregs.ss.selector, 0x33);
	assert_int_equal(gdb_reg_read(&st, find("fiseg"), buf), 0);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_int_equal(gdb_reg_read(&st, gdb_reg_count, buf), -1);
	assert_int_equal(gdb_reg_write(&st, -1, buf), -1);
}

static void target_xml(void **state)
{
	static char xml[16384];
	int n = gdb_tdesc_xml(xml, sizeof(xml));

	assert_true(n > 0);
	assert_int_equal((int)strlen(xml), n);
	assert_non_null(strstr(xml, "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.i386.core\">"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.i386.sse\">"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.i386.segments\">"));
	assert_non_null(strstr(xml, "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\" regnum=\"16\"/>"));
	assert_non_null(strstr(xml, "<union id=\"vec128\">"));
	assert_int_equal(gdb_tdesc_xml(xml, 100), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_and_sizes),
		cmocka_unit_test(reads_and_writes),
		cmocka_unit_test(target_xml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
