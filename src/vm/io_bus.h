/* io_bus.h: dispatch of guest port I/O and MMIO accesses to devices. */
#ifndef KVMINI_IO_BUS_H
#define KVMINI_IO_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* A device access: `offset` is relative to the registered base; `data`
 * holds `len` bytes (little-endian), filled in by the device on reads. */
typedef void (*io_handler_fn)(void *opaque, uint64_t offset, uint8_t *data,
			      uint32_t len, bool is_write);

struct io_range {
	uint64_t base;
	uint64_t len;
	io_handler_fn handler;
	void *opaque;
};

#define IO_BUS_MAX 64

struct io_bus {
	pthread_rwlock_t lock;
	int count;
	struct io_range ranges[IO_BUS_MAX]; /* sorted by base, non-overlapping */
};

void io_bus_init(struct io_bus *bus);
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    io_handler_fn handler, void *opaque);
int io_bus_unregister(struct io_bus *bus, uint64_t base);
/* Returns false if no device claims `addr` (reads then see all ones). */
bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data,
		   uint32_t len, bool is_write);

#endif
