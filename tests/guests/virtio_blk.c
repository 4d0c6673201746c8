/* virtio_blk.c: a polling test guest for the in-monitor virtio-pci
 * transport: finds the virtio-blk device through PCI configuration space,
 * sets up its request queue, reads the capacity, the serial (GET_ID) and
 * sector 1, and prints them on COM1. */
#include "lib.h"
#include "vio.h"

#define VIRTIO_ID_BLOCK 2
#define T_IN 0
#define T_GET_ID 8

struct blk_hdr { uint32_t type, ioprio; uint64_t sector; };

static struct vio_queue q;
static uint8_t buf[513];

static int request(uint32_t type, uint64_t sector, uint32_t len)
{
	struct blk_hdr h = { type, 0, sector };

	memset(buf, 0xee, sizeof(buf));
	return vio_call(&q, &h, sizeof(h), buf, len + 1);
}

void guest_main(uint8_t *boot_params)
{
	struct vio_dev d;
	uint64_t capacity;
	int used;

	(void)boot_params;
	puts_serial("kvmini test guest: virtio_blk\n");
	if (vio_find(VIRTIO_ID_BLOCK, &d) || vio_init(&d, 0) || vio_queue_setup(&d, &q, 0)) {
		report_str("virtio_blk", "no device");
		guest_reset();
	}
	vio_driver_ok(&d);
	memcpy(&capacity, (const void *)d.config, 8);
	report_dec("blk.capacity", capacity);
	used = request(T_GET_ID, 0, 20);
	buf[20] = 0;
	report_dec("blk.get_id.used", (uint64_t)used);
	report_str("blk.serial", (const char *)buf);
	used = request(T_IN, 1, 512);
	report_dec("blk.read.used", (uint64_t)used);
	report_dec("blk.read.status", buf[512]);
	buf[32] = 0;
	report_str("blk.sector1", (const char *)buf);
	used = request(T_IN, capacity, 512); /* past the end */
	report_dec("blk.beyond.status", buf[512]);
	guest_reset();
}
