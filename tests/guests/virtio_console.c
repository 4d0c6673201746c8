/* virtio_console.c: a polling test guest for virtio-console on the
 * in-monitor virtio-pci transport. mode=single (no MULTIPORT): writes a
 * line through port 0, emergency-writes one through emerg_wr, sends a
 * transmit buffer the device may write (it must come back unused) and
 * reads a line of host input. mode=multiport: the control handshake
 * (DEVICE_READY, PORT_ADD, PORT_READY, CONSOLE_PORT, PORT_NAME, PORT_OPEN)
 * as Linux does it, then a line through named port 1. Reports on COM1. */
#include "lib.h"
#include "vio.h"

#define VIRTIO_ID_CONSOLE 3
#define F_SIZE (1ULL << 0)
#define F_MULTIPORT (1ULL << 1)
#define F_EMERG_WRITE (1ULL << 2)
#define BAD_ID 0xffffffffu
enum { DEVICE_READY, PORT_ADD, PORT_REMOVE, PORT_READY, CONSOLE_PORT, RESIZE, PORT_OPEN,
       PORT_NAME };

struct control { uint32_t id; uint16_t event, value; };
struct console_config { uint16_t cols, rows; uint32_t max_nr_ports, emerg_wr; };

static struct vio_dev d;
static struct vio_queue q[6];
static uint8_t rxbuf[128], junk[16];
static uint8_t ctrl_bufs[4][96];

static void send(struct vio_queue *vq, const char *s)
{
	vio_call(vq, s, (uint32_t)strlen(s), 0, 0);
}

static void emergency_write(const char *s)
{
	volatile uint32_t *emerg = (volatile uint32_t *)(d.config + 8);

	while (*s)
		*emerg = (uint8_t)*s++;
}

static void single(void)
{
	volatile struct console_config *cfg = (volatile struct console_config *)d.config;
	int used;

	report_dec("con.max_nr_ports", cfg->max_nr_ports);
	report_dec("con.cols", cfg->cols);
	report_dec("con.rows", cfg->rows);
	send(&q[1], "hvc0 says hello through port 0\n");
	if (d.features & F_EMERG_WRITE)
		emergency_write("emergency line via emerg_wr\n");
	report_dec("con.writable_tx.used", (uint64_t)vio_call(&q[1], 0, 0, junk, sizeof(junk)));
	used = vio_call(&q[0], 0, 0, rxbuf, sizeof(rxbuf) - 1);
	report_dec("con.rx.used", (uint64_t)used);
	if (used > 0) {
		rxbuf[used] = 0;
		for (int i = 0; i < used; i++)
			if (rxbuf[i] == '\n' || rxbuf[i] == '\r')
				rxbuf[i] = 0;
		report_str("con.rx", (const char *)rxbuf);
	}
}

static void control(uint32_t id, uint16_t event, uint16_t value)
{
	struct control c = { id, event, value };

	vio_call(&q[3], &c, sizeof(c), 0, 0);
}

/* Handles one device->driver message; returns 1 when port 1 is open. */
static int on_message(const uint8_t *buf, uint32_t len)
{
	struct control c;

	if (len < sizeof(c)) {
		report_dec("con.short_message", len);
		return 0;
	}
	memcpy(&c, buf, sizeof(c));
	switch (c.event) {
	case PORT_ADD:
		report_dec("con.port_add", c.id);
		control(c.id, PORT_READY, 1);
		return 0;
	case CONSOLE_PORT:
		report_dec("con.console_port", c.id);
		control(c.id, PORT_OPEN, 1); /* as Linux's hvc does */
		return 0;
	case PORT_NAME: {
		char name[80];
		uint32_t n = len - sizeof(c) < sizeof(name) - 1 ? len - sizeof(c) : sizeof(name) - 1;

		memcpy(name, buf + sizeof(c), n);
		name[n] = 0;
		report_str("con.port_name", name);
		return 0;
	}
	case PORT_OPEN:
		report_dec(c.id ? "con.host_open.1" : "con.host_open.0", c.value);
		return c.id == 1 && c.value;
	default:
		report_dec("con.event", c.event);
		return 0;
	}
}

static void multiport(void)
{
	uint32_t len;
	int head, done = 0;

	for (int i = 0; i < 4; i++)
		vio_post(&q[2], 0, 0, ctrl_bufs[i], sizeof(ctrl_bufs[i]));
	vio_call(&q[3], "bad", 3, 0, 0); /* too short for a control message */
	control(9, PORT_OPEN, 1);        /* no such port */
	control(BAD_ID, DEVICE_READY, 1);
	for (int n = 0; n < 16 && !done; n++) {
		head = vio_poll(&q[2], &len, 10000000u);
		if (head < 0) {
			report_str("con.control", "timeout");
			break;
		}
		done = on_message(ctrl_bufs[head / 2], len);
		vio_post(&q[2], 0, 0, ctrl_bufs[head / 2], sizeof(ctrl_bufs[0]));
	}
	control(1, PORT_OPEN, 1);
	send(&q[5], "named port 1 says hello\n");
	send(&q[1], "console port 0 in multiport mode\n");
}

void guest_main(uint8_t *boot_params)
{
	const char *cmdline = (const char *)(uintptr_t)(*(uint32_t *)(boot_params + 0x228));
	char mode[16];
	int multi;

	puts_serial("kvmini test guest: virtio_console\n");
	cmdline_get(cmdline, "mode", mode, sizeof(mode));
	multi = !memcmp(mode, "multiport", 10);
	if (vio_find(VIRTIO_ID_CONSOLE, &d) || vio_init(&d, F_SIZE | F_EMERG_WRITE | (multi ? F_MULTIPORT : 0))) {
		report_str("virtio_console", "no device");
		guest_reset();
	}
	for (int i = 0; i < (multi ? 6 : 2); i++)
		if (vio_queue_setup(&d, &q[i], (uint16_t)i)) {
			report_dec("virtio_console.no_queue", (uint64_t)i);
			guest_reset();
		}
	vio_driver_ok(&d);
	report_hex("con.features", d.features);
	if (multi)
		multiport();
	else
		single();
	puts_serial("virtio_console: done\n");
	guest_reset();
}
