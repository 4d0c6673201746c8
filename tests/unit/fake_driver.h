/* fake_driver.h: a fake virtio driver for device unit tests: guest memory
 * is a heap buffer, each queue's split ring is laid out in it, and chains
 * of buffers (readable or writable, well-formed or not) are made available
 * by hand; used entries and interrupts are read back. */
#ifndef KVMINI_TEST_FAKE_DRIVER_H
#define KVMINI_TEST_FAKE_DRIVER_H

#include <stdlib.h>
#include <string.h>

#include "virtio/virtio.h"
#include "vm/event_loop.h"

#define FD_QSIZE 16
#define FD_MEM (4 << 20)
#define FD_GPA 0x100000ULL
#define FD_QUEUE_AREA 0x4000ULL
#define FD_DATA 0x200000ULL

struct fake_buf {
	uint64_t gpa;
	uint32_t len;
	int writable;
};

struct fake_driver {
	uint8_t *ram;
	struct vmem_map map;
	struct virtio_dev dev;
	struct event_loop loop;
	uint16_t avail_idx[VIRTIO_MAX_QUEUES], last_used[VIRTIO_MAX_QUEUES];
	uint16_t next_desc[VIRTIO_MAX_QUEUES];
	uint64_t data_next;
	int interrupts[VIRTIO_MAX_QUEUES];
	int config_changes;
};

static inline uint8_t *fd_ptr(struct fake_driver *f, uint64_t gpa) { return f->ram + (gpa - FD_GPA); }
static inline uint64_t fd_qbase(int q) { return FD_GPA + (uint64_t)q * FD_QUEUE_AREA; }

static inline void fd_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct fake_driver *f = dev->transport;

	f->interrupts[vq->index]++;
}

static inline void fd_config(struct virtio_dev *dev)
{
	struct fake_driver *f = dev->transport;

	f->config_changes++;
}

/* Guest memory, the loop and the transport hooks; dev->ops/priv are set
 * by the device's init next, then fd_start(). */
static inline struct fake_driver *fd_new(void)
{
	struct fake_driver *f = calloc(1, sizeof(*f));

	f->ram = calloc(1, FD_MEM);
	f->map.nregions = 1;
	f->map.r[0] = (struct vmem_region){ FD_GPA, FD_MEM, FD_GPA, f->ram };
	event_loop_init(&f->loop);
	f->dev.mem = &f->map;
	f->dev.loop = &f->loop;
	f->dev.transport = f;
	f->dev.notify = fd_notify;
	f->dev.config_changed = fd_config;
	f->data_next = FD_DATA;
	return f;
}

/* Features negotiated, every queue set up, the device started. */
static inline int fd_start(struct fake_driver *f, uint64_t features)
{
	struct virtio_dev *d = &f->dev;

	d->features = features | (1ULL << VIRTIO_F_VERSION_1);
	d->nvqs = d->ops->num_queues(d);
	for (int q = 0; q < d->nvqs; q++) {
		d->vqs[q].index = (uint16_t)q;
		if (vq_setup(&d->vqs[q], &f->map, FD_QSIZE, fd_qbase(q), fd_qbase(q) + 0x1000,
			     fd_qbase(q) + 0x2000))
			return -1;
	}
	return d->ops->start ? d->ops->start(d) : 0;
}

static inline void fd_free(struct fake_driver *f)
{
	event_loop_destroy(&f->loop);
	free(f->ram);
	free(f);
}

/* A buffer in guest memory, filled with `data` (or zeroed). */
static inline uint64_t fd_alloc(struct fake_driver *f, const void *data, uint32_t len)
{
	uint64_t gpa = f->data_next;

	f->data_next += (len + 63) & ~63U;
	if (data)
		memcpy(fd_ptr(f, gpa), data, len);
	else
		memset(fd_ptr(f, gpa), 0, len);
	return gpa;
}

/* Makes a chain of `n` buffers available on queue q (no kick). */
static inline uint16_t fd_chain(struct fake_driver *f, int q, const struct fake_buf *b, int n)
{
	struct vring_desc *desc = (struct vring_desc *)fd_ptr(f, fd_qbase(q));
	uint16_t *avail = (uint16_t *)fd_ptr(f, fd_qbase(q) + 0x1000);
	uint16_t head = f->next_desc[q];

	for (int i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((head + i) % FD_QSIZE);

		desc[d] = (struct vring_desc){ b[i].gpa, b[i].len,
					       (uint16_t)((b[i].writable ? VRING_DESC_F_WRITE : 0) |
							  (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
					       (uint16_t)((d + 1) % FD_QSIZE) };
	}
	f->next_desc[q] = (uint16_t)((head + n) % FD_QSIZE);
	avail[2 + f->avail_idx[q] % FD_QSIZE] = head;
	f->avail_idx[q]++;
	__atomic_store_n(&avail[1], f->avail_idx[q], __ATOMIC_RELEASE);
	return head;
}

/* Makes a chain available and kicks the device (as the transport would). */
static inline uint16_t fd_kick(struct fake_driver *f, int q, const struct fake_buf *b, int n)
{
	uint16_t head = fd_chain(f, q, b, n);

	f->dev.ops->queue_notify(&f->dev, &f->dev.vqs[q]);
	return head;
}

/* The next used entry of queue q: 1 with id/len set, 0 if none. */
static inline int fd_used(struct fake_driver *f, int q, uint32_t *id, uint32_t *len)
{
	uint8_t *used = fd_ptr(f, fd_qbase(q) + 0x2000);
	uint16_t idx;

	memcpy(&idx, used + 2, 2);
	if (idx == f->last_used[q])
		return 0;
	memcpy(id, used + 4 + 8 * (f->last_used[q] % FD_QSIZE), 4);
	memcpy(len, used + 8 + 8 * (f->last_used[q] % FD_QSIZE), 4);
	f->last_used[q]++;
	return 1;
}

#endif
