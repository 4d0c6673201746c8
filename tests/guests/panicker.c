/* panicker.c: the crash-dump test guest. Puts known values in memory and in
 * registers, then reports a panic through pvpanic, the way the command line
 * asks:
 *   action=panic (default), panic2 (two pvpanic writes in one exit: rep outsb),
 *          spin (counts in spin_counter forever), triplefault
 *   vmcoreinfo=1  first hands a VMCOREINFO note to fw_cfg etc/vmcoreinfo
 *                 (selector, file directory, DMA write), as Linux does
 *   fill=N        first fills N MiB at 16 MiB with a non-zero pattern */
#include "lib.h"

#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_DMA_HI 0x514
#define FW_CFG_DMA_LO 0x518
#define FILL_BASE (16ULL << 20)

volatile uint64_t guest_marker = 0x6b766d696e693031ULL; /* "kvmini01" */
volatile uint64_t guest_table[64];
volatile uint64_t spin_counter;

struct vmcoreinfo_note {
	uint32_t namesz, descsz, type;
	char name[12];
	char desc[2048];
};

static struct vmcoreinfo_note note __attribute__((aligned(4096)));
static const char vmcoreinfo_head[] =
	"OSRELEASE=6.1.0-kvmini-test\nPAGESIZE=4096\nNUMBER(phys_base)=1048576\n"
	"KERNELOFFSET=2a000000\nCRASHTIME=1700000000\n";

/* Symbols are given as kernel-text addresses, as Linux's are:
 * __START_KERNEL_map + physical - phys_base; readers translate them with
 * NUMBER(phys_base) (our identity page tables do not map them). */
#define PHYS_BASE 0x100000ULL
#define KERNEL_VA(p) (0xffffffff80000000ULL + (uint64_t)(uintptr_t)(p) - PHYS_BASE)

/* A printk ring buffer with Linux's structure (its field offsets go into
 * VMCOREINFO), holding the guest's messages for `kvmini dump-info`. */
struct blk_lpos { uint64_t begin, next; };
struct prb_desc { uint64_t state_var; struct blk_lpos text_blk_lpos; };
struct printk_info { uint64_t seq, ts_nsec; uint16_t text_len; uint8_t facility, flags; };
struct desc_ring { uint32_t count_bits; uint64_t descs, infos, head_id, tail_id; };
struct data_ring { uint32_t size_bits; uint64_t data, head_lpos, tail_lpos; };
struct printk_ringbuffer { struct desc_ring desc_ring; struct data_ring text_data_ring; };

#define PRB_COUNT_BITS 3
#define PRB_SIZE_BITS 10
static struct prb_desc prb_descs[1 << PRB_COUNT_BITS];
static struct printk_info prb_infos[1 << PRB_COUNT_BITS];
static uint64_t prb_text[(1 << PRB_SIZE_BITS) / 8];
static struct printk_ringbuffer printk_rb;
static uint64_t prb; /* struct printk_ringbuffer *, as a kernel address */
/* FLATMEM's mem_map pointer: makedumpfile wants one (never read for dmesg) */
static uint64_t mem_map = 0xffffea0000000000ULL;
/* init_uts_ns: what makedumpfile checks the release against */
static struct { int32_t kref; char sysname[65], nodename[65], release[65], version[65],
		machine[65], domainname[65]; } init_uts_ns;
static const char *const messages[] = {
	"kvmini panicker: putting known values in place",
	"Kernel panic - not syncing: kvmini test panic",
};

/* The same messages in the variable-length record log of Linux 3.5 to 5.9,
 * which `crash --log` reads with VMCOREINFO alone. */
struct printk_log { uint64_t ts_nsec; uint16_t len, text_len, dict_len; uint8_t facility, level; };
static uint64_t legacy_log[128];
static uint64_t log_buf;
static uint32_t log_buf_len = sizeof(legacy_log), log_first_idx, log_next_idx;

static void log_legacy(uint64_t id, uint16_t len)
{
	struct printk_log *h = (struct printk_log *)((uint8_t *)legacy_log + log_next_idx);

	*h = (struct printk_log){ .ts_nsec = 1500000000ULL * (id + 1),
				  .len = (uint16_t)((sizeof(*h) + len + 7) & ~7U),
				  .text_len = len, .level = 6 << 5 };
	memcpy(h + 1, messages[id], len);
	log_next_idx += h->len;
	log_buf = KERNEL_VA(legacy_log);
}

/* Kernel page tables as makedumpfile walks them (SYMBOL(init_top_pgt)):
 * KERNEL_VA(PHYS_BASE) .. +2 MiB mapped with 4 KiB pages. Never loaded. */
static uint64_t init_top_pgt[512] __attribute__((aligned(4096)));
static uint64_t kernel_pdpt[512] __attribute__((aligned(4096)));
static uint64_t kernel_pd[512] __attribute__((aligned(4096)));
static uint64_t kernel_pt[512] __attribute__((aligned(4096)));

static void map_kernel_text(void)
{
	init_top_pgt[511] = (uint64_t)(uintptr_t)kernel_pdpt | 3;
	kernel_pdpt[510] = (uint64_t)(uintptr_t)kernel_pd | 3;
	kernel_pd[0] = (uint64_t)(uintptr_t)kernel_pt | 3;
	for (uint64_t i = 0; i < 512; i++)
		kernel_pt[i] = (PHYS_BASE + i * 4096) | 3;
}

static void log_messages(void)
{
	uint64_t lpos = 0;

	map_kernel_text();
	prb = KERNEL_VA(&printk_rb);
	printk_rb.desc_ring = (struct desc_ring){ PRB_COUNT_BITS, KERNEL_VA(prb_descs),
		KERNEL_VA(prb_infos), 1, 0 };
	printk_rb.text_data_ring = (struct data_ring){ PRB_SIZE_BITS, KERNEL_VA(prb_text), 0, 0 };
	memcpy(init_uts_ns.sysname, "Linux", 6);
	memcpy(init_uts_ns.release, "6.1.0-kvmini-test", 18);
	memcpy(init_uts_ns.machine, "x86_64", 7);
	for (uint64_t id = 0; id < 2; id++) {
		uint16_t len = (uint16_t)strlen(messages[id]);
		uint64_t next = lpos + ((8 + len + 7) & ~7ULL);

		prb_text[lpos / 8] = id;
		memcpy((uint8_t *)prb_text + lpos + 8, messages[id], len);
		prb_descs[id] = (struct prb_desc){ 2ULL << 62 | id, { lpos, next } };
		prb_infos[id] = (struct printk_info){ .seq = id, .ts_nsec = 1500000000ULL * (id + 1),
						      .text_len = len };
		lpos = next;
		log_legacy(id, len);
	}
	printk_rb.text_data_ring.head_lpos = lpos;
}

static char *append(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static char *append_num(char *p, const char *key, uint64_t v, int hex)
{
	char buf[24];
	int i = 23;

	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v % (hex ? 16 : 10)];
		v /= hex ? 16 : 10;
	} while (v);
	p = append(p, key);
	*p++ = '=';
	p = append(p, buf + i);
	*p++ = '\n';
	return p;
}

#define OFF(key, type, field) p = append_num(p, "OFFSET(" key ")", __builtin_offsetof(type, field), 0)
#define SIZE(key, type) p = append_num(p, "SIZE(" key ")", sizeof(type), 0)

static uint32_t build_vmcoreinfo(char *text)
{
	char *p = append(text, vmcoreinfo_head);

	p = append_num(p, "SYMBOL(prb)", KERNEL_VA(&prb), 1);
	p = append_num(p, "SYMBOL(init_uts_ns)", KERNEL_VA(&init_uts_ns), 1);
	p = append_num(p, "SYMBOL(init_top_pgt)", KERNEL_VA(init_top_pgt), 1);
	p = append_num(p, "SYMBOL(mem_map)", KERNEL_VA(&mem_map), 1);
	p = append(p, "SIZE(page)=64\nOFFSET(page.flags)=0\nOFFSET(page._refcount)=52\n"
		      "OFFSET(page.mapping)=24\n");
	p = append_num(p, "OFFSET(uts_namespace.name)", 4, 0);
	SIZE("printk_ringbuffer", struct printk_ringbuffer);
	p = append(p, "OFFSET(atomic_long_t.counter)=0\n");
	OFF("printk_ringbuffer.desc_ring", struct printk_ringbuffer, desc_ring);
	OFF("printk_ringbuffer.text_data_ring", struct printk_ringbuffer, text_data_ring);
	OFF("prb_desc_ring.count_bits", struct desc_ring, count_bits);
	OFF("prb_desc_ring.descs", struct desc_ring, descs);
	OFF("prb_desc_ring.infos", struct desc_ring, infos);
	OFF("prb_desc_ring.head_id", struct desc_ring, head_id);
	OFF("prb_desc_ring.tail_id", struct desc_ring, tail_id);
	SIZE("prb_desc", struct prb_desc);
	OFF("prb_desc.state_var", struct prb_desc, state_var);
	OFF("prb_desc.text_blk_lpos", struct prb_desc, text_blk_lpos);
	OFF("prb_data_blk_lpos.begin", struct blk_lpos, begin);
	OFF("prb_data_blk_lpos.next", struct blk_lpos, next);
	SIZE("printk_info", struct printk_info);
	OFF("printk_info.seq", struct printk_info, seq);
	OFF("printk_info.ts_nsec", struct printk_info, ts_nsec);
	OFF("printk_info.text_len", struct printk_info, text_len);
	OFF("prb_data_ring.size_bits", struct data_ring, size_bits);
	OFF("prb_data_ring.data", struct data_ring, data);
	p = append_num(p, "SYMBOL(log_buf)", KERNEL_VA(&log_buf), 1);
	p = append_num(p, "SYMBOL(log_buf_len)", KERNEL_VA(&log_buf_len), 1);
	p = append_num(p, "SYMBOL(log_first_idx)", KERNEL_VA(&log_first_idx), 1);
	p = append_num(p, "SYMBOL(log_next_idx)", KERNEL_VA(&log_next_idx), 1);
	SIZE("printk_log", struct printk_log);
	OFF("printk_log.ts_nsec", struct printk_log, ts_nsec);
	OFF("printk_log.len", struct printk_log, len);
	OFF("printk_log.text_len", struct printk_log, text_len);
	OFF("printk_log.dict_len", struct printk_log, dict_len);
	return (uint32_t)(p - text);
}

struct fw_cfg_dma { uint32_t control, length; uint64_t address; } __attribute__((packed));
struct vmcoreinfo_desc { uint16_t host_format, guest_format; uint32_t size; uint64_t paddr; }
	__attribute__((packed));

static uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }

static void fw_cfg_read(uint16_t key, void *buf, uint32_t len)
{
	uint8_t *p = buf;

	outw(FW_CFG_SEL, key);
	for (uint32_t i = 0; i < len; i++)
		p[i] = inb(FW_CFG_DATA);
}

/* The select key of etc/vmcoreinfo in the file directory, 0 if absent. */
static uint16_t find_vmcoreinfo_file(void)
{
	uint32_t count;
	struct { uint32_t size; uint16_t select, reserved; char name[56]; } e;

	outw(FW_CFG_SEL, 0x19);
	for (int i = 0; i < 4; i++)
		((uint8_t *)&count)[i] = inb(FW_CFG_DATA);
	for (uint32_t i = 0; i < be32(count) && i < 32; i++) {
		for (uint32_t j = 0; j < sizeof(e); j++)
			((uint8_t *)&e)[j] = inb(FW_CFG_DATA);
		if (!memcmp(e.name, "etc/vmcoreinfo", 15))
			return __builtin_bswap16(e.select);
	}
	return 0;
}

static void give_vmcoreinfo(void)
{
	static struct vmcoreinfo_desc desc;
	static struct fw_cfg_dma dma;
	char sig[4];
	uint32_t id;
	uint16_t key;

	fw_cfg_read(0, sig, 4);
	fw_cfg_read(1, &id, 4);
	key = find_vmcoreinfo_file();
	if (memcmp(sig, "QEMU", 4) || !(id & 2) || !key) {
		report_str("fw_cfg", "missing");
		return;
	}
	log_messages();
	note.namesz = 11;
	note.descsz = build_vmcoreinfo(note.desc);
	memcpy(note.name, "VMCOREINFO", 11);
	desc = (struct vmcoreinfo_desc){ .guest_format = 1, .size = sizeof(note),
					 .paddr = (uint64_t)(uintptr_t)&note };
	dma = (struct fw_cfg_dma){ .control = be32((uint32_t)key << 16 | 0x08 | 0x10),
				   .length = be32(sizeof(desc)),
				   .address = __builtin_bswap64((uint64_t)(uintptr_t)&desc) };
	__asm__ volatile("" ::: "memory"); /* the device reads desc and dma */
	outl(FW_CFG_DMA_HI, be32((uint32_t)((uint64_t)(uintptr_t)&dma >> 32)));
	outl(FW_CFG_DMA_LO, be32((uint32_t)(uintptr_t)&dma));
	__asm__ volatile("" ::: "memory");
	report_str("fw_cfg.vmcoreinfo", *(volatile uint32_t *)&dma.control == 0 ? "ok" : "error");
}

static void fill(uint64_t mib)
{
	uint64_t count = mib << 17, dst = FILL_BASE;

	__asm__ volatile("rep stosq" : "+D"(dst), "+c"(count)
			 : "a"(0x5a5a5a5a00000000ULL | 0x1234) : "memory");
	report_dec("filled_mib", mib);
}

static void __attribute__((noinline)) crash_now(int twice)
{
	static const uint8_t panicked[2] = { 1, 1 };

	if (twice) {
		__asm__ volatile("rep outsb" :: "S"(panicked), "c"(2), "d"(0x505) : "memory");
		return;
	}
	__asm__ volatile("mov $0x1111111111111111, %%rbx\n\t"
			 "mov $0x1212121212121212, %%r12\n\t"
			 "mov $0x1313131313131313, %%r13\n\t"
			 "mov $0x1414141414141414, %%r14\n\t"
			 "mov $0x1515151515151515, %%r15\n\t"
			 "mov $0x505, %%dx\n\t"
			 "mov $1, %%al\n\t"
			 "outb %%al, %%dx"
			 ::: "rax", "rdx", "rbx", "r12", "r13", "r14", "r15", "memory");
}

static void __attribute__((noinline)) stage_two(const char *action)
{
	if (!memcmp(action, "spin", 5))
		for (;;)
			spin_counter++;
	if (!memcmp(action, "triplefault", 12)) {
		struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idt = { 0, 0 };

		__asm__ volatile("lidt %0; ud2" :: "m"(idt));
	}
	crash_now(!memcmp(action, "panic2", 7));
	guest_halt();
}

static void __attribute__((noinline)) stage_one(const char *action)
{
	for (int i = 0; i < 64; i++)
		guest_table[i] = 0x0101010101010101ULL * (uint64_t)i;
	stage_two(action);
	__asm__ volatile("" ::: "memory"); /* keep the frame */
}

void guest_main(uint8_t *boot_params)
{
	const char *cmdline = (const char *)(uintptr_t)*(uint32_t *)(boot_params + 0x228);
	char action[16], v[12];

	puts_serial("kvmini test guest: panicker\n");
	if (!cmdline)
		cmdline = "";
	if (cmdline_get(cmdline, "vmcoreinfo", v, sizeof(v))[0] == '1')
		give_vmcoreinfo();
	if (cmdline_get(cmdline, "fill", v, sizeof(v))[0])
		fill(parse_dec(v));
	cmdline_get(cmdline, "action", action, sizeof(action));
	report_str("action", action[0] ? action : "panic");
	stage_one(action[0] ? action : "panic");
}
