/* virtio_rng.c: a polling test guest for virtio-rng on the in-monitor
 * virtio-pci transport: finds the device, asks twice for 64 random bytes,
 * sends a request with only a device-readable buffer (which must come back
 * unused), then asks for 512 bytes (the host's burst may cap it), and
 * reports on COM1. */
#include "lib.h"
#include "vio.h"

#define VIRTIO_ID_RNG 4

static struct vio_queue q;
static uint8_t a[64], b[64], big[512], junk[16];

static int nonzero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 1;
	return 0;
}

void guest_main(uint8_t *boot_params)
{
	struct vio_dev d;

	(void)boot_params;
	puts_serial("kvmini test guest: virtio_rng\n");
	if (vio_find(VIRTIO_ID_RNG, &d) || vio_init(&d, 0) || vio_queue_setup(&d, &q, 0)) {
		report_str("virtio_rng", "no device");
		guest_reset();
	}
	vio_driver_ok(&d);
	report_dec("rng.used1", (uint64_t)vio_call(&q, 0, 0, a, sizeof(a)));
	report_dec("rng.used2", (uint64_t)vio_call(&q, 0, 0, b, sizeof(b)));
	report_dec("rng.nonzero", (uint64_t)(nonzero(a, sizeof(a)) && nonzero(b, sizeof(b))));
	report_dec("rng.differ", (uint64_t)(memcmp(a, b, sizeof(a)) != 0));
	report_dec("rng.readable.used", (uint64_t)vio_call(&q, junk, sizeof(junk), 0, 0));
	report_dec("rng.big.used", (uint64_t)vio_call(&q, 0, 0, big, sizeof(big)));
	report_dec("rng.big.nonzero", (uint64_t)nonzero(big, 64));
	puts_serial("virtio_rng: done\n");
	guest_reset();
}
