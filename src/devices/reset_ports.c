/* reset_ports.c: System Control Port A (0x92): its bit 0 resets the
 * machine, which ends kvmini with status 0. (The reset control register
 * at 0xcf9 shares its port with the PCI address register: devices/pci.c.) */
#include <string.h>

#include "devices/devices.h"
#include "util/log.h"
#include "vm/vm.h"

#define PORT_A    0x92
#define PORT_A_RESET 0x01

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

static int reset_ports_init(struct vm *vm)
{
	return io_bus_register(&vm->pio, PORT_A, 1, port_a_io, vm);
}

const struct device_ops reset_ports_device = { .name = "reset ports", .init = reset_ports_init };
