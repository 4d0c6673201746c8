/* gdb_packet.h: GDB remote serial protocol framing: `$data#cs` packets,
 * checksums, `+`/`-` acknowledgements, the 0x03 interrupt byte, binary
 * escaping, and hex helpers shared by the command handlers. */
#ifndef KVMINI_GDB_PACKET_H
#define KVMINI_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest packet payload accepted or sent (advertised as PacketSize). */
#define GDB_PACKET_MAX 4096

enum gdb_rx_state { RX_IDLE, RX_DATA, RX_CSUM1, RX_CSUM2 };

/* What one received byte completed. */
enum gdb_rx_event {
	GDB_RX_NONE,        /* nothing yet */
	GDB_RX_PACKET,      /* a whole packet with a good checksum is in buf */
	GDB_RX_BAD_CHECKSUM,
	GDB_RX_OVERLONG,    /* a packet longer than GDB_PACKET_MAX (dropped) */
	GDB_RX_INTERRUPT,   /* 0x03 outside a packet */
	GDB_RX_ACK,
	GDB_RX_NAK,
};

struct gdb_rx {
	enum gdb_rx_state state;
	char buf[GDB_PACKET_MAX + 1]; /* NUL-terminated payload */
	size_t len;
	bool overflow;
	uint8_t sum;
	uint8_t csum;
};

void gdb_rx_reset(struct gdb_rx *rx);
/* Feeds one byte of the client's stream. */
enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, uint8_t byte);

/* Frames `len` bytes as `$data#cs` into out (size >= 2 * len + 4), escaping
 * `#`, `$`, `}` and `*` when `binary`; returns the framed length or -1. */
int gdb_frame(const char *data, size_t len, bool binary, char *out, size_t size);

/* Undoes `}`-escaping of binary data in place; returns the new length. */
size_t gdb_unescape(char *data, size_t len);

/* Hex helpers: -1 on a non-hex digit. */
int gdb_hex_digit(char c);
/* Decodes 2*n hex digits into n bytes; -1 on junk. */
int gdb_hex_decode(const char *hex, uint8_t *out, size_t n);
/* Encodes n bytes as 2*n hex digits plus a NUL. */
void gdb_hex_encode(const uint8_t *in, size_t n, char *out);
/* Parses a hex number ending at a char in `stops` (or the end); advances *p.
 * Returns -1 if there are no digits, junk, or more than 16 digits. */
int gdb_parse_hex(const char **p, const char *stops, uint64_t *out);

#endif
