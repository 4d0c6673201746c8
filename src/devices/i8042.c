/* i8042.c: the PS/2 keyboard controller at 0x60/0x64, enough for an OS to
 * probe it and to reset the machine through it (command 0xFE). No mouse. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "util/log.h"
#include "vm/vm.h"

#define I8042_DATA 0x60
#define I8042_CMD  0x64

#define STS_OBF    0x01
#define STS_SYS    0x04
#define STS_CMD    0x08

#define CMD_READ_CTR    0x20
#define CMD_WRITE_CTR   0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE  0xa8
#define CMD_AUX_TEST    0xa9
#define CMD_SELF_TEST   0xaa
#define CMD_KBD_TEST    0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE  0xae
#define CMD_READ_OUTP   0xd0
#define CMD_WRITE_OUTP  0xd1
#define CMD_PULSE_RESET 0xfe

#define KBD_RESET  0xff
#define KBD_ACK    0xfa
#define KBD_BAT_OK 0xaa

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ctr;          /* controller configuration byte */
	uint8_t status;
	uint8_t pending_cmd;  /* command awaiting its data byte */
	uint8_t out[4];
	int out_count;
};

static void push(struct i8042 *k, uint8_t b)
{
	if (k->out_count < (int)sizeof(k->out))
		k->out[k->out_count++] = b;
}

static uint8_t pop(struct i8042 *k)
{
	uint8_t b = k->out[0];

	if (!k->out_count)
		return 0;
	memmove(k->out, k->out + 1, (size_t)--k->out_count);
	return b;
}

static void reset_machine(struct i8042 *k)
{
	info("guest reset the machine (i8042)");
	vm_request_exit(k->vm, EXIT_SHUTDOWN);
}

static void command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:    push(k, k->ctr); break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:  k->pending_cmd = cmd; break;
	case CMD_SELF_TEST:   push(k, 0x55); break;
	case CMD_KBD_TEST:    push(k, 0x00); break;
	case CMD_AUX_TEST:    push(k, 0xff); break; /* no auxiliary port */
	case CMD_READ_OUTP:   push(k, 0x01); break;
	case CMD_KBD_DISABLE: k->ctr |= 0x10; break;
	case CMD_KBD_ENABLE:  k->ctr &= (uint8_t)~0x10; break;
	case CMD_AUX_DISABLE:
	case CMD_AUX_ENABLE:  break;
	default:
		/* 0xF0-0xFF pulse output lines; line 0 low is the CPU reset. */
		if (cmd >= 0xf0 && !(cmd & 1))
			reset_machine(k);
		break;
	}
}

static void data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	if (cmd == CMD_WRITE_CTR) {
		k->ctr = v;
	} else if (cmd == CMD_WRITE_OUTP) {
		if (!(v & 1))
			reset_machine(k);
	} else {
		push(k, KBD_ACK); /* a keyboard that acknowledges everything */
		if (v == KBD_RESET)
			push(k, KBD_BAT_OK);
	}
}

static void i8042_access(struct i8042 *k, bool cmd_port, uint8_t *data, uint32_t len,
			 bool is_write)
{
	pthread_mutex_lock(&k->lock);
	if (is_write) {
		k->status = (uint8_t)((k->status & ~STS_CMD) | (cmd_port ? STS_CMD : 0));
		if (cmd_port)
			command(k, data[0]);
		else
			data_write(k, data[0]);
	} else {
		memset(data, 0, len);
		if (cmd_port)
			data[0] = (uint8_t)(k->status | STS_SYS | (k->out_count ? STS_OBF : 0));
		else
			data[0] = pop(k);
	}
	pthread_mutex_unlock(&k->lock);
}

static void data_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	i8042_access(opaque, false, data, len, is_write);
}

static void cmd_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	i8042_access(opaque, true, data, len, is_write);
}

static int i8042_init(struct vm *vm)
{
	struct i8042 *k = vm_zalloc(vm, sizeof(*k));

	if (!k)
		return error("out of memory for the i8042");
	k->vm = vm;
	k->ctr = 0x45; /* keyboard interrupt, system flag, translation */
	pthread_mutex_init(&k->lock, NULL);
	return io_bus_register(&vm->pio, I8042_DATA, 1, data_io, k) ||
	       io_bus_register(&vm->pio, I8042_CMD, 1, cmd_io, k);
}

const struct device_ops i8042_device = { .name = "i8042", .init = i8042_init };
