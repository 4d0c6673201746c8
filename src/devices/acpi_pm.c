/* acpi_pm.c: the ACPI PM1a event and control registers (ports 0x600-0x607):
 * writing SLP_TYP=S5 with SLP_EN powers the VM off. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/x86.h"
#include "devices/devices.h"
#include "util/log.h"
#include "vm/vm.h"

#define PM1_STS 0
#define PM1_EN  2
#define PM1_CNT (PORT_ACPI_PM1_CNT - PORT_ACPI_PM1_EVT)
#define CNT_SCI_EN 0x0001
#define CNT_SLP_EN 0x2000
#define CNT_SLP_TYP(v) (((v) >> 10) & 7)

struct acpi_pm {
	struct vm *vm;
	pthread_mutex_t lock;
	uint16_t sts, en, cnt;
};

static uint16_t *reg(struct acpi_pm *pm, uint64_t off)
{
	switch (off & ~1ULL) {
	case PM1_STS: return &pm->sts;
	case PM1_EN:  return &pm->en;
	case PM1_CNT: return &pm->cnt;
	default:      return NULL;
	}
}

static void acpi_pm_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct acpi_pm *pm = opaque;
	uint16_t *r = reg(pm, off), v = 0;

	memcpy(&v, data, len < 2 ? len : 2);
	pthread_mutex_lock(&pm->lock);
	if (!is_write) {
		memset(data, 0, len);
		if (r)
			memcpy(data, r, len < 2 ? len : 2);
	} else if (r == &pm->sts) {
		pm->sts &= (uint16_t)~v; /* write one to clear */
	} else if (r == &pm->en) {
		pm->en = v;
	} else if (r == &pm->cnt) {
		pm->cnt = (uint16_t)((v & ~CNT_SLP_EN) | CNT_SCI_EN);
		if ((v & CNT_SLP_EN) && CNT_SLP_TYP(v) == ACPI_S5_SLP_TYP) {
			info("guest powered off (ACPI S5)");
			vm_request_exit(pm->vm, EXIT_SHUTDOWN);
		}
	}
	pthread_mutex_unlock(&pm->lock);
}

static int acpi_pm_init(struct vm *vm)
{
	struct acpi_pm *pm = vm_zalloc(vm, sizeof(*pm));

	if (!pm)
		return error("out of memory for ACPI PM");
	pm->vm = vm;
	pm->cnt = CNT_SCI_EN; /* no SMM: ACPI mode from the start */
	pthread_mutex_init(&pm->lock, NULL);
	return io_bus_register(&vm->pio, PORT_ACPI_PM1_EVT, 8, acpi_pm_io, pm);
}

const struct device_ops acpi_pm_device = { .name = "ACPI PM", .init = acpi_pm_init };
