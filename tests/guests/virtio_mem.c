/* virtio_mem.c: test guest driving virtio-mem (device 24) through its
 * queue by polling. mode=test: plug what the host requests, write one word
 * per page, unplug when the host lowers the request, touch an unplugged
 * block, plug again and check the memory reads as zero; the host checks
 * its memfd in between (the guest waits for a serial byte at each "sync").
 * mode=bench: time plugging, touching and unplugging the requested size. */
#include "lib.h"
#include "vio.h"

#define VIRTIO_MEM_ID 24
#define F_UNPLUGGED_INACCESSIBLE (1ULL << 1)
enum { REQ_PLUG, REQ_UNPLUG, REQ_UNPLUG_ALL, REQ_STATE };
enum { ACK, NACK, BUSY, ERROR };
#define CHUNK 64 /* blocks per request, like Linux's per-memory-block plugging */
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

struct mem_config {
	uint64_t block_size;
	uint16_t node_id;
	uint8_t pad[6];
	uint64_t addr, region_size, usable_region_size, plugged_size, requested_size;
};
struct mem_req { uint16_t type, pad[3]; uint64_t addr; uint16_t nb_blocks, pad2[3]; };
struct mem_resp { uint16_t type, pad[3]; uint16_t state; };

struct pvclock {
	volatile uint32_t version, pad0;
	volatile uint64_t tsc_timestamp, system_time;
	volatile uint32_t mul;
	volatile int8_t shift;
	volatile uint8_t flags, pad[2];
} __attribute__((packed));

static struct vio_dev dev;
static struct vio_queue vq __attribute__((aligned(4096)));
static volatile struct mem_config *cfg;
static uint64_t plugged; /* blocks, plugged from the start of the region */
static struct pvclock clock_page __attribute__((aligned(64)));

static uint64_t now_ns(void)
{
	uint32_t v;
	uint64_t d, ns;

	do {
		v = clock_page.version;
		__asm__ volatile("" ::: "memory");
		d = rdtsc() - clock_page.tsc_timestamp;
		d = clock_page.shift < 0 ? d >> -clock_page.shift : d << clock_page.shift;
		ns = clock_page.system_time + (uint64_t)(((unsigned __int128)d * clock_page.mul) >> 32);
		__asm__ volatile("" ::: "memory");
	} while ((v & 1) || v != clock_page.version);
	return ns;
}

static uint16_t request(uint16_t type, uint64_t addr, uint16_t nb, uint16_t *state)
{
	struct mem_req req = { .type = type, .addr = addr, .nb_blocks = nb };
	struct mem_resp resp = { .type = 0xffff };

	if (vio_call(&vq, &req, sizeof(req), &resp, sizeof(resp)) < 0)
		return 0xffff;
	if (state)
		*state = resp.state;
	return resp.type;
}

static uint64_t bs(void) { return cfg->block_size; }
static uint64_t block_addr(uint64_t b) { return cfg->addr + b * bs(); }

/* Plugs or unplugs from the end of the plugged range until plugged ==
 * requested; returns the number of failed requests. */
static int follow_request(void)
{
	uint64_t want = cfg->requested_size / bs();
	int failures = 0;

	while (plugged < want && failures < 4) {
		uint16_t nb = (uint16_t)(want - plugged < CHUNK ? want - plugged : CHUNK);

		if (request(REQ_PLUG, block_addr(plugged), nb, 0) == ACK)
			plugged += nb;
		else
			failures++;
	}
	while (plugged > want && failures < 4) {
		uint16_t nb = (uint16_t)(plugged - want < CHUNK ? plugged - want : CHUNK);

		if (request(REQ_UNPLUG, block_addr(plugged - nb), nb, 0) == ACK)
			plugged -= nb;
		else
			failures++;
	}
	return failures;
}

/* Polls the config until requested_size satisfies `cond`. */
static int wait_requested(int nonzero)
{
	for (uint32_t i = 0; i < 4000000u; i++) {
		uint64_t r = cfg->requested_size;

		if (nonzero ? r != 0 : r == 0)
			return 0;
		__asm__ volatile("pause");
	}
	report_str("error", "timeout waiting for the requested size");
	return -1;
}

static void sync_host(const char *what)
{
	report_str("sync", what);
	getc_serial();
}

/* Writes (or checks) one word per 4 KiB page of the plugged range. */
static uint64_t touch(int write, uint64_t expect_xor)
{
	uint64_t bad = 0, pages = plugged * bs() / 4096;

	for (uint64_t i = 0; i < pages; i++) {
		volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)(cfg->addr + i * 4096);

		if (write)
			*w = 0x6b766d0000000000ULL | i;
		else if (*w != (expect_xor ? (0x6b766d0000000000ULL | i) : 0))
			bad++;
	}
	return bad;
}

static const char *resp_name(uint16_t t)
{
	return t == ACK ? "ack" : t == NACK ? "nack" : t == BUSY ? "busy" : t == ERROR ? "error" : "none";
}

static void bad_requests(void)
{
	uint16_t st;
	uint64_t want = cfg->requested_size / bs();

	report_str("misaligned_plug", resp_name(request(REQ_PLUG, cfg->addr + 4096, 1, 0)));
	report_str("zero_plug", resp_name(request(REQ_PLUG, cfg->addr, 0, 0)));
	report_str("over_request_plug", resp_name(request(REQ_PLUG, cfg->addr, (uint16_t)(want + 1), 0)));
	report_str("outside_state", resp_name(request(REQ_STATE, cfg->addr + cfg->region_size, 1, &st)));
	report_str("unplug_unplugged", resp_name(request(REQ_UNPLUG, cfg->addr, 1, 0)));
}

static void run_test(void)
{
	uint16_t st = 0xffff;
	volatile uint64_t *first;

	report_str("ready", "waiting for a requested size");
	if (wait_requested(1))
		return;
	bad_requests();
	report_dec("plug_failures", (uint64_t)follow_request());
	request(REQ_STATE, cfg->addr, (uint16_t)plugged, &st);
	report_dec("state_after_plug", st);
	report_dec("plugged_size", cfg->plugged_size);
	touch(1, 0);
	report_dec("pattern_bad", touch(0, 1));
	sync_host("plugged");
	if (wait_requested(0))
		return;
	report_dec("unplug_failures", (uint64_t)follow_request());
	request(REQ_STATE, cfg->addr, 1, &st);
	report_dec("state_after_unplug", st);
	report_dec("plugged_size", cfg->plugged_size);
	first = (volatile uint64_t *)(uintptr_t)cfg->addr;
	*first = 0x5555;
	report_hex("unplugged_read", *first);
	sync_host("unplugged");
	if (wait_requested(1))
		return;
	report_dec("replug_failures", (uint64_t)follow_request());
	report_dec("replug_nonzero", touch(0, 0));
	report_str("unplug_all", resp_name(request(REQ_UNPLUG_ALL, 0, 0, 0)));
	report_dec("plugged_size", cfg->plugged_size);
}

static void run_bench(void)
{
	uint64_t t0, t1, t2, t3;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&clock_page | 1);
	if (wait_requested(1))
		return;
	t0 = now_ns();
	follow_request();
	t1 = now_ns();
	touch(1, 0);
	t2 = now_ns();
	report_dec("bench.plugged", plugged * bs());
	sync_host("touched"); /* the host measures its memory here */
	t3 = now_ns();
	plugged = 0;
	request(REQ_UNPLUG_ALL, 0, 0, 0);
	report_dec("bench.plug_us", (t1 - t0) / 1000);
	report_dec("bench.touch_ms", (t2 - t1) / 1000000);
	report_dec("bench.unplug_us", (now_ns() - t3) / 1000);
}

void guest_main(void *boot_params)
{
	const char *cmdline = (const char *)(uintptr_t)*(uint32_t *)((uint8_t *)boot_params + 0x228);
	char mode[16];

	cmdline_get(cmdline, "mode", mode, sizeof(mode));
	if (vio_find(VIRTIO_MEM_ID, &dev) || vio_init(&dev, F_UNPLUGGED_INACCESSIBLE) ||
	    vio_queue_setup(&dev, &vq, 0)) {
		report_str("error", "no usable virtio-mem device");
		guest_reset();
	}
	vio_driver_ok(&dev);
	cfg = (volatile struct mem_config *)dev.config;
	vio_map(cfg->addr, cfg->addr + cfg->region_size);
	report_hex("region.addr", cfg->addr);
	report_dec("region.size", cfg->region_size);
	report_dec("region.block_size", cfg->block_size);
	report_hex("features", dev.features);
	if (!memcmp(mode, "bench", 6))
		run_bench();
	else
		run_test();
	report_str("done", "virtio_mem");
	guest_reset();
}
