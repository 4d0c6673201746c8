/* pci.c: virtio over PCI, modern interface only (virtio 1.x, 4.1): one
 * 32 KiB memory BAR holding the common configuration, notification, ISR
 * and device-specific regions and the MSI-X table, each described by a
 * vendor capability. Guest accesses arrive on vCPU threads and device
 * completions on the event loop thread; one lock per device orders them.
 * Interrupts go out as MSI-X messages (KVM_SIGNAL_MSI). */
#include "virtio/pci.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/pci.h"
#include "util/log.h"
#include "vm/vm.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040

#define BAR_SIZE 0x8000
#define COMMON_OFF 0x0000
#define COMMON_LEN 0x38
#define NOTIFY_OFF 0x1000
#define NOTIFY_MULT 4
#define ISR_OFF 0x2000
#define DEVICE_OFF 0x3000
#define MSIX_TABLE_OFF 0x4000
#define MSIX_PBA_OFF 0x6000
#define MSIX_ENTRY 16

#define CAP_VENDOR 0x09
#define CAP_MSIX 0x11
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_ISR 3
#define CFG_DEVICE 4

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_FAILED 0x80
#define NO_VECTOR 0xffff
#define MSIX_ENABLE 0x8000
#define MSIX_MASKALL 0x4000

struct vq_regs {
	uint16_t size;
	uint16_t msix_vector;
	uint16_t enable;
	uint64_t desc, driver, device;
};

struct virtio_pci {
	struct vm *vm;
	struct virtio_dev *dev;
	struct pci_device pci;
	pthread_mutex_t lock;
	struct vmem_map mem;
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint16_t msix_config;
	uint16_t queue_select;
	uint8_t status;
	uint8_t isr;
	uint8_t msix_cap;         /* offset of the MSI-X capability */
	struct vq_regs q[VIRTIO_MAX_QUEUES];
	uint8_t msix_table[(VIRTIO_MAX_QUEUES + 1) * MSIX_ENTRY];
};

static uint64_t offered(struct virtio_pci *vp)
{
	return vp->dev->ops->features(vp->dev) | VIRTIO_TRANSPORT_FEATURES;
}

static void send_msix(struct virtio_pci *vp, uint16_t vector)
{
	struct kvm_msi msi = { 0 };
	uint16_t ctrl;
	uint8_t *e;

	memcpy(&ctrl, vp->pci.cfg + vp->msix_cap + 2, 2);
	if (!(ctrl & MSIX_ENABLE) || (ctrl & MSIX_MASKALL) || vector == NO_VECTOR ||
	    vector > vp->dev->nvqs)
		return;
	e = vp->msix_table + (size_t)vector * MSIX_ENTRY;
	if (e[12] & 1)
		return; /* masked */
	memcpy(&msi.address_lo, e, 4);
	memcpy(&msi.address_hi, e + 4, 4);
	memcpy(&msi.data, e + 8, 4);
	if (ioctl(vp->vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		warn("virtio-pci: KVM_SIGNAL_MSI: %s", strerror(errno));
}

/* The transport's notify: the device put buffers on the used ring. */
static void notify_used(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct virtio_pci *vp = dev->transport;

	vp->isr |= 1;
	send_msix(vp, vp->q[vq->index].msix_vector);
}

/* The device's configuration changed (virtio-mem requested size, balloon target). */
static void notify_config(struct virtio_dev *dev)
{
	struct virtio_pci *vp = dev->transport;

	vp->isr |= 2;
	send_msix(vp, vp->msix_config);
}

static void reset_device(struct virtio_pci *vp)
{
	if (vp->status & STATUS_DRIVER_OK && vp->dev->ops->stop)
		vp->dev->ops->stop(vp->dev);
	for (int i = 0; i < vp->dev->nvqs; i++) {
		vq_reset(&vp->dev->vqs[i]);
		vp->dev->vqs[i].index = (uint16_t)i;
		vp->q[i] = (struct vq_regs){ .size = VQ_MAX_SIZE, .msix_vector = NO_VECTOR };
	}
	vp->status = 0;
	vp->isr = 0;
	vp->driver_features = 0;
	vp->dev->features = 0;
	vp->msix_config = NO_VECTOR;
}

static void write_status(struct virtio_pci *vp, uint8_t v)
{
	if (v == 0) {
		reset_device(vp);
		return;
	}
	if ((v & STATUS_FEATURES_OK) && !(vp->status & STATUS_FEATURES_OK)) {
		if ((vp->driver_features & ~offered(vp)) ||
		    !(vp->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
			v &= (uint8_t)~STATUS_FEATURES_OK; /* refused: the driver sees it */
		else
			vp->dev->features = vp->driver_features;
	}
	if ((v & STATUS_DRIVER_OK) && !(vp->status & STATUS_DRIVER_OK) && vp->dev->ops->start &&
	    vp->dev->ops->start(vp->dev))
		v |= STATUS_FAILED;
	vp->status = v;
}

static void enable_queue(struct virtio_pci *vp, int i)
{
	struct vq_regs *r = &vp->q[i];
	struct virtqueue *vq = &vp->dev->vqs[i];

	if (vq_setup(vq, &vp->mem, r->size, r->desc, r->driver, r->device)) {
		vp->status |= STATUS_FAILED; /* the driver gave rings outside its RAM */
		return;
	}
	vq->event_idx = virtio_has(vp->dev, VIRTIO_F_EVENT_IDX);
	r->enable = 1;
}

static uint64_t common_read(struct virtio_pci *vp, uint32_t off)
{
	struct vq_regs *r = vp->queue_select < vp->dev->nvqs ? &vp->q[vp->queue_select] : NULL;
	uint64_t f = offered(vp);

	switch (off) {
	case 0x00: return vp->device_feature_select;
	case 0x04: return vp->device_feature_select < 2 ? (uint32_t)(f >> (32 * vp->device_feature_select)) : 0;
	case 0x08: return vp->driver_feature_select;
	case 0x0c: return vp->driver_feature_select < 2 ? (uint32_t)(vp->driver_features >> (32 * vp->driver_feature_select)) : 0;
	case 0x10: return vp->msix_config;
	case 0x12: return (uint64_t)vp->dev->nvqs;
	case 0x14: return vp->status;
	case 0x15: return (uint8_t)__atomic_load_n(&vp->dev->config_generation, __ATOMIC_ACQUIRE);
	case 0x16: return vp->queue_select;
	case 0x18: return r ? r->size : 0;
	case 0x1a: return r ? r->msix_vector : NO_VECTOR;
	case 0x1c: return r ? r->enable : 0;
	case 0x1e: return vp->queue_select;
	case 0x20: return r ? r->desc : 0;
	case 0x28: return r ? r->driver : 0;
	case 0x30: return r ? r->device : 0;
	default: return 0;
	}
}

static void set_part(uint64_t *reg, uint32_t off, uint64_t v, uint32_t len)
{
	uint64_t mask = len >= 8 ? ~0ULL : ((1ULL << (len * 8)) - 1);

	*reg = (*reg & ~(mask << (off * 8))) | ((v & mask) << (off * 8));
}

static void common_write(struct virtio_pci *vp, uint32_t off, uint64_t v, uint32_t len)
{
	struct vq_regs *r = vp->queue_select < vp->dev->nvqs ? &vp->q[vp->queue_select] : NULL;
	bool live = r && r->enable;

	switch (off & ~7U) {
	case 0x20: if (r && !live) set_part(&r->desc, off - 0x20, v, len); return;
	case 0x28: if (r && !live) set_part(&r->driver, off - 0x28, v, len); return;
	case 0x30: if (r && !live) set_part(&r->device, off - 0x30, v, len); return;
	default: break;
	}
	switch (off) {
	case 0x00: vp->device_feature_select = (uint32_t)v; break;
	case 0x08: vp->driver_feature_select = (uint32_t)v; break;
	case 0x0c:
		if (vp->driver_feature_select < 2 && !(vp->status & STATUS_FEATURES_OK)) {
			uint64_t sh = 32ULL * vp->driver_feature_select;

			vp->driver_features = (vp->driver_features & ~(0xffffffffULL << sh)) |
					      ((v & 0xffffffffULL) << sh);
		}
		break;
	case 0x10: vp->msix_config = (uint16_t)v; break;
	case 0x14: write_status(vp, (uint8_t)v); break;
	case 0x16: vp->queue_select = (uint16_t)v; break;
	case 0x18:
		if (r && !live && v && v <= VQ_MAX_SIZE && !(v & (v - 1)))
			r->size = (uint16_t)v;
		break;
	case 0x1a: if (r) r->msix_vector = v <= (uint64_t)vp->dev->nvqs ? (uint16_t)v : NO_VECTOR; break;
	case 0x1c: if (r && v == 1 && !live) enable_queue(vp, vp->queue_select); break;
	default: break; /* read-only */
	}
}

static void bar_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	uint64_t v = 0;

	if (is_write)
		memcpy(&v, data, len);
	else
		memset(data, 0, len);
	pthread_mutex_lock(&vp->lock);
	if (off < COMMON_OFF + COMMON_LEN) {
		if (is_write) {
			common_write(vp, (uint32_t)off, v, len);
		} else {
			v = common_read(vp, (uint32_t)(off & ~(len >= 4 ? 3ULL : 1ULL)));
			memcpy(data, &v, len);
		}
	} else if (off >= NOTIFY_OFF && off < NOTIFY_OFF + NOTIFY_MULT * (uint64_t)vp->dev->nvqs) {
		struct virtqueue *vq = &vp->dev->vqs[(off - NOTIFY_OFF) / NOTIFY_MULT];

		if (is_write && vq->ready && (vp->status & STATUS_DRIVER_OK))
			vp->dev->ops->queue_notify(vp->dev, vq);
	} else if (off == ISR_OFF) {
		if (!is_write) {
			data[0] = vp->isr;
			vp->isr = 0; /* reading acknowledges */
		}
	} else if (off >= DEVICE_OFF && off - DEVICE_OFF + len <= vp->dev->ops->config_size) {
		if (is_write && vp->dev->ops->write_config)
			vp->dev->ops->write_config(vp->dev, (uint32_t)(off - DEVICE_OFF), data, len);
		else if (!is_write)
			vp->dev->ops->read_config(vp->dev, (uint32_t)(off - DEVICE_OFF), data, len);
	} else if (off >= MSIX_TABLE_OFF && off - MSIX_TABLE_OFF + len <= sizeof(vp->msix_table)) {
		uint8_t *p = vp->msix_table + (off - MSIX_TABLE_OFF);

		if (is_write)
			memcpy(p, data, len);
		else
			memcpy(data, p, len);
	}
	pthread_mutex_unlock(&vp->lock);
}

static void bar_moved(struct pci_device *pci, int bar, uint64_t old_base, uint64_t new_base)
{
	struct virtio_pci *vp = pci->opaque;

	if (old_base)
		io_bus_unregister(&vp->vm->mmio, old_base);
	if (new_base && io_bus_register(&vp->vm->mmio, new_base, BAR_SIZE, bar_io, vp))
		warn("virtio-pci: cannot map BAR at 0x%llx", (unsigned long long)new_base);
}

static void add_vendor_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
			   bool notify)
{
	uint8_t body[18] = { notify ? 20 : 16, type, 0 /* BAR0 */ };
	uint32_t mult = NOTIFY_MULT;

	memcpy(body + 6, &off, 4);
	memcpy(body + 10, &len, 4);
	memcpy(body + 14, &mult, 4);
	pci_add_capability(&vp->pci, CAP_VENDOR, body, notify ? 18 : 14);
}

static void build_config_space(struct virtio_pci *vp)
{
	uint32_t id = vp->dev->ops->device_id;
	uint32_t class = id == VIRTIO_ID_BLOCK ? 0x018000 : id == VIRTIO_ID_NET ? 0x020000 : 0xff0000;
	uint16_t vectors = (uint16_t)vp->dev->nvqs; /* table size - 1 */
	uint8_t msix[10] = { 0 };
	uint32_t table = MSIX_TABLE_OFF, pba = MSIX_PBA_OFF;

	pci_set_ids(&vp->pci, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + id), class, 1,
		    VIRTIO_PCI_VENDOR, (uint16_t)id);
	pci_set_bar32(&vp->pci, 0, BAR_SIZE);
	add_vendor_cap(vp, CFG_COMMON, COMMON_OFF, COMMON_LEN, false);
	add_vendor_cap(vp, CFG_NOTIFY, NOTIFY_OFF, NOTIFY_MULT * (uint32_t)vp->dev->nvqs, true);
	add_vendor_cap(vp, CFG_ISR, ISR_OFF, 1, false);
	add_vendor_cap(vp, CFG_DEVICE, DEVICE_OFF, vp->dev->ops->config_size, false);
	memcpy(msix, &vectors, 2);
	memcpy(msix + 2, &table, 4); /* BAR0 | offset */
	memcpy(msix + 6, &pba, 4);
	vp->msix_cap = (uint8_t)pci_add_capability(&vp->pci, CAP_MSIX, msix, sizeof(msix));
}

static void map_guest_memory(struct virtio_pci *vp)
{
	const struct guest_memory *gm = &vp->vm->mem;

	vp->mem.nregions = gm->nregions;
	for (int i = 0; i < gm->nregions; i++)
		vp->mem.r[i] = (struct vmem_region){ gm->regions[i].gpa, gm->regions[i].size,
						     gm->regions[i].gpa, gm->regions[i].host };
}

int virtio_pci_add(struct vm *vm, struct virtio_dev *dev)
{
	struct virtio_pci *vp = vm_zalloc(vm, sizeof(*vp));

	if (!vp)
		return error("out of memory for virtio-pci");
	vp->vm = vm;
	vp->dev = dev;
	pthread_mutex_init(&vp->lock, NULL);
	map_guest_memory(vp);
	dev->nvqs = dev->ops->num_queues(dev);
	if (dev->nvqs < 1 || dev->nvqs > VIRTIO_MAX_QUEUES)
		return error("virtio-pci: %s has %d queues", dev->ops->name, dev->nvqs);
	dev->mem = &vp->mem;
	dev->loop = &vm->loop;
	dev->transport = vp;
	dev->notify = notify_used;
	dev->config_changed = notify_config;
	dev->lock = &vp->lock;
	reset_device(vp);
	build_config_space(vp);
	vp->pci.opaque = vp;
	vp->pci.bar_moved = bar_moved;
	return pci_add_device(vm, &vp->pci);
}
