/* vio.c: the test guests' polling virtio-pci driver (see vio.h). */
#include "vio.h"

#include "lib.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define VIRTIO_VENDOR 0x1af4
#define CAP_VENDOR 0x09
enum { CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4 };
enum { ST_ACK = 1, ST_DRIVER = 2, ST_DRIVER_OK = 4, ST_FEATURES_OK = 8 };
/* struct virtio_pci_common_cfg offsets */
enum { C_DFSEL = 0, C_DF = 4, C_GFSEL = 8, C_GF = 12, C_NUMQ = 18, C_STATUS = 20,
       C_QSEL = 22, C_QSIZE = 24, C_QENABLE = 28, C_QNOFF = 30, C_QDESC = 32,
       C_QDRIVER = 40, C_QDEVICE = 48 };
#define DESC_NEXT 1
#define DESC_WRITE 2

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[64][512] __attribute__((aligned(4096)));
static int tables_live;

static void map_2m(uint64_t a)
{
	uint64_t g = a >> 30;

	if (g >= 64)
		return;
	pdpt[g] = (uint64_t)(uintptr_t)pd[g] | 3;
	pd[g][(a >> 21) & 511] = (a & ~((1ULL << 21) - 1)) | 0x83;
}

void vio_map(uint64_t start, uint64_t end)
{
	start &= ~((1ULL << 21) - 1);
	if (!tables_live) {
		for (uint64_t a = 0; a < (4ULL << 30); a += 1ULL << 21)
			map_2m(a);
		pml4[0] = (uint64_t)(uintptr_t)pdpt | 3;
	}
	for (uint64_t a = start; a < end; a += 1ULL << 21)
		map_2m(a);
	if (!tables_live) {
		__asm__ volatile("mov %0, %%cr3" :: "r"((uint64_t)(uintptr_t)pml4) : "memory");
		tables_live = 1;
	} else {
		uint64_t cr3;

		__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) :: "memory");
	}
}

static uint32_t pci_read(uint8_t dev, uint8_t reg)
{
	outl(PCI_ADDR, 0x80000000u | ((uint32_t)dev << 11) | (reg & 0xfc));
	return inl(PCI_DATA);
}

static void pci_write(uint8_t dev, uint8_t reg, uint32_t v)
{
	outl(PCI_ADDR, 0x80000000u | ((uint32_t)dev << 11) | (reg & 0xfc));
	outl(PCI_DATA, v);
}

/* BAR `bar`'s address, assigned in the 32-bit hole if the firmware did not. */
static uint64_t bar_addr(uint8_t dev, uint8_t bar)
{
	uint32_t lo = pci_read(dev, (uint8_t)(0x10 + 4 * bar));
	uint64_t a = lo & ~0xfu;

	if ((lo & 6) == 4)
		a |= (uint64_t)pci_read(dev, (uint8_t)(0x14 + 4 * bar)) << 32;
	if (!a) {
		a = 0xe0000000ULL + ((uint64_t)dev << 20) + ((uint64_t)bar << 16);
		pci_write(dev, (uint8_t)(0x10 + 4 * bar), (uint32_t)a);
	}
	vio_map(a, a + (1ULL << 21));
	return a;
}

static void read_caps(struct vio_dev *d)
{
	uint8_t p = (uint8_t)pci_read(d->dev, 0x34);

	for (int n = 0; p && n < 32; n++) {
		uint32_t h = pci_read(d->dev, p);
		uint8_t type = (uint8_t)(h >> 24), bar = (uint8_t)pci_read(d->dev, (uint8_t)(p + 4));
		volatile uint8_t *at;

		if ((h & 0xff) == CAP_VENDOR && bar < 6) {
			at = (volatile uint8_t *)(uintptr_t)(bar_addr(d->dev, bar) +
							     pci_read(d->dev, (uint8_t)(p + 8)));
			if (type == CFG_COMMON)
				d->common = at;
			else if (type == CFG_NOTIFY) {
				d->notify = at;
				d->notify_mult = pci_read(d->dev, (uint8_t)(p + 16));
			} else if (type == CFG_ISR)
				d->isr = at;
			else if (type == CFG_DEVICE)
				d->config = at;
		}
		p = (uint8_t)(h >> 8);
	}
}

int vio_find(uint16_t device_id, struct vio_dev *d)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint32_t id = pci_read(dev, 0);

		if ((id & 0xffff) != VIRTIO_VENDOR || (id >> 16) != 0x1040u + device_id)
			continue;
		memset(d, 0, sizeof(*d));
		d->dev = dev;
		pci_write(dev, 0x04, pci_read(dev, 0x04) | 0x6); /* memory space, bus master */
		read_caps(d);
		return d->common && d->notify && d->config ? 0 : -1;
	}
	return -1;
}

static volatile uint32_t *c32(struct vio_dev *d, int off) { return (volatile uint32_t *)(d->common + off); }
static volatile uint16_t *c16(struct vio_dev *d, int off) { return (volatile uint16_t *)(d->common + off); }

static void set_status(struct vio_dev *d, uint8_t bits)
{
	d->common[C_STATUS] = (uint8_t)(d->common[C_STATUS] | bits);
}

int vio_init(struct vio_dev *d, uint64_t want)
{
	d->common[C_STATUS] = 0;
	for (int i = 0; i < 1000 && d->common[C_STATUS]; i++)
		;
	set_status(d, ST_ACK);
	set_status(d, ST_DRIVER);
	*c32(d, C_DFSEL) = 0;
	d->offered = *c32(d, C_DF);
	*c32(d, C_DFSEL) = 1;
	d->offered |= (uint64_t)*c32(d, C_DF) << 32;
	d->features = d->offered & (want | VIO_F_VERSION_1);
	*c32(d, C_GFSEL) = 0;
	*c32(d, C_GF) = (uint32_t)d->features;
	*c32(d, C_GFSEL) = 1;
	*c32(d, C_GF) = (uint32_t)(d->features >> 32);
	set_status(d, ST_FEATURES_OK);
	return (d->common[C_STATUS] & ST_FEATURES_OK) && (d->features & VIO_F_VERSION_1) ? 0 : -1;
}

static void put64(struct vio_dev *d, int off, const volatile void *p)
{
	uint64_t a = (uint64_t)(uintptr_t)p;

	*c32(d, off) = (uint32_t)a;
	*c32(d, off + 4) = (uint32_t)(a >> 32);
}

int vio_queue_setup(struct vio_dev *d, struct vio_queue *q, uint16_t index)
{
	uint16_t max;

	*c16(d, C_QSEL) = index;
	max = *c16(d, C_QSIZE);
	if (!max || index >= *c16(d, C_NUMQ))
		return -1;
	memset(q, 0, sizeof(*q));
	q->index = index;
	q->size = max < VIO_QUEUE_SIZE ? max : VIO_QUEUE_SIZE;
	*c16(d, C_QSIZE) = q->size;
	put64(d, C_QDESC, q->desc);
	put64(d, C_QDRIVER, &q->avail);
	put64(d, C_QDEVICE, &q->used);
	q->notify = (volatile uint16_t *)(d->notify + (uint32_t)*c16(d, C_QNOFF) * d->notify_mult);
	*c16(d, C_QENABLE) = 1;
	return 0;
}

void vio_driver_ok(struct vio_dev *d)
{
	set_status(d, ST_DRIVER_OK);
}

uint16_t vio_post(struct vio_queue *q, const void *out, uint32_t out_len, void *in,
		  uint32_t in_len)
{
	uint16_t head = (uint16_t)(2 * (q->avail.idx % (q->size / 2))), d = head;
	uint16_t slot = q->avail.idx % q->size;

	if (out_len) {
		q->desc[d] = (struct vring_desc){ (uint64_t)(uintptr_t)out, out_len, 0, 0 };
		if (in_len) {
			q->desc[d].flags = DESC_NEXT;
			q->desc[d].next = (uint16_t)(d + 1);
			d++;
		}
	}
	if (in_len)
		q->desc[d] = (struct vring_desc){ (uint64_t)(uintptr_t)in, in_len, DESC_WRITE, 0 };
	q->avail.ring[slot] = head;
	__asm__ volatile("" ::: "memory");
	q->avail.idx++;
	__asm__ volatile("mfence" ::: "memory");
	*q->notify = q->index;
	return head;
}

int vio_poll(struct vio_queue *q, uint32_t *len, uint32_t spins)
{
	volatile struct vring_used *used = &q->used;

	for (uint32_t i = 0; i < spins; i++) {
		if (used->idx != q->last_used) {
			int id = (int)used->ring[q->last_used % q->size].id;

			*len = used->ring[q->last_used % q->size].len;
			q->last_used++;
			return id;
		}
		__asm__ volatile("pause" ::: "memory");
	}
	return -1;
}

int vio_call(struct vio_queue *q, const void *out, uint32_t out_len, void *in, uint32_t in_len)
{
	uint32_t len;

	vio_post(q, out, out_len, in, in_len);
	return vio_poll(q, &len, 10000000u) < 0 ? -1 : (int)len;
}
