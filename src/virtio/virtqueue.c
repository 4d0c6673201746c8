/* virtqueue.c: the split ring. The driver owns every byte we read from the
 * rings, so each index is taken modulo or checked against the queue size,
 * each descriptor's buffer must lie wholly in guest RAM, chains are bounded
 * by the queue size (no loops), indirect tables by their own length. */
#include "virtio/virtqueue.h"

#include <stddef.h>
#include <string.h>

#include "util/log.h"

#define AVAIL_FLAGS 0
#define AVAIL_IDX 1
#define AVAIL_RING 2
#define USED_ELEM_SIZE 8
#define MAX_CHAIN_BYTES (1ULL << 32)

static size_t avail_bytes(uint16_t size) { return 2 * (3 + (size_t)size); }
static size_t used_bytes(uint16_t size) { return 4 + USED_ELEM_SIZE * (size_t)size + 2; }

static bool valid_size(uint16_t size)
{
	return size && size <= VQ_MAX_SIZE && !(size & (size - 1));
}

int vq_setup_mapped(struct virtqueue *vq, const struct vmem_map *mem, uint16_t size,
		    void *desc, void *avail, void *used)
{
	if (!valid_size(size) || !desc || !avail || !used)
		return error("virtqueue %u: bad size %u or rings outside guest memory", vq->index,
			     size);
	vq->mem = mem;
	vq->size = size;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->broken = false;
	vq->signalled_valid = false;
	vq->used_idx = __atomic_load_n((uint16_t *)(vq->used + 2), __ATOMIC_ACQUIRE);
	vq->ready = true;
	return 0;
}

int vq_setup(struct virtqueue *vq, const struct vmem_map *mem, uint16_t size,
	     uint64_t desc, uint64_t avail, uint64_t used)
{
	vq->desc_gpa = desc;
	vq->avail_gpa = avail;
	vq->used_gpa = used;
	return vq_setup_mapped(vq, mem, size,
			       vmem_translate(mem, desc, (uint64_t)size * sizeof(struct vring_desc)),
			       vmem_translate(mem, avail, avail_bytes(size)),
			       vmem_translate(mem, used, used_bytes(size)));
}

void vq_reset(struct virtqueue *vq)
{
	uint16_t index = vq->index;

	memset(vq, 0, sizeof(*vq));
	vq->index = index;
}

static uint16_t avail_idx(const struct virtqueue *vq)
{
	return __atomic_load_n(&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
}

int vq_pending(struct virtqueue *vq)
{
	if (!vq->ready || vq->broken)
		return 0;
	return (uint16_t)(avail_idx(vq) - vq->last_avail);
}

static int chain_error(struct virtqueue *vq, const char *why)
{
	if (vq->errors++ < 10)
		warn("virtqueue %u: malformed descriptor chain: %s; the request fails", vq->index,
		     why);
	return -1;
}

/* Appends one descriptor's buffer to elem. */
static int add_buffer(struct virtqueue *vq, struct vq_elem *elem, const struct vring_desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	void *p;

	if (!writable && elem->in_num)
		return chain_error(vq, "a readable buffer follows a writable one");
	if (elem->out_num + elem->in_num == VQ_MAX_IOV)
		return chain_error(vq, "too many buffers");
	if (d->len == 0)
		return 0;
	p = vmem_translate(vq->mem, d->addr, d->len);
	if (!p)
		return chain_error(vq, "buffer outside guest memory");
	if (elem->out_len + elem->in_len + d->len > MAX_CHAIN_BYTES)
		return chain_error(vq, "chain longer than 4 GiB");
	elem->iov[elem->out_num + elem->in_num] = (struct iovec){ p, d->len };
	if (writable) {
		elem->in_num++;
		elem->in_len += d->len;
	} else {
		elem->out_num++;
		elem->out_len += d->len;
	}
	return 0;
}

/* Walks an indirect table: its own descriptors, no nesting. */
static int walk_indirect(struct virtqueue *vq, struct vq_elem *elem, const struct vring_desc *d)
{
	const struct vring_desc *table;
	uint32_t n = d->len / sizeof(struct vring_desc), i = 0, steps = 0;

	if (d->len % sizeof(struct vring_desc) || n == 0 || n > VQ_MAX_IOV)
		return chain_error(vq, "bad indirect table length");
	table = vmem_translate(vq->mem, d->addr, d->len);
	if (!table)
		return chain_error(vq, "indirect table outside guest memory");
	for (;;) {
		struct vring_desc e = table[i];

		if (e.flags & VRING_DESC_F_INDIRECT)
			return chain_error(vq, "nested indirect table");
		if (add_buffer(vq, elem, &e))
			return -1;
		if (!(e.flags & VRING_DESC_F_NEXT))
			return 0;
		if (e.next >= n || ++steps >= n)
			return chain_error(vq, "indirect chain leaves its table or loops");
		i = e.next;
	}
}

static int walk_chain(struct virtqueue *vq, struct vq_elem *elem, uint16_t head)
{
	uint16_t i = head;

	for (uint32_t steps = 0;; steps++) {
		struct vring_desc d;

		if (steps >= vq->size)
			return chain_error(vq, "chain loops or is longer than the queue");
		memcpy(&d, &vq->desc[i], sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (d.flags & VRING_DESC_F_NEXT || steps)
				return chain_error(vq, "indirect descriptor inside a chain");
			return walk_indirect(vq, elem, &d);
		}
		if (add_buffer(vq, elem, &d))
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->size)
			return chain_error(vq, "next index out of range");
		i = d.next;
	}
}

int vq_pop(struct virtqueue *vq, struct vq_elem *elem)
{
	uint16_t pending, head;

	if (!vq->ready || vq->broken)
		return 0;
	pending = (uint16_t)(avail_idx(vq) - vq->last_avail);
	if (!pending)
		return 0;
	if (pending > vq->size) {
		vq->broken = true;
		error("virtqueue %u: driver made %u buffers available in a queue of %u; "
		      "queue stopped until reset", vq->index, pending, vq->size);
		return 0;
	}
	head = __atomic_load_n(&vq->avail[AVAIL_RING + vq->last_avail % vq->size],
			       __ATOMIC_RELAXED);
	vq->last_avail++;
	if (vq->event_idx) /* avail_event: wake us when the next one comes */
		__atomic_store_n((uint16_t *)(vq->used + 4 + USED_ELEM_SIZE * vq->size),
				 vq->last_avail, __ATOMIC_RELEASE);
	memset(elem, 0, offsetof(struct vq_elem, iov));
	elem->head = head;
	if (head >= vq->size) {
		elem->head = 0xffff;
		vq->broken = true;
		error("virtqueue %u: head index %u out of range; queue stopped until reset",
		      vq->index, head);
		return 0;
	}
	return walk_chain(vq, elem, head) ? -1 : 1;
}

void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	uint8_t *e = vq->used + 4 + USED_ELEM_SIZE * (vq->used_idx % vq->size);
	uint32_t id = head;

	memcpy(e, &id, 4);
	memcpy(e + 4, &len, 4);
	vq->used_idx++;
	__atomic_store_n((uint16_t *)(vq->used + 2), vq->used_idx, __ATOMIC_RELEASE);
}

bool vq_should_notify(struct virtqueue *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx, event;
	bool valid = vq->signalled_valid;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = now;
	vq->signalled_valid = true;
	if (!vq->event_idx)
		return !(__atomic_load_n(&vq->avail[AVAIL_FLAGS], __ATOMIC_RELAXED) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	event = __atomic_load_n(&vq->avail[AVAIL_RING + vq->size], __ATOMIC_RELAXED);
	/* vring_need_event(): did used idx pass used_event since the last call? */
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}
