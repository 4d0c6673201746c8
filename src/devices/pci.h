/* pci.h: PCI bus 0 with configuration mechanism #1 (ports 0xcf8/0xcfc), a
 * host bridge, and 32-bit memory BARs placed in the hole below 4 GiB. */
#ifndef KVMINI_PCI_H
#define KVMINI_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

#define PCI_MAX_DEVICES 32
#define PCI_MMIO_START 0xc0000000ULL
#define PCI_MMIO_END   0xfec00000ULL /* the IOAPIC follows */
#define PCI_CFG_SIZE 256

struct pci_device;

/* Called when the OS moves a BAR (and once when it is first placed). */
typedef void (*pci_bar_moved_fn)(struct pci_device *dev, int bar, uint64_t old_base,
				 uint64_t new_base);
/* Called after the OS wrote configuration space (e.g. MSI-X enable). */
typedef void (*pci_cfg_written_fn)(struct pci_device *dev, uint32_t offset, uint32_t len);

struct pci_device {
	uint8_t cfg[PCI_CFG_SIZE];
	uint32_t bar_size[6];
	uint64_t bar_base[6];
	int slot;
	uint8_t last_cap, next_cap; /* capability list bookkeeping */
	pci_bar_moved_fn bar_moved;
	pci_cfg_written_fn cfg_written;
	void *opaque;
};

/* Creates the bus (host bridge at 00:00.0) for this VM. */
int pci_init(struct vm *vm);
/* Adds a device: fills slot, assigns its BARs from PCI_MMIO_START. */
int pci_add_device(struct vm *vm, struct pci_device *dev);
/* Helpers to fill configuration space. */
void pci_set_ids(struct pci_device *dev, uint16_t vendor, uint16_t device, uint32_t class_code,
		 uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id);
void pci_set_bar32(struct pci_device *dev, int bar, uint32_t size);
/* Appends a capability (its bytes after the id/next pair); returns its offset. */
int pci_add_capability(struct pci_device *dev, uint8_t id, const void *body, uint8_t len);

#endif
