/* blk.c: virtio-blk (virtio 1.x, 5.2): read, write, flush, get-id,
 * discard and write-zeroes on a raw image or block device. Requests go to
 * io_uring with the guest's own buffers as the I/O vectors (no bounce
 * copies); completions are reaped from an eventfd on the event loop and
 * the driver is notified once per batch. */
#include "virtio/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "virtio/iov.h"
#include "vm/event_loop.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_WZ_UNMAP 1

#define SECTOR 512ULL
#define RING_ENTRIES 256
#define SEG_MAX 254
#define SIZE_MAX_BYTES (1U << 20)
#define MAX_DISCARD_SECTORS (1U << 22)
#define POLL_NS 50000 /* how long to keep serving a busy queue without kicks */

struct blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	struct { uint16_t cylinders; uint8_t heads, sectors; } geometry;
	uint32_t blk_size;
	struct { uint8_t physical_block_exp, alignment_offset; uint16_t min_io_size;
		 uint32_t opt_io_size; } topology;
	uint8_t writeback, unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap, unused1[3];
} __attribute__((packed));

struct blk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

struct blk_segment {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct blk_req {
	struct virtqueue *vq;
	uint8_t *status;
	uint32_t written;           /* bytes put into the writable part */
	int niov;
	struct iovec data[VQ_MAX_IOV];
	struct vq_elem elem;
};

struct blk {
	struct virtio_dev *dev;
	struct disk disk;
	struct blk_config config;
	struct io_uring ring;
	bool ring_ready;
	int efd;
	unsigned inflight;
	uint64_t notify_mask[(VIRTIO_MAX_QUEUES + 63) / 64];
};

static uint64_t blk_features(struct virtio_dev *dev)
{
	struct blk *b = dev->priv;
	uint64_t f = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
		     (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH) |
		     (1ULL << VIRTIO_BLK_F_TOPOLOGY) | (1ULL << VIRTIO_BLK_F_MQ);

	if (b->disk.readonly)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	else
		f |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

static void build_config(struct blk *b)
{
	struct blk_config *c = &b->config;
	uint32_t exp = 0;

	while ((b->disk.logical_block << (exp + 1)) <= b->disk.physical_block)
		exp++;
	memset(c, 0, sizeof(*c));
	c->capacity = b->disk.size / SECTOR;
	c->size_max = SIZE_MAX_BYTES;
	c->seg_max = SEG_MAX;
	c->blk_size = b->disk.logical_block;
	c->topology.physical_block_exp = (uint8_t)exp;
	c->topology.min_io_size = (uint16_t)(b->disk.logical_block / SECTOR);
	c->num_queues = (uint16_t)b->disk.queues;
	c->max_discard_sectors = c->max_write_zeroes_sectors = MAX_DISCARD_SECTORS;
	c->max_discard_seg = c->max_write_zeroes_seg = 1;
	c->discard_sector_alignment = b->disk.logical_block / SECTOR;
	c->write_zeroes_may_unmap = 1;
}

static void blk_read_config(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct blk *b = dev->priv;

	memset(buf, 0, len);
	if (off < sizeof(b->config))
		memcpy(buf, (uint8_t *)&b->config + off,
		       len < sizeof(b->config) - off ? len : sizeof(b->config) - off);
}

static int blk_num_queues(struct virtio_dev *dev)
{
	return ((struct blk *)dev->priv)->disk.queues;
}

/* Completes a request: status byte, used ring, notification later. */
static void finish(struct blk *b, struct blk_req *r, uint8_t status)
{
	if (r->status) {
		*r->status = status;
		r->written++;
	}
	vq_push(r->vq, r->elem.head, r->written);
	b->notify_mask[r->vq->index / 64] |= 1ULL << (r->vq->index % 64);
	free(r);
}

static void notify_batch(struct blk *b)
{
	for (int i = 0; i < b->dev->nvqs; i++) {
		if (!(b->notify_mask[i / 64] & (1ULL << (i % 64))))
			continue;
		b->notify_mask[i / 64] &= ~(1ULL << (i % 64));
		virtio_notify_used(b->dev, &b->dev->vqs[i]);
	}
}

static struct io_uring_sqe *get_sqe(struct blk *b)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

	if (!sqe) { /* submission queue full: hand what we have to the kernel */
		io_uring_submit(&b->ring);
		sqe = io_uring_get_sqe(&b->ring);
	}
	return sqe;
}

static bool in_range(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t cap = b->config.capacity;

	return sector <= cap && bytes / SECTOR <= cap - sector && bytes % SECTOR == 0;
}

static int submit_rw(struct blk *b, struct blk_req *r, const struct blk_outhdr *h, bool write)
{
	const struct vq_elem *e = &r->elem;
	uint64_t len = write ? e->out_len - sizeof(*h) : e->in_len - 1;
	struct io_uring_sqe *sqe;

	if (write && b->disk.readonly)
		return VIRTIO_BLK_S_IOERR;
	if (!in_range(b, h->sector, len))
		return VIRTIO_BLK_S_IOERR;
	r->niov = write ? iov_slice(e->iov, e->out_num, sizeof(*h), len, r->data, VQ_MAX_IOV)
			: iov_slice(e->iov + e->out_num, e->in_num, 0, len, r->data, VQ_MAX_IOV);
	if (r->niov < 0 || !(sqe = get_sqe(b)))
		return VIRTIO_BLK_S_IOERR;
	if (write)
		io_uring_prep_writev(sqe, b->disk.fd, r->data, (unsigned)r->niov, h->sector * SECTOR);
	else
		io_uring_prep_readv(sqe, b->disk.fd, r->data, (unsigned)r->niov, h->sector * SECTOR);
	io_uring_sqe_set_data(sqe, r);
	b->inflight++;
	return -1; /* in flight */
}

static int submit_flush(struct blk *b, struct blk_req *r)
{
	struct io_uring_sqe *sqe = get_sqe(b);

	if (!sqe)
		return VIRTIO_BLK_S_IOERR;
	io_uring_prep_fsync(sqe, b->disk.fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, r);
	b->inflight++;
	return -1;
}

static int submit_discard(struct blk *b, struct blk_req *r, uint32_t type)
{
	struct blk_segment seg;
	struct io_uring_sqe *sqe;
	int mode = FALLOC_FL_KEEP_SIZE;

	if (b->disk.readonly)
		return VIRTIO_BLK_S_IOERR;
	if (r->elem.out_len - sizeof(struct blk_outhdr) != sizeof(seg))
		return VIRTIO_BLK_S_UNSUPP; /* max_discard_seg is 1 */
	iov_to_buf(r->elem.iov, r->elem.out_num, sizeof(struct blk_outhdr), &seg, sizeof(seg));
	if (seg.num_sectors > MAX_DISCARD_SECTORS ||
	    !in_range(b, seg.sector, (uint64_t)seg.num_sectors * SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (type == VIRTIO_BLK_T_DISCARD || (seg.flags & VIRTIO_BLK_WZ_UNMAP))
		mode |= FALLOC_FL_PUNCH_HOLE;
	else
		mode |= FALLOC_FL_ZERO_RANGE;
	if (!(sqe = get_sqe(b)))
		return VIRTIO_BLK_S_IOERR;
	io_uring_prep_fallocate(sqe, b->disk.fd, mode, seg.sector * SECTOR,
				(uint64_t)seg.num_sectors * SECTOR);
	io_uring_sqe_set_data(sqe, r);
	b->inflight++;
	return -1;
}

static int get_id(struct blk *b, struct blk_req *r)
{
	size_t n = r->elem.in_len - 1 < sizeof(b->disk.serial) ? r->elem.in_len - 1
							       : sizeof(b->disk.serial);

	r->written = (uint32_t)iov_from_buf(r->elem.iov + r->elem.out_num, r->elem.in_num, 0,
					    b->disk.serial, n);
	return VIRTIO_BLK_S_OK;
}

/* Starts one request; returns a status to finish with now, or -1 if in flight. */
static int start_request(struct blk *b, struct blk_req *r)
{
	struct blk_outhdr h;

	if (iov_to_buf(r->elem.iov, r->elem.out_num, 0, &h, sizeof(h)) != sizeof(h))
		return VIRTIO_BLK_S_IOERR;
	switch (h.type) {
	case VIRTIO_BLK_T_IN: return submit_rw(b, r, &h, false);
	case VIRTIO_BLK_T_OUT: return submit_rw(b, r, &h, true);
	case VIRTIO_BLK_T_FLUSH: return submit_flush(b, r);
	case VIRTIO_BLK_T_GET_ID: return get_id(b, r);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: return submit_discard(b, r, h.type);
	default: return VIRTIO_BLK_S_UNSUPP;
	}
}

/* The status byte is the last byte of the writable part. */
static uint8_t *status_byte(struct vq_elem *e)
{
	const struct iovec *last;

	if (!e->in_num)
		return NULL;
	last = &e->iov[e->out_num + e->in_num - 1];
	return (uint8_t *)last->iov_base + last->iov_len - 1;
}

static void reap(struct blk *b);

static void take_requests(struct blk *b, struct virtqueue *vq)
{
	for (;;) {
		struct blk_req *r = malloc(sizeof(*r));
		int got, status;

		if (!r) {
			error("virtio-blk: out of memory for a request");
			break;
		}
		got = vq_pop(vq, &r->elem);
		if (got == 0) {
			free(r);
			break;
		}
		r->vq = vq;
		r->written = 0;
		r->niov = 0;
		r->status = got > 0 ? status_byte(&r->elem) : NULL;
		if (got < 0 || !r->status) {
			r->status = NULL; /* malformed: nothing of it may be written */
			finish(b, r, VIRTIO_BLK_S_IOERR);
			continue;
		}
		status = start_request(b, r);
		if (status >= 0)
			finish(b, r, (uint8_t)status);
	}
	io_uring_submit(&b->ring);
	reap(b); /* page-cache hits complete during submit: no need to wait for epoll */
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Serves the queue, then keeps watching it and the completions for a
 * short while: a driver at queue depth > 1 usually adds the next request
 * within microseconds, and taking it now saves a kick and an epoll round. */
static void blk_queue_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct blk *b = dev->priv;
	uint64_t deadline;

	take_requests(b, vq);
	deadline = now_ns() + POLL_NS;
	while (now_ns() < deadline) {
		if (vq_pending(vq)) {
			take_requests(b, vq);
			deadline = now_ns() + POLL_NS;
		} else if (b->inflight) {
			reap(b);
		} else {
			break;
		}
	}
}

static void complete_cqe(struct blk *b, struct io_uring_cqe *cqe)
{
	struct blk_req *r = io_uring_cqe_get_data(cqe);
	int res = cqe->res;
	uint64_t want = 0;

	io_uring_cqe_seen(&b->ring, cqe);
	b->inflight--;
	for (int i = 0; i < r->niov; i++)
		want += r->data[i].iov_len;
	if (res >= 0 && r->niov > 0 && (uint64_t)res != want)
		res = -EIO; /* short transfer */
	if (res >= 0 && r->niov > 0 && r->elem.in_num > 0)
		r->written = (uint32_t)res; /* read data delivered */
	if (res < 0)
		warn("virtio-blk: I/O failed: %s", strerror(-res));
	finish(b, r, res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

static void reap(struct blk *b)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&b->ring, &cqe) == 0)
		complete_cqe(b, cqe);
	notify_batch(b);
}

static void on_completion(void *opaque, uint32_t events)
{
	struct blk *b = opaque;
	uint64_t n;

	if (read(b->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	reap(b);
}

static int blk_start(struct virtio_dev *dev)
{
	struct blk *b = dev->priv;

	if (b->ring_ready)
		return 0;
	if (io_uring_queue_init(RING_ENTRIES, &b->ring, 0) < 0)
		return error("virtio-blk: cannot set up io_uring");
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0 || io_uring_register_eventfd(&b->ring, b->efd) < 0 ||
	    event_loop_add(dev->loop, b->efd, EPOLLIN, on_completion, b)) {
		io_uring_queue_exit(&b->ring);
		if (b->efd >= 0)
			close(b->efd);
		b->efd = -1;
		return error("virtio-blk: cannot watch io_uring completions");
	}
	b->ring_ready = true;
	return 0;
}

/* Completes every request in flight (they point into guest memory and the
 * driver waits for them), then drops the ring. */
static void blk_stop(struct virtio_dev *dev)
{
	struct blk *b = dev->priv;
	struct io_uring_cqe *cqe;

	if (!b->ring_ready)
		return;
	io_uring_submit(&b->ring);
	while (b->inflight && io_uring_wait_cqe(&b->ring, &cqe) == 0)
		complete_cqe(b, cqe);
	notify_batch(b);
	event_loop_del(dev->loop, b->efd);
	close(b->efd);
	b->efd = -1;
	io_uring_queue_exit(&b->ring);
	b->ring_ready = false;
}

int virtio_blk_init(struct virtio_dev *dev, struct disk *disk)
{
	struct blk *b = calloc(1, sizeof(*b));

	if (!b)
		return error("out of memory for virtio-blk");
	b->dev = dev;
	b->disk = *disk;
	b->efd = -1;
	build_config(b);
	dev->ops = &virtio_blk_ops;
	dev->priv = b;
	return 0;
}

void virtio_blk_destroy(struct virtio_dev *dev)
{
	struct blk *b = dev->priv;

	if (!b)
		return;
	blk_stop(dev);
	disk_close(&b->disk);
	free(b);
	dev->priv = NULL;
}

const struct virtio_device_ops virtio_blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = blk_features,
	.config_size = sizeof(struct blk_config),
	.read_config = blk_read_config,
	.num_queues = blk_num_queues,
	.queue_notify = blk_queue_notify,
	.start = blk_start,
	.stop = blk_stop,
};
