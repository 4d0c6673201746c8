/* virtio.c: helpers every transport and device share. */
#include "virtio/virtio.h"

void virtio_notify_used(struct virtio_dev *dev, struct virtqueue *vq)
{
	if (vq_should_notify(vq) && dev->notify)
		dev->notify(dev, vq);
}

void virtio_config_changed(struct virtio_dev *dev)
{
	__atomic_add_fetch(&dev->config_generation, 1, __ATOMIC_RELEASE);
	if (dev->config_changed)
		dev->config_changed(dev);
}
