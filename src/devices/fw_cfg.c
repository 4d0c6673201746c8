/* fw_cfg.c: a minimal QEMU fw_cfg device (ACPI QEMU0002): selector port
 * 0x510, data port 0x511 and the DMA interface at 0x514, offering one
 * writable file, `etc/vmcoreinfo` (QEMU hw/misc/vmcoreinfo.c): a Linux guest
 * writes there the physical address of its VMCOREINFO note at boot. */
#include "devices/fw_cfg.h"

#include <pthread.h>
#include <string.h>

#include "devices/devices.h"
#include "util/log.h"
#include "vm/vm.h"

#define KEY_SIGNATURE 0x0000
#define KEY_ID        0x0001
#define KEY_FILE_DIR  0x0019
#define KEY_VMCOREINFO 0x0020
#define ID_TRADITIONAL 0x1
#define ID_DMA         0x2

#define DMA_ERROR  0x01
#define DMA_READ   0x02
#define DMA_SKIP   0x04
#define DMA_SELECT 0x08
#define DMA_WRITE  0x10
#define DMA_SIGNATURE 0x51454d5520434647ULL /* "QEMU CFG" */
#define DMA_MAX_LEN (1U << 20)

struct fw_cfg_file_entry {
	uint32_t size_be;
	uint16_t select_be;
	uint16_t reserved;
	char name[56];
} __attribute__((packed));

struct vmcoreinfo_desc {
	uint16_t host_format, guest_format;
	uint32_t size;
	uint64_t paddr;
} __attribute__((packed));

struct fw_cfg {
	struct vm *vm;
	pthread_mutex_t lock;
	uint16_t key;
	uint32_t offset;
	uint32_t dma_addr_hi;
	uint8_t file_dir[4 + sizeof(struct fw_cfg_file_entry)];
	struct vmcoreinfo_desc vmcoreinfo;
	int vmcoreinfo_written;
};

/* The item a key selects (NULL: none), its size and whether it is writable. */
static uint8_t *item(struct fw_cfg *s, uint32_t *size, int *writable)
{
	static const char signature[4] = "QEMU";
	static const uint32_t id = ID_TRADITIONAL | ID_DMA;

	*writable = 0;
	switch (s->key) {
	case KEY_SIGNATURE: *size = 4; return (uint8_t *)signature;
	case KEY_ID: *size = 4; return (uint8_t *)&id;
	case KEY_FILE_DIR: *size = sizeof(s->file_dir); return s->file_dir;
	case KEY_VMCOREINFO:
		*size = sizeof(s->vmcoreinfo);
		*writable = 1;
		return (uint8_t *)&s->vmcoreinfo;
	default: *size = 0; return NULL;
	}
}

static uint8_t read_byte(struct fw_cfg *s)
{
	uint32_t size;
	int writable;
	const uint8_t *p = item(s, &size, &writable);

	if (!p || s->offset >= size)
		return 0;
	return p[s->offset++];
}

static void select_key(struct fw_cfg *s, uint16_t key)
{
	s->key = key;
	s->offset = 0;
}

static void note_vmcoreinfo_write(struct fw_cfg *s)
{
	if (s->key == KEY_VMCOREINFO)
		s->vmcoreinfo_written = 1;
}

/* Copies between the selected item and guest memory; returns 0 or DMA_ERROR. */
static uint32_t dma_transfer(struct fw_cfg *s, uint32_t control, uint32_t len, uint64_t addr)
{
	uint32_t size;
	int writable;
	uint8_t *p = item(s, &size, &writable);
	uint32_t avail = p && s->offset < size ? size - s->offset : 0;

	if (len > DMA_MAX_LEN)
		return DMA_ERROR;
	if (control & DMA_READ) {
		uint32_t n = len < avail ? len : avail;

		if ((n && guest_write(&s->vm->mem, addr, p + s->offset, n)) ||
		    (len > n && !gpa_to_hva(&s->vm->mem, addr + n, len - n)))
			return DMA_ERROR;
		if (len > n) /* beyond the item: zeros, as QEMU */
			memset(gpa_to_hva(&s->vm->mem, addr + n, len - n), 0, len - n);
	} else if (control & DMA_WRITE) {
		if (!writable || len > avail || guest_read(&s->vm->mem, addr, p + s->offset, len))
			return DMA_ERROR;
		note_vmcoreinfo_write(s);
	} else if (!(control & DMA_SKIP)) {
		return 0;
	}
	s->offset += len < avail ? len : avail;
	return 0;
}

static void dma_run(struct fw_cfg *s, uint64_t desc_addr)
{
	uint8_t d[16];
	uint32_t control, len, result;
	uint64_t addr;

	if (guest_read(&s->vm->mem, desc_addr, d, sizeof(d))) {
		warn("fw_cfg: DMA descriptor at 0x%llx is not in RAM; ignored",
		     (unsigned long long)desc_addr);
		return;
	}
	control = __builtin_bswap32(*(uint32_t *)(void *)d);
	len = __builtin_bswap32(*(uint32_t *)(void *)(d + 4));
	addr = __builtin_bswap64(*(uint64_t *)(void *)(d + 8));
	if (control & DMA_SELECT)
		select_key(s, (uint16_t)(control >> 16));
	result = dma_transfer(s, control, len, addr);
	result = __builtin_bswap32(result);
	guest_write(&s->vm->mem, desc_addr, &result, sizeof(result));
}

static uint32_t be32_bytes(const uint8_t *data)
{
	return (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
}

static void dma_register(struct fw_cfg *s, uint64_t off, uint8_t *data, uint32_t len,
			 bool is_write)
{
	uint64_t sig = DMA_SIGNATURE;

	if (!is_write) { /* reads give "QEMU CFG", big-endian */
		for (uint32_t i = 0; i < len && off + i < 8; i++)
			data[i] = (uint8_t)(sig >> (56 - 8 * (off + i)));
		return;
	}
	if (len != 4)
		return;
	if (off == 0)
		s->dma_addr_hi = be32_bytes(data);
	else if (off == 4)
		dma_run(s, (uint64_t)s->dma_addr_hi << 32 | be32_bytes(data));
}

static void fw_cfg_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct fw_cfg *s = opaque;

	pthread_mutex_lock(&s->lock);
	if (off == 0 && is_write && len == 2)
		select_key(s, (uint16_t)(data[0] | data[1] << 8));
	else if (off == 1 && len == 1 && !is_write)
		data[0] = read_byte(s);
	else if (off >= 4)
		dma_register(s, off - 4, data, len, is_write);
	else if (!is_write)
		memset(data, 0, len);
	pthread_mutex_unlock(&s->lock);
}

int fw_cfg_vmcoreinfo(struct vm *vm, uint64_t *paddr, uint32_t *size)
{
	struct fw_cfg *s = vm->fw_cfg;
	int ret = -1;

	if (!s)
		return -1;
	pthread_mutex_lock(&s->lock);
	if (s->vmcoreinfo_written && s->vmcoreinfo.guest_format == FW_CFG_VMCOREINFO_FORMAT_ELF) {
		*paddr = s->vmcoreinfo.paddr;
		*size = s->vmcoreinfo.size;
		ret = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int fw_cfg_init(struct vm *vm)
{
	struct fw_cfg *s = vm_zalloc(vm, sizeof(*s));
	struct fw_cfg_file_entry e = { .size_be = __builtin_bswap32(sizeof(struct vmcoreinfo_desc)),
				       .select_be = __builtin_bswap16(KEY_VMCOREINFO),
				       .name = "etc/vmcoreinfo" };
	uint32_t count_be = __builtin_bswap32(1);

	if (!s)
		return error("out of memory for fw_cfg");
	s->vm = vm;
	pthread_mutex_init(&s->lock, NULL);
	memcpy(s->file_dir, &count_be, 4);
	memcpy(s->file_dir + 4, &e, sizeof(e));
	s->vmcoreinfo.host_format = FW_CFG_VMCOREINFO_FORMAT_ELF;
	vm->fw_cfg = s;
	return io_bus_register(&vm->pio, FW_CFG_PORT, FW_CFG_PORT_LEN, fw_cfg_io, s);
}

const struct device_ops fw_cfg_device = { .name = "fw_cfg", .init = fw_cfg_init };
