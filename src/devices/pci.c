/* pci.c: PCI configuration space for bus 0, reached through ports 0xcf8
 * (address, whose byte 0xcf9 is the chipset's reset control) and 0xcfc-0xcff
 * (data). BAR sizing writes return the size
 * mask; moving a memory BAR tells its device, which re-registers its MMIO
 * range. Reads of absent devices return all ones. */
#include "devices/pci.h"

#include <pthread.h>
#include <string.h>

#include "devices/devices.h"
#include "util/log.h"
#include "vm/vm.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define CFG_ENABLE 0x80000000U
#define RCR_RESET 0x04
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_FIRST_CAP 0x40

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;
	uint32_t address;
	uint64_t next_mmio;
	struct pci_device *devices[PCI_MAX_DEVICES];
	struct pci_device host_bridge;
};

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

void pci_set_ids(struct pci_device *dev, uint16_t vendor, uint16_t device, uint32_t class_code,
		 uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id)
{
	put16(dev->cfg + 0x00, vendor);
	put16(dev->cfg + 0x02, device);
	put32(dev->cfg + 0x08, (class_code << 8) | revision);
	put16(dev->cfg + 0x2c, subsys_vendor);
	put16(dev->cfg + 0x2e, subsys_id);
}

void pci_set_bar32(struct pci_device *dev, int bar, uint32_t size)
{
	dev->bar_size[bar] = size; /* a power of two, at least 4 KiB */
}

int pci_add_capability(struct pci_device *dev, uint8_t id, const void *body, uint8_t len)
{
	int off = dev->next_cap ? dev->next_cap : PCI_FIRST_CAP;

	if (off + 2 + len > PCI_CFG_SIZE)
		return error("PCI capability does not fit in configuration space");
	dev->cfg[off] = id;
	dev->cfg[off + 1] = 0;
	memcpy(dev->cfg + off + 2, body, len);
	if (dev->last_cap)
		dev->cfg[dev->last_cap + 1] = (uint8_t)off;
	else
		dev->cfg[PCI_CAP_PTR] = (uint8_t)off;
	dev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	dev->last_cap = (uint8_t)off;
	dev->next_cap = (uint8_t)((off + 2 + len + 3) & ~3);
	return off;
}

static struct pci_device *selected(struct pci_bus *bus, uint32_t *reg)
{
	uint32_t a = bus->address;
	uint32_t busnr = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 7;

	*reg = a & 0xfc;
	if (!(a & CFG_ENABLE) || busnr || fn)
		return NULL;
	return bus->devices[slot];
}

static void move_bar(struct pci_device *dev, int bar, uint32_t value)
{
	uint64_t old = dev->bar_base[bar];
	uint64_t base = value & ~(uint64_t)(dev->bar_size[bar] - 1) & 0xfffffff0U;

	put32(dev->cfg + PCI_BAR0 + 4 * bar, (uint32_t)base);
	if (base == old)
		return;
	dev->bar_base[bar] = base;
	if (dev->bar_moved)
		dev->bar_moved(dev, bar, old, base);
}

static void cfg_write(struct pci_device *dev, uint32_t off, const uint8_t *data, uint32_t len)
{
	if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
		int bar = (int)(off - PCI_BAR0) / 4;
		uint32_t v = 0;

		if (!dev->bar_size[bar] || len != 4)
			return;
		memcpy(&v, data, 4);
		if (v == 0xffffffffU) { /* sizing: the next read returns the mask */
			put32(dev->cfg + off, ~(dev->bar_size[bar] - 1));
			return;
		}
		move_bar(dev, bar, v);
		return;
	}
	if (off < 0x04 || (off >= 0x08 && off < 0x0c) || off == 0x2c || off == PCI_CAP_PTR)
		return; /* read-only identity */
	memcpy(dev->cfg + off, data, len);
	if (dev->cfg_written)
		dev->cfg_written(dev, off, len);
}

static void data_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_bus *bus = opaque;
	struct pci_device *dev;
	uint32_t reg;

	pthread_mutex_lock(&bus->lock);
	dev = selected(bus, &reg);
	reg += (uint32_t)off;
	if (!dev || reg + len > PCI_CFG_SIZE) {
		if (!is_write)
			memset(data, 0xff, len);
	} else if (is_write) {
		cfg_write(dev, reg, data, len);
	} else {
		/* a sized BAR reads back its mask once, then its base */
		memcpy(data, dev->cfg + reg, len);
		if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 24 && dev->bar_size[(reg - PCI_BAR0) / 4])
			put32(dev->cfg + (reg & ~3U),
			      (uint32_t)dev->bar_base[(reg - PCI_BAR0) / 4]);
	}
	pthread_mutex_unlock(&bus->lock);
}

static void address_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_bus *bus = opaque;

	if (len != 4) {
		/* 0xcf9 as a byte is the reset control register of the chipset */
		if (is_write && off == 1 && (data[0] & RCR_RESET)) {
			info("guest reset the machine (port 0xcf9)");
			vm_request_exit(bus->vm, EXIT_SHUTDOWN);
		} else if (!is_write) {
			memset(data, 0, len);
		}
		return;
	}
	pthread_mutex_lock(&bus->lock);
	if (is_write)
		memcpy(&bus->address, data, 4);
	else
		memcpy(data, &bus->address, 4);
	pthread_mutex_unlock(&bus->lock);
}

int pci_add_device(struct vm *vm, struct pci_device *dev)
{
	struct pci_bus *bus = vm->pci;
	int slot;

	if (!bus)
		return error("no PCI bus");
	for (slot = 0; slot < PCI_MAX_DEVICES && bus->devices[slot]; slot++)
		;
	if (slot == PCI_MAX_DEVICES)
		return error("PCI bus 0 is full (%d devices)", PCI_MAX_DEVICES);
	dev->slot = slot;
	for (int bar = 0; bar < 6; bar++) {
		uint64_t size = dev->bar_size[bar], base;

		if (!size)
			continue;
		base = (bus->next_mmio + size - 1) & ~(size - 1);
		if (base + size > PCI_MMIO_END)
			return error("no room left below 4 GiB for a %u KiB PCI BAR",
				     dev->bar_size[bar] >> 10);
		bus->next_mmio = base + size;
		move_bar(dev, bar, (uint32_t)base);
	}
	put16(dev->cfg + PCI_COMMAND, 0x0006); /* memory space, bus master */
	bus->devices[slot] = dev;
	return 0;
}

int pci_init(struct vm *vm)
{
	struct pci_bus *bus = vm_zalloc(vm, sizeof(*bus));

	if (!bus)
		return error("out of memory for the PCI bus");
	bus->vm = vm;
	bus->next_mmio = PCI_MMIO_START;
	pthread_mutex_init(&bus->lock, NULL);
	/* Intel 440FX-style host bridge, class 06.00 */
	pci_set_ids(&bus->host_bridge, 0x8086, 0x1237, 0x060000, 0x02, 0, 0);
	bus->devices[0] = &bus->host_bridge;
	vm->pci = bus;
	return io_bus_register(&vm->pio, PCI_CONFIG_ADDRESS, 4, address_io, bus) ||
	       io_bus_register(&vm->pio, PCI_CONFIG_DATA, 4, data_io, bus);
}

static int pci_device_init(struct vm *vm)
{
	return pci_init(vm);
}

const struct device_ops pci_bus_device = { .name = "PCI bus", .init = pci_device_init };
