/* virtio_balloon.c: test guest driving virtio-balloon (device 5) by
 * polling: it waits for the host to ask for pages (num_pages, set with the
 * control socket's `balloon target=`), fills that many pages at 32 MiB with
 * a pattern, gives them to the host through the inflate queue and sets
 * `actual`; after the host checked that it released them, it waits for the
 * target to be lifted, takes them back through the deflate queue and checks
 * that they read as zero (the host gave the memory back, not the data). */
#include "lib.h"
#include "vio.h"

#define VIRTIO_BALLOON_ID 5
#define POOL_START (32ULL << 20)
#define PFNS_PER_CALL 256
#define MAX_PAGES (16ULL << 20 >> 12)

struct balloon_config { uint32_t num_pages, actual; };

static struct vio_dev dev;
static struct vio_queue inflate_q __attribute__((aligned(4096)));
static struct vio_queue deflate_q __attribute__((aligned(4096)));
static volatile struct balloon_config *cfg;
static uint32_t pfns[PFNS_PER_CALL];

static int wait_num_pages(int nonzero)
{
	for (uint32_t i = 0; i < 4000000u; i++) {
		uint32_t n = cfg->num_pages;

		if (nonzero ? n != 0 : n == 0)
			return 0;
		__asm__ volatile("pause");
	}
	report_str("error", "timeout waiting for num_pages");
	return -1;
}

static volatile uint64_t *page(uint64_t i)
{
	return (volatile uint64_t *)(uintptr_t)(POOL_START + i * 4096);
}

/* Sends the PFNs of pool pages [0, n) on `q`; returns failed calls. */
static int send_pages(struct vio_queue *q, uint64_t n)
{
	int failures = 0;

	for (uint64_t first = 0; first < n; first += PFNS_PER_CALL) {
		uint64_t count = n - first < PFNS_PER_CALL ? n - first : PFNS_PER_CALL;

		for (uint64_t i = 0; i < count; i++)
			pfns[i] = (uint32_t)((POOL_START >> 12) + first + i);
		if (vio_call(q, pfns, (uint32_t)(count * sizeof(uint32_t)), 0, 0) < 0)
			failures++;
	}
	return failures;
}

static void sync_host(const char *what)
{
	report_str("sync", what);
	getc_serial();
}

void guest_main(void *boot_params __attribute__((unused)))
{
	uint64_t n, nonzero = 0;

	if (vio_find(VIRTIO_BALLOON_ID, &dev) || vio_init(&dev, 0) ||
	    vio_queue_setup(&dev, &inflate_q, 0) || vio_queue_setup(&dev, &deflate_q, 1)) {
		report_str("error", "no usable virtio-balloon device");
		guest_reset();
	}
	vio_driver_ok(&dev);
	cfg = (volatile struct balloon_config *)dev.config;
	report_str("ready", "waiting for num_pages");
	if (wait_num_pages(1))
		guest_reset();
	n = cfg->num_pages < MAX_PAGES ? cfg->num_pages : MAX_PAGES;
	report_dec("num_pages", n);
	for (uint64_t i = 0; i < n; i++)
		*page(i) = 0x62616c6c6f6f6e00ULL | i;
	sync_host("touched"); /* the host measures guest RAM here */
	report_dec("inflate_failures", (uint64_t)send_pages(&inflate_q, n));
	cfg->actual = (uint32_t)n;
	sync_host("inflated");
	if (wait_num_pages(0))
		guest_reset();
	report_dec("deflate_failures", (uint64_t)send_pages(&deflate_q, n));
	cfg->actual = 0;
	for (uint64_t i = 0; i < n; i++)
		if (*page(i) != 0)
			nonzero++;
	report_dec("deflated_nonzero", nonzero);
	report_str("done", "virtio_balloon");
	guest_reset();
}
