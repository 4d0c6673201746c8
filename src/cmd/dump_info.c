/* dump_info.c: `kvmini dump-info FILE`: what a crash dump holds: format,
 * compression, memory ranges, each vCPU's registers, VMCOREINFO and, when
 * VMCOREINFO points to the printk ring buffer, the guest's last messages. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "dump/cpu_state.h"
#include "dump/dmesg.h"
#include "dump/note_format.h"
#include "dump/reader.h"
#include "vm/vm.h"

static const char dump_info_help[] =
"usage: kvmini dump-info [--lines N] FILE\n"
"\n"
"Prints what a crash dump (ELF core or kdump-compressed) holds: format,\n"
"compression, memory ranges, every vCPU's registers, VMCOREINFO, and the\n"
"guest kernel's last N messages (default 20) when VMCOREINFO points to them.\n";

static const char *compression_name(uint32_t status)
{
	if (status & DUMP_DH_COMPRESSED_ZSTD)
		return "zstd";
	if (status & DUMP_DH_COMPRESSED_ZLIB)
		return "zlib";
	if (status & DUMP_DH_COMPRESSED_LZO)
		return "lzo";
	if (status & DUMP_DH_COMPRESSED_SNAPPY)
		return "snappy";
	return "none";
}

static void print_format(const struct dump_reader *r)
{
	if (r->kind == DUMP_KIND_ELF) {
		printf("format: ELF64 core\n");
		return;
	}
	printf("format: kdump-compressed (diskdump header version %d)\n", r->header.header_version);
	printf("compression: %s\n", compression_name(r->header.status));
	printf("release: %.65s\n", r->header.utsname.release);
	printf("phys_base: 0x%llx\n", (unsigned long long)r->sub.phys_base);
	printf("dump level: %d\n", r->sub.dump_level);
}

static void print_ranges(const struct dump_reader *r)
{
	uint64_t total = 0;

	printf("memory ranges: %d\n", r->nranges);
	for (int i = 0; i < r->nranges; i++) {
		printf("  0x%016llx-0x%016llx %llu MiB\n", (unsigned long long)r->ranges[i].paddr,
		       (unsigned long long)(r->ranges[i].paddr + r->ranges[i].size - 1),
		       (unsigned long long)(r->ranges[i].size >> 20));
		total += r->ranges[i].size;
	}
	printf("memory: %llu MiB\n", (unsigned long long)(total >> 20));
}

static void print_prstatus(int cpu, const struct x86_64_elf_prstatus *s)
{
	const struct x86_64_user_regs *g = &s->pr_reg;

	printf("vCPU %d (pid %d):\n", cpu, s->pr_pid);
	printf("  RIP=%016llx RFLAGS=%016llx CS=%04llx SS=%04llx\n", (unsigned long long)g->rip,
	       (unsigned long long)g->eflags, (unsigned long long)g->cs, (unsigned long long)g->ss);
	printf("  RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n", (unsigned long long)g->rax,
	       (unsigned long long)g->rbx, (unsigned long long)g->rcx, (unsigned long long)g->rdx);
	printf("  RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n", (unsigned long long)g->rsi,
	       (unsigned long long)g->rdi, (unsigned long long)g->rbp, (unsigned long long)g->rsp);
	printf("  R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n", (unsigned long long)g->r8,
	       (unsigned long long)g->r9, (unsigned long long)g->r10, (unsigned long long)g->r11);
	printf("  R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n", (unsigned long long)g->r12,
	       (unsigned long long)g->r13, (unsigned long long)g->r14, (unsigned long long)g->r15);
	printf("  FS_BASE=%016llx GS_BASE=%016llx\n", (unsigned long long)g->fs_base,
	       (unsigned long long)g->gs_base);
}

static void print_qemu(const struct qemu_cpu_state *q, uint32_t len)
{
	printf("  CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx\n", (unsigned long long)q->cr[0],
	       (unsigned long long)q->cr[2], (unsigned long long)q->cr[3],
	       (unsigned long long)q->cr[4]);
	printf("  GDT=%016llx/%04x IDT=%016llx/%04x TR=%04x LDT=%04x\n",
	       (unsigned long long)q->gdt.base, q->gdt.limit, (unsigned long long)q->idt.base,
	       q->idt.limit, q->tr.selector, q->ldt.selector);
	if (len >= sizeof(*q))
		printf("  KERNEL_GS_BASE=%016llx\n", (unsigned long long)q->kernel_gs_base);
}

static void print_kvmini(const struct kvmini_cpu_note *k)
{
	printf("  EFER=%016llx APIC_BASE=%016llx\n", (unsigned long long)k->efer,
	       (unsigned long long)k->apic_base);
	if (k->flags & 1)
		printf("  DR0=%016llx DR1=%016llx DR2=%016llx DR3=%016llx DR6=%016llx DR7=%016llx\n",
		       (unsigned long long)k->dr[0], (unsigned long long)k->dr[1],
		       (unsigned long long)k->dr[2], (unsigned long long)k->dr[3],
		       (unsigned long long)k->dr6, (unsigned long long)k->dr7);
	for (int i = 0, shown = 0; i < DUMP_NMSRS; i++) {
		if (!(k->msr_valid & (1U << i)))
			continue;
		printf("%s%s=%016llx", shown % 3 ? " " : "  ", dump_msr_name(i),
		       (unsigned long long)k->msrs[i]);
		if (++shown % 3 == 0 || i == DUMP_NMSRS - 1)
			putchar('\n');
	}
}

/* Registers, vCPU by vCPU: the n-th CORE, QEMU and KVMINI notes belong together. */
static void print_cpu(const struct dump_reader *r, int cpu)
{
	struct dump_note n;
	size_t pos = 0;
	int core = 0, qemu = 0, kvmini = 0;

	while (dump_reader_next_note(r, &pos, &n)) {
		if (!strcmp(n.name, NOTE_NAME_CORE) && n.type == NT_PRSTATUS_TYPE &&
		    n.desc_len >= sizeof(struct x86_64_elf_prstatus) && core++ == cpu) {
			struct x86_64_elf_prstatus s;

			memcpy(&s, n.desc, sizeof(s));
			print_prstatus(cpu, &s);
		} else if (!strcmp(n.name, NOTE_NAME_QEMU) &&
			   n.desc_len >= offsetof(struct qemu_cpu_state, kernel_gs_base) &&
			   qemu++ == cpu) {
			struct qemu_cpu_state q = { 0 };

			memcpy(&q, n.desc, n.desc_len < sizeof(q) ? n.desc_len : sizeof(q));
			print_qemu(&q, n.desc_len);
		} else if (!strcmp(n.name, NOTE_NAME_KVMINI) && n.type == NT_KVMINI_CPU &&
			   n.desc_len >= sizeof(struct kvmini_cpu_note) && kvmini++ == cpu) {
			struct kvmini_cpu_note k;

			memcpy(&k, n.desc, sizeof(k));
			print_kvmini(&k);
		}
	}
}

static void print_dump_note(const struct dump_reader *r)
{
	struct dump_note n;
	size_t pos = 0;

	while (dump_reader_next_note(r, &pos, &n)) {
		struct kvmini_dump_note d;

		if (strcmp(n.name, NOTE_NAME_KVMINI) || n.type != NT_KVMINI_DUMP ||
		    n.desc_len < sizeof(d))
			continue;
		memcpy(&d, n.desc, sizeof(d));
		printf("reason: %.*s", (int)sizeof(d.reason), d.reason);
		if (d.crashing_cpu >= 0)
			printf(" (vCPU %d)", d.crashing_cpu);
		printf("\n");
		if (d.flags & KVMINI_DUMP_PHYS_BASE)
			printf("kernel phys_base: 0x%llx (from %s)\n", (unsigned long long)d.phys_base,
			       d.flags & KVMINI_DUMP_FROM_IDT ? "the IDT and page tables" : "VMCOREINFO");
		if (d.flags & KVMINI_DUMP_KASLR)
			printf("KASLR offset: 0x%llx\n", (unsigned long long)d.kaslr_offset);
	}
}

static int count_cpus(const struct dump_reader *r)
{
	struct dump_note n;
	size_t pos = 0;
	int cpus = 0;

	while (dump_reader_next_note(r, &pos, &n))
		cpus += !strcmp(n.name, NOTE_NAME_CORE) && n.type == NT_PRSTATUS_TYPE;
	return cpus;
}

static void print_vmcoreinfo(struct dump_reader *r, int lines)
{
	if (!r->vmcoreinfo) {
		printf("vmcoreinfo: none (the guest did not hand one over)\n");
		return;
	}
	printf("vmcoreinfo: %zu bytes\n", strlen(r->vmcoreinfo));
	for (const char *p = r->vmcoreinfo; *p;) {
		size_t n = strcspn(p, "\n");

		if (!strncmp(p, "OSRELEASE=", 10) || !strncmp(p, "KERNELOFFSET=", 13) ||
		    !strncmp(p, "NUMBER(phys_base)=", 18) || !strncmp(p, "CRASHTIME=", 10))
			printf("  %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
	printf("guest messages:\n");
	if (dump_print_dmesg(r, stdout, lines))
		printf("  (none readable)\n");
}

int cmd_dump_info(int argc, char **argv)
{
	struct dump_reader r;
	const char *path = NULL;
	int lines = 20, cpus;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(dump_info_help, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--lines") && i + 1 < argc) {
			if (sscanf(argv[++i], "%d", &lines) != 1 || lines < 1 || lines > 100000) {
				fprintf(stderr, "kvmini: error: --lines: give a number from 1 to 100000\n");
				return EXIT_USAGE;
			}
		} else if (!path && argv[i][0] != '-') {
			path = argv[i];
		} else {
			fprintf(stderr, "kvmini: error: unexpected argument '%s'; see `kvmini dump-info "
					"--help`\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!path) {
		fputs(dump_info_help, stderr);
		return EXIT_USAGE;
	}
	if (dump_reader_open(&r, path)) {
		dump_reader_close(&r);
		return EXIT_ERROR;
	}
	printf("file: %s\n", path);
	print_format(&r);
	print_dump_note(&r);
	print_ranges(&r);
	cpus = count_cpus(&r);
	printf("vCPUs: %d\n", cpus);
	for (int i = 0; i < cpus; i++)
		print_cpu(&r, i);
	print_vmcoreinfo(&r, lines);
	dump_reader_close(&r);
	return 0;
}
