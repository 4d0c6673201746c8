/* serial.c: 8250/16550A UARTs: COM1 at 0x3f8 (IRQ 4) on the console and,
 * with --serial2, COM2 at 0x2f8 (IRQ 3) on its own back end (for in-guest
 * kgdboc): transmit, receive, interrupts, loopback and the divisor latch. */
#include "devices/serial.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "console/console.h"
#include "devices/devices.h"
#include "util/log.h"
#include "vm/vm.h"

#define COM1_PORT 0x3f8
#define COM1_IRQ  4
#define COM2_PORT 0x2f8
#define COM2_IRQ  3
#define RX_FIFO   1024

#define UART_RX   0 /* in, DLAB=0 */
#define UART_TX   0 /* out, DLAB=0 */
#define UART_IER  1
#define UART_IIR  2 /* in */
#define UART_FCR  2 /* out */
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define UART_MSR  6
#define UART_SCR  7

#define IER_RDI  0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI  0x04
#define IIR_FIFO 0xc0
#define FCR_FIFO_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR   0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_IDLE 0xb0 /* DCD, DSR, CTS */

struct serial {
	struct vm *vm;
	uint32_t irq;
	struct console **console; /* where output goes: &vm->console or &vm->console2 */
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;
	int irq_level;
	uint8_t rx[RX_FIFO];
	size_t rx_head, rx_count;
};

static uint8_t pending_iir(const struct serial *s)
{
	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return IIR_THRI;
	return IIR_NO_INT;
}

static void update_irq(struct serial *s)
{
	int level = pending_iir(s) != IIR_NO_INT;

	if (level != s->irq_level) {
		s->irq_level = level;
		vm_set_irq(s->vm, s->irq, level);
	}
}

static void rx_push(struct serial *s, uint8_t b)
{
	if (s->rx_count == RX_FIFO)
		return; /* overrun: the byte is lost, as on hardware */
	s->rx[(s->rx_head + s->rx_count++) % RX_FIFO] = b;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t b;

	if (!s->rx_count)
		return 0;
	b = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % RX_FIFO;
	s->rx_count--;
	return b;
}

static uint8_t loopback_msr(uint8_t mcr)
{
	return (uint8_t)(((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x0c) << 4));
}

static void serial_write(struct serial *s, uint64_t off, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (off) {
	case UART_TX:
		if (dlab) {
			s->dll = v;
		} else {
			if (s->mcr & MCR_LOOP)
				rx_push(s, v);
			else
				console_write(*s->console, &v, 1);
			s->thri_pending = true;
		}
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = v;
		} else {
			if ((v & IER_THRI) && !(s->ier & IER_THRI))
				s->thri_pending = true;
			s->ier = v & 0x0f;
		}
		break;
	case UART_FCR:
		s->fcr = v;
		if (v & FCR_CLEAR_RX)
			s->rx_count = 0;
		break;
	case UART_LCR: s->lcr = v; break;
	case UART_MCR: s->mcr = v & 0x1f; break;
	case UART_SCR: s->scr = v; break;
	default: break; /* LSR and MSR are read-only */
	}
}

static uint8_t serial_read(struct serial *s, uint64_t off)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t iir;

	switch (off) {
	case UART_RX:
		return dlab ? s->dll : rx_pop(s);
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR:
		iir = pending_iir(s);
		if (iir == IIR_THRI)
			s->thri_pending = false;
		return (uint8_t)(iir | ((s->fcr & FCR_FIFO_ENABLE) ? IIR_FIFO : 0));
	case UART_LCR: return s->lcr;
	case UART_MCR: return s->mcr;
	case UART_LSR: return (uint8_t)(LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0));
	case UART_MSR: return (s->mcr & MCR_LOOP) ? loopback_msr(s->mcr) : MSR_IDLE;
	default: return s->scr;
	}
}

static void serial_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	if (is_write) {
		serial_write(s, off, data[0]);
	} else {
		memset(data, 0, len);
		data[0] = serial_read(s, off);
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < len; i++)
		rx_push(s, buf[i]);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static struct serial *serial_create(struct vm *vm, uint16_t port, uint32_t irq,
				    struct console **console)
{
	struct serial *s = vm_zalloc(vm, sizeof(*s));

	if (!s) {
		error("out of memory for the UART at 0x%x", port);
		return NULL;
	}
	s->vm = vm;
	s->irq = irq;
	s->console = console;
	pthread_mutex_init(&s->lock, NULL);
	if (io_bus_register(&vm->pio, port, 8, serial_io, s))
		return NULL;
	return s;
}

static int serial_init(struct vm *vm)
{
	vm->com1 = serial_create(vm, COM1_PORT, COM1_IRQ, &vm->console);
	return vm->com1 ? 0 : -1;
}

static bool serial2_wanted(const struct vm *vm)
{
	return vm->cfg.serial2 != NULL;
}

static int serial2_init(struct vm *vm)
{
	vm->com2 = serial_create(vm, COM2_PORT, COM2_IRQ, &vm->console2);
	return vm->com2 ? 0 : -1;
}

const struct device_ops serial_device = { .name = "COM1 serial port", .init = serial_init };
const struct device_ops serial2_device = {
	.name = "COM2 serial port",
	.wanted = serial2_wanted,
	.init = serial2_init,
};
