/* serial.h: the 16550A UARTs (COM1 on the console, COM2 with --serial2). */
#ifndef KVMINI_SERIAL_H
#define KVMINI_SERIAL_H

#include <stddef.h>
#include <stdint.h>

struct serial;

/* Queues bytes the console received for the guest to read. */
void serial_receive(struct serial *s, const uint8_t *buf, size_t len);

#endif
