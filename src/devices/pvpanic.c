/* pvpanic.c: the pvpanic I/O port at 0x505 (ACPI QEMU0001): the guest
 * writes 1 when it panics, 2 when it loads a crash kernel, 4 on shutdown. */
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "util/log.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

#define PVPANIC_PORT 0x505
#define PVPANIC_PANICKED     0x1
#define PVPANIC_CRASH_LOADED 0x2
#define PVPANIC_SHUTDOWN     0x4
#define PVPANIC_EVENTS (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED | PVPANIC_SHUTDOWN)

static void pvpanic_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;

	if (!is_write) {
		memset(data, 0, len);
		data[0] = PVPANIC_EVENTS;
		return;
	}
	if (data[0] & PVPANIC_PANICKED) {
		error("guest kernel panicked (pvpanic)");
		vm_guest_event(vm, vcpu_current(), VM_EVENT_PANIC, EXIT_GUEST_PANIC);
	} else if (data[0] & PVPANIC_CRASH_LOADED) {
		info("guest is loading a crash kernel (pvpanic)");
	} else if (data[0] & PVPANIC_SHUTDOWN) {
		info("guest shut down (pvpanic)");
		vm_request_exit(vm, EXIT_SHUTDOWN);
	}
}

static int pvpanic_init(struct vm *vm)
{
	return io_bus_register(&vm->pio, PVPANIC_PORT, 1, pvpanic_io, vm);
}

const struct device_ops pvpanic_device = { .name = "pvpanic", .init = pvpanic_init };
