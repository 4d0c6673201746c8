/* bootcheck.c: the boot-check test guest (also kvmini's bundled demo).
 * Reports on COM1 what the VM gave it: command line, e820 map, initrd,
 * CPUID topology and KVM leaves, ACPI tables, kvmclock; then ends the way
 * the command line's action= asks (reset by default). */
#include "lib.h"

#define MSR_KVM_WALL_CLOCK_NEW  0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

struct e820 { uint64_t addr, size; uint32_t type; } __attribute__((packed));

struct pvclock {
	volatile uint32_t version;
	uint32_t pad0;
	volatile uint64_t tsc_timestamp;
	volatile uint64_t system_time;
	volatile uint32_t mul;
	volatile int8_t shift;
	volatile uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

struct wall_clock { volatile uint32_t version, sec, nsec; } __attribute__((packed));

static struct pvclock clock_page __attribute__((aligned(64)));
static struct wall_clock wall __attribute__((aligned(64)));
/* Known values for debuggers and dumps to find. */
volatile uint64_t guest_marker = 0x6b766d696e693031ULL; /* "kvmini01" */
volatile uint64_t spin_counter;

static uint8_t *bp; /* boot_params */

static uint32_t u32_at(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t u64_at(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void report_e820(void)
{
	uint8_t n = bp[0x1e8];
	uint64_t ram = 0;

	report_dec("e820.entries", n);
	for (int i = 0; i < n; i++) {
		struct e820 e;

		memcpy(&e, bp + 0x2d0 + 20 * i, sizeof(e));
		puts_serial("e820: ");
		put_hex(e.addr);
		putc_serial(' ');
		put_hex(e.size);
		putc_serial(' ');
		put_dec(e.type);
		putc_serial('\n');
		if (e.type == 1)
			ram += e.size;
	}
	report_dec("e820.ram", ram);
}

static void report_initrd(void)
{
	uint32_t addr = u32_at(bp + 0x218), size = u32_at(bp + 0x21c);
	const uint8_t *p = (const uint8_t *)(uintptr_t)addr;
	uint32_t h = 2166136261u; /* FNV-1a */

	if (!size)
		return;
	for (uint32_t i = 0; i < size; i++)
		h = (h ^ p[i]) * 16777619u;
	report_hex("initrd.addr", addr);
	report_dec("initrd.size", size);
	report_hex("initrd.fnv1a", h);
}

static void report_cpuid(void)
{
	uint32_t r[4];
	char sig[13];

	cpuid(1, 0, r);
	report_dec("cpuid.hypervisor", r[2] >> 31);
	report_dec("cpuid.leaf1_logical", (r[1] >> 16) & 0xff);
	report_dec("cpuid.apic_id", r[1] >> 24);
	cpuid(0, 0, r);
	if (r[0] >= 0xb) {
		cpuid(0xb, 1, r);
		report_dec("cpuid.leafb_cpus", r[1] & 0xffff);
	}
	cpuid(0x40000000, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = 0;
	report_str("cpuid.kvm_signature", sig);
	report_hex("cpuid.kvm_max_leaf", r[0]);
	cpuid(0x40000001, 0, r);
	report_hex("cpuid.kvm_features", r[0]);
}

static int checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

static const uint8_t *find_table(const uint8_t *xsdt, const char *sig)
{
	uint32_t n = (u32_at(xsdt + 4) - 36) / 8;

	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *t = (const uint8_t *)(uintptr_t)u64_at(xsdt + 36 + 8 * i);

		if (!memcmp(t, sig, 4))
			return t;
	}
	return 0;
}

static void report_acpi(void)
{
	const uint8_t *rsdp = (const uint8_t *)(uintptr_t)u64_at(bp + 0x70);
	const uint8_t *xsdt, *madt, *fadt, *dsdt;
	uint32_t cpus = 0, len, ok;

	if (!rsdp || memcmp(rsdp, "RSD PTR ", 8)) {
		report_str("acpi", "no RSDP");
		return;
	}
	xsdt = (const uint8_t *)(uintptr_t)u64_at(rsdp + 24);
	madt = find_table(xsdt, "APIC");
	fadt = find_table(xsdt, "FACP");
	ok = checksum_ok(rsdp, 20) && checksum_ok(rsdp, 36) && checksum_ok(xsdt, u32_at(xsdt + 4));
	if (!madt || !fadt) {
		report_str("acpi", "missing MADT or FADT");
		return;
	}
	dsdt = (const uint8_t *)(uintptr_t)u64_at(fadt + 140);
	ok = ok && checksum_ok(madt, u32_at(madt + 4)) && checksum_ok(fadt, u32_at(fadt + 4)) &&
	     checksum_ok(dsdt, u32_at(dsdt + 4));
	for (uint32_t off = 44; off < u32_at(madt + 4); off += madt[off + 1])
		if (madt[off] == 0 && (madt[off + 4] & 1))
			cpus++;
	report_str("acpi.checksums", ok ? "ok" : "FAIL");
	report_dec("acpi.madt_cpus", cpus);
	len = u32_at(dsdt + 4);
	for (uint32_t i = 36; i + 8 <= len; i++)
		if (!memcmp(dsdt + i, "QEMU0001", 8))
			report_str("acpi.pvpanic", "QEMU0001");
}

/* The MP floating pointer, where Linux looks for it (EBDA start). */
static void report_mptable(void)
{
	uintptr_t bda = 0x40e; /* hidden from the compiler: low addresses are real here */
	const uint8_t *mpf, *mpc;
	uint32_t cpus = 0, off;

	__asm__("" : "+r"(bda));
	mpf = (const uint8_t *)(uintptr_t)((uint32_t)*(volatile uint16_t *)bda << 4);
	if (memcmp(mpf, "_MP_", 4) || !checksum_ok(mpf, 16)) {
		report_str("mptable", "no floating pointer");
		return;
	}
	mpc = (const uint8_t *)(uintptr_t)u32_at(mpf + 4);
	if (memcmp(mpc, "PCMP", 4) || !checksum_ok(mpc, *(const uint16_t *)(mpc + 4))) {
		report_str("mptable", "bad configuration table");
		return;
	}
	off = 44;
	for (uint16_t i = 0; i < *(const uint16_t *)(mpc + 34); i++) {
		if (mpc[off] == 0 && (mpc[off + 3] & 1))
			cpus++;
		off += mpc[off] == 0 ? 20 : 8;
	}
	report_dec("mptable.cpus", cpus);
}

static uint64_t pvclock_read(void)
{
	uint32_t v;
	uint64_t delta, ns;

	do {
		v = clock_page.version;
		__asm__ volatile("" ::: "memory");
		delta = rdtsc() - clock_page.tsc_timestamp;
		if (clock_page.shift < 0)
			delta >>= -clock_page.shift;
		else
			delta <<= clock_page.shift;
		ns = clock_page.system_time + (uint64_t)(((unsigned __int128)delta * clock_page.mul) >> 32);
		__asm__ volatile("" ::: "memory");
	} while ((v & 1) || v != clock_page.version);
	return ns;
}

static void report_kvmclock(void)
{
	uint64_t t0, t1;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&clock_page | 1);
	wrmsr(MSR_KVM_WALL_CLOCK_NEW, (uint64_t)(uintptr_t)&wall);
	t0 = pvclock_read();
	for (volatile int i = 0; i < 2000; i++)
		;
	t1 = pvclock_read();
	report_hex("kvmclock.version", clock_page.version);
	report_dec("kvmclock.tsc_stable", clock_page.flags & 1);
	report_dec("kvmclock.delta_ns", t1 - t0);
	report_str("kvmclock.advances", t1 > t0 ? "ok" : "FAIL");
	report_dec("kvmclock.wall_sec", wall.sec);
}

/* Prints kvmclock time `n` times, a busy-wait apart (pause/resume tests). */
static void clock_loop(int n)
{
	for (int i = 0; i < n; i++) {
		for (volatile int j = 0; j < 2000; j++)
			;
		report_dec("tick", pvclock_read());
	}
}

/* Reads one line from COM1 (polling) and prints it back. */
static void echo_line(void)
{
	char line[64];
	size_t n = 0;

	puts_serial("ready for input\n");
	for (;;) {
		char c = getc_serial();

		if (c == '\r' || c == '\n')
			break;
		if (n + 1 < sizeof(line))
			line[n++] = c;
	}
	line[n] = 0;
	report_str("echo", line);
}

static void finish(const char *cmdline)
{
	char action[32];

	cmdline_get(cmdline, "action", action, sizeof(action));
	report_str("action", action[0] ? action : "reset");
	if (!memcmp(action, "poweroff", 9))
		guest_poweroff();
	if (!memcmp(action, "debugexit", 10)) {
		char v[12];

		guest_debug_exit((uint32_t)parse_dec(cmdline_get(cmdline, "exitcode", v, sizeof(v))));
	}
	if (!memcmp(action, "panic", 6)) {
		outb(0x505, 1);
		guest_halt();
	}
	if (!memcmp(action, "triplefault", 12)) {
		struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idt = { 0, 0 };

		__asm__ volatile("lidt %0; ud2" :: "m"(idt));
	}
	if (!memcmp(action, "spin", 5))
		for (;;)
			spin_counter++;
	if (!memcmp(action, "halt", 5))
		guest_halt();
	if (!memcmp(action, "echo", 5))
		echo_line();
	if (!memcmp(action, "clockloop", 10))
		clock_loop(60);
	guest_reset();
}

void guest_main(uint8_t *boot_params)
{
	const char *cmdline;

	bp = boot_params;
	cmdline = (const char *)(uintptr_t)u32_at(bp + 0x228);
	puts_serial("kvmini test guest: bootcheck\n");
	report_str("cmdline", cmdline ? cmdline : "");
	report_hex("boot_protocol", *(uint16_t *)(bp + 0x206));
	report_e820();
	report_initrd();
	report_cpuid();
	report_acpi();
	report_mptable();
	report_kvmclock();
	finish(cmdline ? cmdline : "");
}
