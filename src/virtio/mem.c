/* mem.c: virtio-mem's queue: each chain is a request (readable) and room
 * for the response (writable); the region answers it, pausing vCPUs while
 * memory slots change. Config space is the region's current sizes. */
#include "virtio/mem.h"

#include <stdlib.h>
#include <string.h>

#include "hotplug/vmem_region.h"
#include "util/log.h"
#include "virtio/iov.h"

static struct vmem_hotplug *region(struct virtio_dev *dev)
{
	return dev->priv;
}

static uint64_t mem_features(struct virtio_dev *dev)
{
	return 1ULL << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE;
}

static void mem_read_config(struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len)
{
	struct vmem_hotplug *r = region(dev);
	struct virtio_mem_config cfg;

	pthread_mutex_lock(&r->lock);
	vmem_config(&r->state, &cfg);
	pthread_mutex_unlock(&r->lock);
	if (offset < sizeof(cfg) && len <= sizeof(cfg) - offset)
		memcpy(buf, (uint8_t *)&cfg + offset, len);
	else
		memset(buf, 0, len);
}

static int mem_num_queues(struct virtio_dev *dev)
{
	return 1;
}

/* One request; returns the bytes written into the chain's writable part. */
static uint32_t answer(struct vmem_hotplug *r, const struct vq_elem *e)
{
	struct virtio_mem_req req;
	struct virtio_mem_resp resp;
	size_t n = iov_to_buf(e->iov, e->out_num, 0, &req, sizeof(req));

	if (e->in_len < sizeof(resp))
		return 0; /* no room for an answer: nothing to do */
	vmem_region_request(r, &req, n, &resp);
	return (uint32_t)iov_from_buf(e->iov + e->out_num, e->in_num, 0, &resp, sizeof(resp));
}

static void mem_queue_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct vq_elem *elem = malloc(sizeof(*elem)); /* 16 KiB: not on the stack */
	int got;

	if (!elem) {
		error("virtio-mem: out of memory for a request");
		return;
	}
	while ((got = vq_pop(vq, elem)) != 0)
		vq_push(vq, elem->head, got > 0 ? answer(region(dev), elem) : 0);
	free(elem);
	virtio_notify_used(dev, vq);
}

static void resized(void *opaque)
{
	virtio_config_changed(opaque);
}

int virtio_mem_init(struct virtio_dev *dev, struct vmem_hotplug *r)
{
	if (!r)
		return error("virtio-mem needs a hotplug region (--hotplug SIZE)");
	dev->ops = &virtio_mem_ops;
	dev->priv = r;
	r->config_changed = resized;
	r->config_opaque = dev;
	return 0;
}

const struct virtio_device_ops virtio_mem_ops = {
	.name = "virtio-mem",
	.device_id = VIRTIO_ID_MEM,
	.features = mem_features,
	.config_size = sizeof(struct virtio_mem_config),
	.read_config = mem_read_config,
	.num_queues = mem_num_queues,
	.queue_notify = mem_queue_notify,
};
