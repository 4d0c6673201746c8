/* gdbtarget.c: the test guest for kvmini's GDB stub (built with -g).
 * Calls add_numbers() (a named breakpoint target with a volatile local),
 * hw_target() (for a hardware breakpoint), writes watched_value (for a
 * write watchpoint), prints magic_value (which gdb changes) and a line on
 * COM2, then ends as the command line's action= asks: reset (default),
 * spin (a bounded loop for Ctrl-C), panic (pvpanic) or triplefault. */
#include "lib.h"

#define COM2 0x2f8

volatile uint64_t watched_value;
volatile uint64_t magic_value = 42;
volatile uint64_t global_counter = 7;
volatile uint64_t spin_count;
volatile uint64_t spin_limit = 20000000; /* ~1 minute emulated; a debugger may lower it */

int __attribute__((noinline)) add_numbers(int a, int b)
{
	volatile int local_sum = a + b;

	global_counter += (uint64_t)local_sum;
	return local_sum;
}

void __attribute__((noinline)) hw_target(void)
{
	global_counter++;
}

static void com2_puts(const char *s)
{
	while (*s) {
		while (!(inb(COM2 + 5) & 0x20))
			;
		outb(COM2, (uint8_t)*s++);
	}
}

static void __attribute__((noinline)) finish(const char *cmdline)
{
	char action[32];

	cmdline_get(cmdline, "action", action, sizeof(action));
	if (!memcmp(action, "spin", 5)) {
		while (spin_count < spin_limit)
			spin_count++;
		report_str("spin", "limit reached");
	}
	if (!memcmp(action, "panic", 6)) {
		outb(0x505, 1);
		report_str("after_panic", "resumed");
	}
	if (!memcmp(action, "triplefault", 12)) {
		struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idt = { 0, 0 };

		__asm__ volatile("lidt %0; ud2" :: "m"(idt));
	}
	report_str("done", "reset");
	guest_reset();
}

void guest_main(uint8_t *boot_params)
{
	uint32_t cmdline_addr;
	const char *cmdline;

	memcpy(&cmdline_addr, boot_params + 0x228, 4);
	cmdline = (const char *)(uintptr_t)cmdline_addr;
	puts_serial("kvmini test guest: gdbtarget\n");
	report_dec("sum", (uint64_t)add_numbers(3, 4));
	hw_target();
	watched_value = 0x1234;
	report_hex("watched", watched_value);
	report_dec("magic", magic_value);
	com2_puts("com2: hello\n");
	finish(cmdline ? cmdline : "");
}
