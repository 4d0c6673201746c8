/* virtio.h: the virtio device model shared by every device and transport.
 * A device (blk.c, ...) is a `struct virtio_device_ops` table; a transport
 * (the vhost-user backend, virtio-pci in the monitor) owns a
 * `struct virtio_dev`, negotiates features, sets up its queues over a
 * `struct vmem_map`, and calls queue_notify() when the driver kicks. */
#ifndef KVMINI_VIRTIO_H
#define KVMINI_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/memmap.h"
#include "virtio/virtqueue.h"

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32
#define VIRTIO_TRANSPORT_FEATURES \
	((1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << VIRTIO_F_VERSION_1))

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_ID_MEM 24

#define VIRTIO_MAX_QUEUES 64

struct virtio_dev;
struct event_loop;

struct virtio_device_ops {
	const char *name;
	uint32_t device_id;
	/* Device-specific feature bits offered (transport bits are added). */
	uint64_t (*features)(struct virtio_dev *dev);
	uint32_t config_size;
	void (*read_config)(struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len);
	void (*write_config)(struct virtio_dev *dev, uint32_t offset, const void *buf, uint32_t len);
	int (*num_queues)(struct virtio_dev *dev);
	/* The driver made buffers available on `vq`. */
	void (*queue_notify)(struct virtio_dev *dev, struct virtqueue *vq);
	/* Features are final and queues are set up (DRIVER_OK). */
	int (*start)(struct virtio_dev *dev);
	/* Stop using the queues and guest memory (reset, frontend gone). */
	void (*stop)(struct virtio_dev *dev);
};

struct virtio_dev {
	const struct virtio_device_ops *ops;
	void *priv;                  /* the device's own state */
	uint64_t features;           /* negotiated */
	const struct vmem_map *mem;
	int nvqs;
	struct virtqueue vqs[VIRTIO_MAX_QUEUES];
	struct event_loop *loop;     /* for a device's own descriptors (io_uring) */
	/* The transport's "used buffers" signal (interrupt / call eventfd). */
	void (*notify)(struct virtio_dev *dev, struct virtqueue *vq);
	/* The transport's configuration-change signal (NULL if it has none). */
	void (*config_changed)(struct virtio_dev *dev);
	uint32_t config_generation;  /* bumped by virtio_config_changed() */
	void *transport;
	/* Held by the transport around guest accesses; a device's own
	 * callbacks (completions on the event loop) take it too. NULL where
	 * everything runs on one thread (vhost-user). */
	pthread_mutex_t *lock;
};

static inline bool virtio_has(const struct virtio_dev *dev, int bit)
{
	return dev->features & (1ULL << bit);
}

/* Tells the driver the device configuration changed (if the transport can). */
void virtio_config_changed(struct virtio_dev *dev);

/* Completes vq work: notifies the driver if it asked for it. */
void virtio_notify_used(struct virtio_dev *dev, struct virtqueue *vq);

#endif
