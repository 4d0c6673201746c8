/* gdb_packet.c: GDB remote serial protocol framing and hex encoding. */
#include "debug/gdb_packet.h"

#include <string.h>

#define INTERRUPT_BYTE 0x03

void gdb_rx_reset(struct gdb_rx *rx)
{
	rx->state = RX_IDLE;
	rx->len = 0;
	rx->overflow = false;
	rx->sum = 0;
	rx->csum = 0;
	rx->buf[0] = '\0';
}

static enum gdb_rx_event rx_idle(struct gdb_rx *rx, uint8_t byte)
{
	switch (byte) {
	case '$':
		gdb_rx_reset(rx);
		rx->state = RX_DATA;
		return GDB_RX_NONE;
	case INTERRUPT_BYTE: return GDB_RX_INTERRUPT;
	case '+': return GDB_RX_ACK;
	case '-': return GDB_RX_NAK;
	default: return GDB_RX_NONE; /* line noise between packets */
	}
}

static enum gdb_rx_event rx_checksum_done(struct gdb_rx *rx)
{
	bool good = rx->csum == rx->sum;

	rx->state = RX_IDLE;
	rx->buf[rx->overflow ? 0 : rx->len] = '\0';
	if (!good)
		return GDB_RX_BAD_CHECKSUM;
	return rx->overflow ? GDB_RX_OVERLONG : GDB_RX_PACKET;
}

enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, uint8_t byte)
{
	int digit;

	switch (rx->state) {
	case RX_IDLE:
		return rx_idle(rx, byte);
	case RX_DATA:
		if (byte == '#') {
			rx->state = RX_CSUM1;
		} else if (byte == '$') {
			gdb_rx_reset(rx); /* a new packet restarts framing */
			rx->state = RX_DATA;
		} else {
			rx->sum = (uint8_t)(rx->sum + byte);
			if (rx->len < GDB_PACKET_MAX)
				rx->buf[rx->len++] = (char)byte;
			else
				rx->overflow = true;
		}
		return GDB_RX_NONE;
	case RX_CSUM1:
	case RX_CSUM2:
		digit = gdb_hex_digit((char)byte);
		if (digit < 0) {
			rx->state = RX_IDLE;
			return GDB_RX_BAD_CHECKSUM;
		}
		rx->csum = (uint8_t)((rx->csum << 4) | digit);
		if (rx->state == RX_CSUM1) {
			rx->state = RX_CSUM2;
			return GDB_RX_NONE;
		}
		return rx_checksum_done(rx);
	}
	return GDB_RX_NONE;
}

static bool needs_escape(char c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

int gdb_frame(const char *data, size_t len, bool binary, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	uint8_t sum = 0;

	if (size < 4)
		return -1;
	out[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (n + 2 + 3 > size)
			return -1;
		if (binary && needs_escape(c)) {
			out[n++] = '}';
			sum = (uint8_t)(sum + '}');
			c ^= 0x20;
		}
		out[n++] = c;
		sum = (uint8_t)(sum + (uint8_t)c);
	}
	out[n++] = '#';
	out[n++] = hex[sum >> 4];
	out[n++] = hex[sum & 0xf];
	return (int)n;
}

size_t gdb_unescape(char *data, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '}' && i + 1 < len)
			data[out++] = (char)(data[++i] ^ 0x20);
		else
			data[out++] = data[i];
	}
	return out;
}

int gdb_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gdb_hex_decode(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = gdb_hex_digit(hex[2 * i]);
		int lo = hi < 0 ? -1 : gdb_hex_digit(hex[2 * i + 1]);

		if (lo < 0)
			return -1;
		out[i] = (uint8_t)((hi << 4) | lo);
	}
	return 0;
}

void gdb_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int gdb_parse_hex(const char **p, const char *stops, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	while (*s && !strchr(stops, *s)) {
		int d = gdb_hex_digit(*s++);

		if (d < 0 || ++digits > 16)
			return -1;
		v = (v << 4) | (uint64_t)d;
	}
	if (!digits)
		return -1;
	*out = v;
	*p = s;
	return 0;
}
