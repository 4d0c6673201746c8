/* post_code.c: port 0x80, the POST/delay port. Linux uses it for I/O delays
 * and boot-time markers; kvmini records the last value (shown on triple fault). */
#include <string.h>

#include "devices/devices.h"
#include "vm/vm.h"

#define POST_PORT 0x80

static void post_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;

	if (is_write)
		__atomic_store_n(&vm->last_post_code, data[0], __ATOMIC_RELAXED);
	else
		memset(data, 0, len);
}

static int post_init(struct vm *vm)
{
	return io_bus_register(&vm->pio, POST_PORT, 1, post_io, vm);
}

const struct device_ops post_code_device = { .name = "POST port", .init = post_init };
