/* reset_ports.c: the PCI reset control register (0xcf9) and System Control
 * Port A (0x92): both reset the machine, which ends kvmini with status 0. */
#include <string.h>

#include "devices/devices.h"
#include "util/log.h"
#include "vm/vm.h"

#define PORT_A    0x92
#define RESET_CF9 0xcf9
#define PORT_A_RESET 0x01
#define CF9_RESET    0x04

static void port_a_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	if (!is_write) {
		memset(data, 0, len);
		data[0] = 0x02; /* A20 enabled */
	} else if (data[0] & PORT_A_RESET) {
		info("guest reset the machine (port 0x92)");
		vm_request_exit(opaque, EXIT_SHUTDOWN);
	}
}

static void cf9_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	if (!is_write) {
		memset(data, 0, len);
	} else if (data[0] & CF9_RESET) {
		info("guest reset the machine (port 0xcf9)");
		vm_request_exit(opaque, EXIT_SHUTDOWN);
	}
}

static int reset_ports_init(struct vm *vm)
{
	return io_bus_register(&vm->pio, PORT_A, 1, port_a_io, vm) ||
	       io_bus_register(&vm->pio, RESET_CF9, 1, cf9_io, vm);
}

const struct device_ops reset_ports_device = { .name = "reset ports", .init = reset_ports_init };
