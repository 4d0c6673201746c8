/* test_gdb_packet.c: GDB remote-protocol framing, checksums, escaping and
 * hex parsing of the stub (src/debug/gdb_packet.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "debug/gdb_packet.h"

static enum gdb_rx_event feed(struct gdb_rx *rx, const char *s, size_t len)
{
	enum gdb_rx_event ev = GDB_RX_NONE;

	for (size_t i = 0; i < len; i++) {
		ev = gdb_rx_feed(rx, (uint8_t)s[i]);
		if (ev != GDB_RX_NONE && i + 1 < len)
			fail_msg("event before the end of the input at %zu", i);
	}
	return ev;
}

static void good_packet(void **state)
{
	struct gdb_rx rx;

	gdb_rx_reset(&rx);
	assert_int_equal(feed(&rx, "$g#67", 5), GDB_RX_PACKET);
	assert_string_equal(rx.buf, "g");
	assert_int_equal(gdb_rx_feed(&rx, '+'), GDB_RX_ACK);
	assert_int_equal(feed(&rx, "$qC#b4", 6), GDB_RX_PACKET);
	assert_string_equal(rx.buf, "qC");
}

static void bad_checksum_and_junk(void **state)
{
	struct gdb_rx rx;

	gdb_rx_reset(&rx);
	assert_int_equal(feed(&rx, "$g#00", 5), GDB_RX_BAD_CHECKSUM);
	assert_int_equal(feed(&rx, "$g#zz", 4), GDB_RX_BAD_CHECKSUM);
	gdb_rx_reset(&rx);
	assert_int_equal(gdb_rx_feed(&rx, 0x03), GDB_RX_INTERRUPT);
	assert_int_equal(gdb_rx_feed(&rx, '-'), GDB_RX_NAK);
	assert_int_equal(gdb_rx_feed(&rx, 'x'), GDB_RX_NONE);
	/* A '$' inside a packet restarts it (a client that gave up mid-way). */
	assert_int_equal(feed(&rx, "$m10$g#67", 9), GDB_RX_PACKET);
	assert_string_equal(rx.buf, "g");
}

static void overlong_packet(void **state)
{
	static char big[GDB_PACKET_MAX + 100];
	struct gdb_rx rx;
	uint8_t sum = 0;
	char tail[4];

	gdb_rx_reset(&rx);
	memset(big, 'a', sizeof(big));
	gdb_rx_feed(&rx, '$');
	for (size_t i = 0; i < sizeof(big); i++) {
		gdb_rx_feed(&rx, (uint8_t)big[i]);
		sum = (uint8_t)(sum + 'a');
	}
	snprintf(tail, sizeof(tail), "#%02x", sum);
	assert_int_equal(feed(&rx, tail, 3), GDB_RX_OVERLONG);
	assert_int_equal(feed(&rx, "$g#67", 5), GDB_RX_PACKET);
}

static void framing_and_escapes(void **state)
{
	char out[64], data[] = "a#b}c";
	int n;

	n = gdb_frame("OK", 2, false, out, sizeof(out));
	assert_int_equal(n, 6);
	assert_memory_equal(out, "$OK#9a", 6);
	n = gdb_frame(data, 5, true, out, sizeof(out));
	assert_memory_equal(out, "$a}\x03" "b}]c#", 9);
	assert_int_equal(gdb_unescape(out + 1, (size_t)n - 4), 5);
	assert_memory_equal(out + 1, data, 5);
	assert_int_equal(gdb_frame("OK", 2, false, out, 5), -1);
}

static void hex_helpers(void **state)
{
	const char *p = "1f,20";
	uint64_t v;
	uint8_t b[2];
	char hex[5];

	assert_int_equal(gdb_parse_hex(&p, ",", &v), 0);
	assert_int_equal(v, 0x1f);
	assert_string_equal(p, ",20");
	p = "12345678901234567";
	assert_int_equal(gdb_parse_hex(&p, "", &v), -1);
	p = ",";
	assert_int_equal(gdb_parse_hex(&p, ",", &v), -1);
	p = "1g";
	assert_int_equal(gdb_parse_hex(&p, "", &v), -1);
	assert_int_equal(gdb_hex_decode("a0FF", b, 2), 0);
	assert_int_equal(b[0], 0xa0);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(gdb_hex_decode("a", b, 1), -1);
	gdb_hex_encode(b, 2, hex);
	assert_string_equal(hex, "a0ff");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_packet),
		cmocka_unit_test(bad_checksum_and_junk),
		cmocka_unit_test(overlong_packet),
		cmocka_unit_test(framing_and_escapes),
		cmocka_unit_test(hex_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
