/* vio.h: a minimal polling virtio-pci (modern, 1.x) driver for test guests:
 * find a device through port 0xCF8 configuration space, negotiate features,
 * set up split virtqueues, send a request and poll for its answer. Also
 * identity page tables, since virtio BARs and hotplug memory can lie
 * beyond what the boot loader mapped. */
#ifndef GUEST_VIO_H
#define GUEST_VIO_H

#include <stdint.h>

#define VIO_F_VERSION_1 (1ULL << 32)
#define VIO_QUEUE_SIZE 8

struct vio_dev {
	uint8_t dev;                 /* PCI slot on bus 0 */
	volatile uint8_t *common, *notify, *isr, *config;
	uint32_t notify_mult;
	uint64_t offered, features;
};

struct vring_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct vring_avail { uint16_t flags, idx, ring[VIO_QUEUE_SIZE], used_event; };
struct vring_used_elem { uint32_t id, len; };
struct vring_used { uint16_t flags, idx; struct vring_used_elem ring[VIO_QUEUE_SIZE]; uint16_t avail_event; };

struct vio_queue {
	uint16_t index, size, last_used;
	volatile uint16_t *notify;
	struct vring_desc desc[VIO_QUEUE_SIZE] __attribute__((aligned(16)));
	struct vring_avail avail __attribute__((aligned(2)));
	struct vring_used used __attribute__((aligned(4)));
};

/* Identity-maps [start, end) with 2 MiB pages (below 64 GiB); the first
 * call also maps 0-4 GiB and switches CR3 to the guest's own tables. */
void vio_map(uint64_t start, uint64_t end);
/* Finds virtio device `device_id` (e.g. 24 virtio-mem); 0 if found. */
int vio_find(uint16_t device_id, struct vio_dev *d);
/* Reset, ACKNOWLEDGE, DRIVER, features (VERSION_1 plus `want` if offered),
 * FEATURES_OK. 0 on success. */
int vio_init(struct vio_dev *d, uint64_t want);
int vio_queue_setup(struct vio_dev *d, struct vio_queue *q, uint16_t index);
void vio_driver_ok(struct vio_dev *d);
/* Sends one chain (a device-readable buffer, then a device-writable one)
 * and polls for it to be used. Returns the used length, or -1 on timeout.
 * A zero length leaves that buffer out of the chain. */
int vio_call(struct vio_queue *q, const void *out, uint32_t out_len, void *in, uint32_t in_len);
/* Makes one chain available without waiting (at most size/2 at once);
 * returns its head descriptor. */
uint16_t vio_post(struct vio_queue *q, const void *out, uint32_t out_len, void *in,
		  uint32_t in_len);
/* Polls for the next used chain: returns its head and sets *len, or -1
 * after `spins` tries. */
int vio_poll(struct vio_queue *q, uint32_t *len, uint32_t spins);

#endif
