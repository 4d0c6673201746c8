/* balloon.c: virtio-balloon's queues: 0 inflate and 1 deflate (arrays of
 * PFNs), 2 statistics (one buffer the device keeps until it wants fresh
 * numbers), 3 free page reporting (writable buffers that are free guest
 * pages). Released memory goes back through MADV_REMOVE on the mapping. */
#include "virtio/balloon.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "balloon/balloon.h"
#include "util/log.h"
#include "virtio/iov.h"

enum { Q_INFLATE, Q_DEFLATE, Q_STATS, Q_REPORTING, NQUEUES };
#define PFN_CHUNK 256

struct vballoon {
	struct balloon model;
	struct virtio_dev *dev;
	struct vq_elem elem;        /* scratch for popped chains */
	struct vq_elem stats_elem;  /* the stats buffer the device holds */
	bool stats_held;
};

/* balloon_release_fn: guest-physical range -> this process's mapping. */
static int release(void *opaque, uint64_t gpa, uint64_t len)
{
	struct vballoon *vb = opaque;
	uint8_t *hva = vb->dev->mem ? vmem_translate(vb->dev->mem, gpa, len) : NULL;

	if (!hva || (uintptr_t)hva % 4096 || len % 4096)
		return -1;
	if (madvise(hva, len, MADV_REMOVE) < 0)
		return error_errno("virtio-balloon: cannot release %llu KiB (MADV_REMOVE)",
				   (unsigned long long)(len >> 10));
	return 0;
}

/* The guest-physical address of a host pointer into guest memory. */
static int hva_to_gpa(const struct vmem_map *m, const void *p, uint64_t len, uint64_t *gpa)
{
	for (int i = 0; m && i < m->nregions; i++) {
		const struct vmem_region *r = &m->r[i];
		uint64_t off = (uint64_t)((const uint8_t *)p - r->hva);

		if ((const uint8_t *)p >= r->hva && off < r->size && len <= r->size - off) {
			*gpa = r->gpa + off;
			return 0;
		}
	}
	return -1;
}

static void pfn_lists(struct vballoon *vb, struct virtqueue *vq, bool inflate)
{
	uint32_t pfns[PFN_CHUNK];
	int got;

	while ((got = vq_pop(vq, &vb->elem)) != 0) {
		for (size_t off = 0; got > 0 && off < vb->elem.out_len; off += sizeof(pfns)) {
			size_t n = iov_to_buf(vb->elem.iov, vb->elem.out_num, off, pfns, sizeof(pfns));

			if (inflate)
				balloon_inflate(&vb->model, pfns, n);
			else
				balloon_deflate(&vb->model, pfns, n);
		}
		vq_push(vq, vb->elem.head, 0);
	}
}

static void stats(struct vballoon *vb, struct virtqueue *vq)
{
	uint8_t buf[sizeof(struct virtio_balloon_stat) * 32];
	int got;

	while ((got = vq_pop(vq, &vb->elem)) != 0) {
		size_t n = got > 0 ? iov_to_buf(vb->elem.iov, vb->elem.out_num, 0, buf, sizeof(buf)) : 0;

		if (got < 0 || balloon_update_stats(&vb->model, buf, n)) {
			vq_push(vq, vb->elem.head, 0); /* malformed: hand it back */
			continue;
		}
		if (vb->stats_held) /* a second buffer: return the older one */
			vq_push(vq, vb->stats_elem.head, 0);
		vb->stats_elem.head = vb->elem.head;
		vb->stats_held = true;
	}
}

static void reports(struct vballoon *vb, struct virtqueue *vq)
{
	int got;

	while ((got = vq_pop(vq, &vb->elem)) != 0) {
		for (int i = vb->elem.out_num; got > 0 && i < vb->elem.out_num + vb->elem.in_num; i++) {
			uint64_t gpa, len = vb->elem.iov[i].iov_len;

			if (hva_to_gpa(vb->dev->mem, vb->elem.iov[i].iov_base, len, &gpa) == 0)
				balloon_free_page_report(&vb->model, gpa, len);
		}
		vq_push(vq, vb->elem.head, 0);
	}
}

static void balloon_queue_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct vballoon *vb = dev->priv;

	switch (vq->index) {
	case Q_INFLATE: pfn_lists(vb, vq, true); break;
	case Q_DEFLATE: pfn_lists(vb, vq, false); break;
	case Q_STATS: stats(vb, vq); break;
	case Q_REPORTING: reports(vb, vq); break;
	default: return;
	}
	virtio_notify_used(dev, vq);
}

/* balloon-stats asked for fresh numbers: give the driver its buffer back. */
static void want_stats(void *opaque)
{
	struct vballoon *vb = opaque;
	struct virtqueue *vq = &vb->dev->vqs[Q_STATS];

	if (!vb->stats_held || !vq->ready)
		return;
	vb->stats_held = false;
	vq_push(vq, vb->stats_elem.head, 0);
	virtio_notify_used(vb->dev, vq);
}

static void target_changed(void *opaque)
{
	struct vballoon *vb = opaque;

	virtio_config_changed(vb->dev);
}

static uint64_t balloon_dev_features(struct virtio_dev *dev)
{
	return balloon_features();
}

static void balloon_read_config(struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len)
{
	struct vballoon *vb = dev->priv;
	struct virtio_balloon_config cfg;

	balloon_config(&vb->model, &cfg);
	if (offset < sizeof(cfg) && len <= sizeof(cfg) - offset)
		memcpy(buf, (uint8_t *)&cfg + offset, len);
	else
		memset(buf, 0, len);
}

static void balloon_write_config(struct virtio_dev *dev, uint32_t offset, const void *buf,
				 uint32_t len)
{
	struct vballoon *vb = dev->priv;

	balloon_config_write(&vb->model, offset, buf, len);
}

static int balloon_num_queues(struct virtio_dev *dev)
{
	return NQUEUES;
}

static int balloon_start(struct virtio_dev *dev)
{
	struct vballoon *vb = dev->priv;
	uint64_t total = 0;

	for (int i = 0; dev->mem && i < dev->mem->nregions; i++)
		total += dev->mem->r[i].size;
	pthread_mutex_lock(&vb->model.lock);
	vb->model.memory_size = total;
	pthread_mutex_unlock(&vb->model.lock);
	return 0;
}

static void balloon_stop(struct virtio_dev *dev)
{
	struct vballoon *vb = dev->priv;

	vb->stats_held = false; /* the ring is gone with the driver */
}

int virtio_balloon_init(struct virtio_dev *dev)
{
	struct vballoon *vb = calloc(1, sizeof(*vb));

	if (!vb)
		return error("out of memory for virtio-balloon");
	vb->dev = dev;
	balloon_init(&vb->model, 0, release, target_changed, vb);
	vb->model.want_stats = want_stats;
	dev->ops = &virtio_balloon_ops;
	dev->priv = vb;
	return 0;
}

void virtio_balloon_destroy(struct virtio_dev *dev)
{
	struct vballoon *vb = dev->priv;

	if (!vb)
		return;
	balloon_destroy(&vb->model);
	free(vb);
	dev->priv = NULL;
}

struct balloon *virtio_balloon_model(struct virtio_dev *dev)
{
	return &((struct vballoon *)dev->priv)->model;
}

const struct virtio_device_ops virtio_balloon_ops = {
	.name = "virtio-balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.features = balloon_dev_features,
	.config_size = sizeof(struct virtio_balloon_config),
	.read_config = balloon_read_config,
	.write_config = balloon_write_config,
	.num_queues = balloon_num_queues,
	.queue_notify = balloon_queue_notify,
	.start = balloon_start,
	.stop = balloon_stop,
};
