/* devices.h: the platform's device table. Each device file defines one
 * `struct device_ops` and is listed in devices.c, as in kvmtool. */
#ifndef KVMINI_DEVICES_H
#define KVMINI_DEVICES_H

#include <stdbool.h>

struct vm;

struct device_ops {
	const char *name;
	/* Whether this VM wants the device (e.g. --debug-exit); NULL: always. */
	bool (*wanted)(const struct vm *vm);
	/* Allocates the device's state and registers its I/O ranges. */
	int (*init)(struct vm *vm);
};

extern const struct device_ops serial_device;
extern const struct device_ops serial2_device;
extern const struct device_ops i8042_device;
extern const struct device_ops rtc_device;
extern const struct device_ops pvpanic_device;
extern const struct device_ops debug_exit_device;
extern const struct device_ops acpi_pm_device;
extern const struct device_ops reset_ports_device;
extern const struct device_ops post_code_device;
extern const struct device_ops fw_cfg_device;

/* Creates every wanted platform device. */
int devices_init(struct vm *vm);

#endif
