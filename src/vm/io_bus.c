/* io_bus.c: a sorted table of address ranges, one per device register block. */
#include "vm/io_bus.h"

#include <string.h>

#include "util/log.h"

void io_bus_init(struct io_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_rwlock_init(&bus->lock, NULL);
}

static bool overlaps(const struct io_range *r, uint64_t base, uint64_t len)
{
	return base < r->base + r->len && r->base < base + len;
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    io_handler_fn handler, void *opaque)
{
	int i, ret = 0;

	if (!len || base + len < base)
		return error("bad I/O range 0x%llx+0x%llx", (unsigned long long)base,
			     (unsigned long long)len);
	pthread_rwlock_wrlock(&bus->lock);
	for (i = 0; i < bus->count; i++) {
		if (overlaps(&bus->ranges[i], base, len)) {
			ret = error("I/O range 0x%llx+0x%llx overlaps a registered device",
				    (unsigned long long)base, (unsigned long long)len);
			goto out;
		}
	}
	if (bus->count == IO_BUS_MAX) {
		ret = error("too many I/O ranges");
		goto out;
	}
	for (i = bus->count; i > 0 && bus->ranges[i - 1].base > base; i--)
		bus->ranges[i] = bus->ranges[i - 1];
	bus->ranges[i] = (struct io_range){ base, len, handler, opaque };
	bus->count++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int io_bus_unregister(struct io_bus *bus, uint64_t base)
{
	int ret = -1;

	pthread_rwlock_wrlock(&bus->lock);
	for (int i = 0; i < bus->count; i++) {
		if (bus->ranges[i].base != base)
			continue;
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(size_t)(bus->count - i - 1) * sizeof(bus->ranges[0]));
		bus->count--;
		ret = 0;
		break;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

static const struct io_range *find(const struct io_bus *bus, uint64_t addr)
{
	int lo = 0, hi = bus->count - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct io_range *r = &bus->ranges[mid];

		if (addr < r->base)
			hi = mid - 1;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data,
		   uint32_t len, bool is_write)
{
	const struct io_range *r;
	struct io_range found;

	pthread_rwlock_rdlock(&bus->lock);
	r = find(bus, addr);
	if (r)
		found = *r;
	pthread_rwlock_unlock(&bus->lock);
	if (!r || len > found.len - (addr - found.base)) {
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	found.handler(found.opaque, addr - found.base, data, len, is_write);
	return true;
}
