/* debug_exit.c: --debug-exit: a write of v to port 0xf4 ends kvmini with
 * status (v << 1) | 1, like QEMU's isa-debug-exit used by unit-test kernels. */
#include <string.h>

#include "devices/devices.h"
#include "vm/vm.h"

#define DEBUG_EXIT_PORT 0xf4

static void debug_exit_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	uint32_t v = 0;

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	memcpy(&v, data, len < 4 ? len : 4);
	vm_request_exit(opaque, (int)((v << 1) | 1));
}

static bool debug_exit_wanted(const struct vm *vm)
{
	return vm->cfg.debug_exit;
}

static int debug_exit_init(struct vm *vm)
{
	return io_bus_register(&vm->pio, DEBUG_EXIT_PORT, 4, debug_exit_io, vm);
}

const struct device_ops debug_exit_device = {
	.name = "debug-exit port",
	.wanted = debug_exit_wanted,
	.init = debug_exit_init,
};
