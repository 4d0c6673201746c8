/* net.h: the virtio-net device over a TAP (see net.c). */
#ifndef KVMINI_VIRTIO_NET_H
#define KVMINI_VIRTIO_NET_H

#include "net/tap.h"
#include "virtio/virtio.h"

/* Frames and requests dropped because of what the driver put in the
 * rings (each kind is logged once, all are counted). */
struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t ctrl_commands;  /* control requests answered OK */
	uint64_t tx_bad_chain;   /* malformed chain, or writable descriptors on TX */
	uint64_t tx_short;       /* shorter than the virtio-net and Ethernet headers */
	uint64_t tx_oversized;   /* longer than the MTU (or 64 KiB with segmentation) */
	uint64_t tx_bad_header;  /* offloads that were not negotiated, bad offsets */
	uint64_t tx_errors;      /* the TAP refused the frame */
	uint64_t rx_bad_chain;   /* malformed, readable descriptors, shorter than the header */
	uint64_t rx_truncated;   /* a frame larger than the buffers offered */
	uint64_t rx_filtered;    /* not for us under the driver's RX mode and MAC tables */
	uint64_t ctrl_errors;    /* control commands refused */
};

extern const struct virtio_device_ops virtio_net_ops;

/* Creates the device over `tap` (which it then owns; o gives MAC, MTU,
 * queue pairs and whether to offer offloads). */
int virtio_net_init(struct virtio_dev *dev, struct tap *tap, const struct net_options *o);
void virtio_net_destroy(struct virtio_dev *dev);

void virtio_net_get_stats(struct virtio_dev *dev, struct virtio_net_stats *out);
const struct tap *virtio_net_tap(struct virtio_dev *dev);
/* MAC the driver uses now, queue pairs in use, features the last driver
 * negotiated. */
void virtio_net_get_state(struct virtio_dev *dev, uint8_t mac[6], int *active_pairs,
			  uint64_t *features);

#endif
