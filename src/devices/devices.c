/* devices.c: the table of platform devices created for every VM. */
#include "devices/devices.h"

#include <stddef.h>

#include "util/log.h"
#include "vm/vm.h"

static const struct device_ops *const platform_devices[] = {
	&serial_device,
	&serial2_device,
	&i8042_device,
	&rtc_device,
	&pvpanic_device,
	&acpi_pm_device,
	&reset_ports_device,
	&post_code_device,
	&debug_exit_device,
	&fw_cfg_device,
};

int devices_init(struct vm *vm)
{
	for (size_t i = 0; i < sizeof(platform_devices) / sizeof(platform_devices[0]); i++) {
		const struct device_ops *d = platform_devices[i];

		if (d->wanted && !d->wanted(vm))
			continue;
		if (d->init(vm))
			return error("cannot create the %s device", d->name);
	}
	return 0;
}
