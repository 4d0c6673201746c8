/* virtqueue.h: split virtqueues (virtio 1.x, 2.7): taking descriptor
 * chains from the available ring, returning them on the used ring, with
 * indirect descriptors and event index, checking every index, length and
 * address the driver wrote. */
#ifndef KVMINI_VIRTQUEUE_H
#define KVMINI_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/memmap.h"

#define VQ_MAX_SIZE 1024
#define VQ_MAX_IOV 1024

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct virtqueue {
	uint16_t index;
	uint16_t size;          /* entries, a power of two up to VQ_MAX_SIZE */
	bool ready;             /* addresses set and enabled */
	bool broken;            /* the driver corrupted the ring itself */
	bool event_idx;         /* VIRTIO_RING_F_EVENT_IDX negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vring_desc *desc;
	uint16_t *avail;        /* flags, idx, ring[size], used_event */
	uint8_t *used;          /* flags, idx, ring[size] of {id, len}, avail_event */
	uint16_t last_avail;    /* next available entry to take */
	uint16_t used_idx;      /* next used entry to fill */
	uint16_t signalled_used;/* used idx at the last notification */
	bool signalled_valid;
	uint64_t errors;        /* malformed chains seen */
	const struct vmem_map *mem;
};

/* One request: readable buffers first, then writable ones. */
struct vq_elem {
	uint16_t head;
	int out_num, in_num;      /* iov[0..out_num) readable, then in_num writable */
	uint64_t out_len, in_len; /* bytes in each part */
	struct iovec iov[VQ_MAX_IOV];
};

/* Points the queue at its rings (guest-physical addresses, checked). */
int vq_setup(struct virtqueue *vq, const struct vmem_map *mem, uint16_t size,
	     uint64_t desc, uint64_t avail, uint64_t used);
/* The same with rings already translated (vhost-user gives frontend addresses). */
int vq_setup_mapped(struct virtqueue *vq, const struct vmem_map *mem, uint16_t size,
		    void *desc, void *avail, void *used);
void vq_reset(struct virtqueue *vq);

/* Takes the next chain. Returns 1 with `elem` filled, 0 if none is
 * available, -1 if this chain is malformed: then elem->head names it
 * (so it can be completed with an error) and nothing of it may be used. */
int vq_pop(struct virtqueue *vq, struct vq_elem *elem);
/* Returns a chain with `len` bytes written into its writable part. */
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len);
/* Whether the driver wants an interrupt for what was pushed (event idx aware). */
bool vq_should_notify(struct virtqueue *vq);
/* Number of chains the driver has made available and we have not taken. */
int vq_pending(struct virtqueue *vq);

#endif
