/* rng.h: the virtio-rng (entropy) device, ID 4: the guest's buffers filled
 * from getrandom(), at most `rate` bytes per second (token bucket). */
#ifndef KVMINI_VIRTIO_RNG_H
#define KVMINI_VIRTIO_RNG_H

#include <stdint.h>

#include "virtio/virtio.h"

#define RNG_DEFAULT_RATE (1ULL << 20) /* bytes per second */
#define RNG_DEFAULT_BURST (64ULL << 10)

extern const struct virtio_device_ops virtio_rng_ops;

struct rng_stats {
	uint64_t bytes;       /* random bytes given to the guest */
	uint64_t requests;    /* buffers completed */
	uint64_t bad_chains;  /* malformed or device-readable buffers, failed */
	uint64_t waits;       /* times a request waited for the rate limit */
};

/* Creates the device state in dev->priv: `rate` bytes/s, bursts of up to
 * `burst` bytes (both > 0). */
int virtio_rng_init(struct virtio_dev *dev, uint64_t rate, uint64_t burst);
void virtio_rng_destroy(struct virtio_dev *dev);
void virtio_rng_stats(struct virtio_dev *dev, struct rng_stats *out);

#endif
