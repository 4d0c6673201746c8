/* test_virtio_console.c: virtio-console against a fake driver: buffers of
 * the wrong direction on the transmit, receive and control queues fail
 * alone and are counted, malformed chains too; short and unknown control
 * messages are refused; the MULTIPORT handshake announces the ports with
 * their names; host input waits for the guest's buffers and for a named
 * port to be opened; emergency writes reach port 0's back end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console/console.h"
#include "fake_driver.h"
#include "virtio/console.h"
#include "virtio/console_ports.h"

enum { Q_RX0, Q_TX0, Q_CRX, Q_CTX, Q_RX1, Q_TX1 };
enum { DEVICE_READY, PORT_ADD, PORT_REMOVE, PORT_READY, CONSOLE_PORT, RESIZE, PORT_OPEN,
       PORT_NAME };
struct control { uint32_t id; uint16_t event, value; };

struct fixture {
	struct fake_driver *f;
	char path0[64], path1[64];
};

static struct console *file_backend(struct fake_driver *f, char *path, const char *name)
{
	struct console_sink sink = { 0 };
	char spec[80];
	int fd;

	strcpy(path, "/tmp/kvmini-vcon-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "file:%s", path);
	return console_open_on(&f->loop, spec, name, &sink);
}

/* Port 0 on a file, a named port "test.port" on another; started with
 * `features` (bit 1: MULTIPORT). */
static struct fixture *setup(uint64_t features)
{
	struct fixture *x = calloc(1, sizeof(*x));

	x->f = fd_new();
	assert_int_equal(virtio_console_init(&x->f->dev, 2), 0);
	assert_int_equal(virtio_console_set_console(&x->f->dev,
						    file_backend(x->f, x->path0, "console"), true), 0);
	assert_int_equal(virtio_console_add_port(&x->f->dev, "test.port",
						 file_backend(x->f, x->path1, "test.port")), 0);
	assert_int_equal(fd_start(x->f, features), 0);
	return x;
}

static void teardown(struct fixture *x)
{
	virtio_console_destroy(&x->f->dev);
	unlink(x->path0);
	unlink(x->path1);
	fd_free(x->f);
	free(x);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);

	fclose(fp);
	buf[n] = 0;
	return buf;
}

static struct vcon_stats stats(struct fixture *x)
{
	struct vcon_stats s;

	virtio_console_stats(&x->f->dev, &s);
	return s;
}

static void transmit_refuses_writable_buffers(void **state)
{
	struct fixture *x = setup(0);
	struct fake_driver *f = x->f;
	uint32_t id, len;
	struct fake_buf good = { fd_alloc(f, "hello\n", 6), 6, 0 };
	struct fake_buf writable = { fd_alloc(f, "XXXX", 4), 4, 1 };
	struct fake_buf mixed[2] = { { fd_alloc(f, "YYYY", 4), 4, 0 }, { fd_alloc(f, NULL, 4), 4, 1 } };
	struct fake_buf outside = { FD_GPA + FD_MEM - 2, 16, 0 };

	fd_kick(f, Q_TX0, &writable, 1);
	fd_kick(f, Q_TX0, mixed, 2);
	fd_kick(f, Q_TX0, &outside, 1);
	fd_kick(f, Q_TX0, &good, 1);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(fd_used(f, Q_TX0, &id, &len), 1);
		assert_int_equal(len, 0);
	}
	assert_string_equal(slurp(x->path0), "hello\n"); /* only the good one */
	assert_int_equal(stats(x).bad_chains, 2);
	assert_int_equal(f->dev.vqs[Q_TX0].errors, 1); /* the one outside memory */
	assert_true(f->interrupts[Q_TX0] > 0);
	teardown(x);
}

static void receive_refuses_readable_buffers(void **state)
{
	struct fixture *x = setup(0);
	struct fake_driver *f = x->f;
	uint64_t in1 = fd_alloc(f, NULL, 2), in2 = fd_alloc(f, NULL, 8);
	struct fake_buf readable = { fd_alloc(f, "RRRR", 4), 4, 0 };
	struct fake_buf w1 = { in1, 2, 1 }, w2 = { in2, 8, 1 };
	uint32_t id, len;

	virtio_console_input(&f->dev, 0, (const uint8_t *)"abc", 3); /* no buffers yet: kept */
	assert_int_equal(fd_used(f, Q_RX0, &id, &len), 0);
	fd_kick(f, Q_RX0, &readable, 1);
	assert_int_equal(fd_used(f, Q_RX0, &id, &len), 1);
	assert_int_equal(len, 0);
	assert_memory_equal(fd_ptr(f, readable.gpa), "RRRR", 4); /* never written */
	fd_kick(f, Q_RX0, &w1, 1);
	assert_int_equal(fd_used(f, Q_RX0, &id, &len), 1);
	assert_int_equal(len, 2);
	assert_memory_equal(fd_ptr(f, in1), "ab", 2);
	fd_kick(f, Q_RX0, &w2, 1);
	assert_int_equal(fd_used(f, Q_RX0, &id, &len), 1);
	assert_int_equal(len, 1);
	assert_memory_equal(fd_ptr(f, in2), "c", 1);
	assert_int_equal(stats(x).bad_chains, 1);
	teardown(x);
}

static void send_control(struct fake_driver *f, uint32_t port, uint16_t event, uint16_t value)
{
	struct control c = { port, event, value };
	struct fake_buf b = { fd_alloc(f, &c, sizeof(c)), sizeof(c), 0 };
	uint32_t id, len;

	fd_kick(f, Q_CTX, &b, 1);
	assert_int_equal(fd_used(f, Q_CTX, &id, &len), 1);
}

/* Posts a control receive buffer and returns what the device put in it. */
static uint32_t receive_control(struct fake_driver *f, struct control *c, char *extra)
{
	uint64_t gpa = fd_alloc(f, NULL, 128);
	struct fake_buf b = { gpa, 128, 1 };
	uint32_t id, len;

	fd_kick(f, Q_CRX, &b, 1);
	if (!fd_used(f, Q_CRX, &id, &len))
		return 0;
	memcpy(c, fd_ptr(f, gpa), sizeof(*c));
	if (extra) {
		memcpy(extra, fd_ptr(f, gpa) + sizeof(*c), len - sizeof(*c));
		extra[len - sizeof(*c)] = 0;
	}
	return len;
}

static void control_refuses_bad_messages(void **state)
{
	struct fixture *x = setup(1ULL << 1);
	struct fake_driver *f = x->f;
	struct fake_buf shorty = { fd_alloc(f, "abcd", 4), 4, 0 };
	struct fake_buf writable = { fd_alloc(f, NULL, 8), 8, 1 };
	uint32_t id, len;
	struct control c;

	fd_kick(f, Q_CTX, &shorty, 1);
	fd_kick(f, Q_CTX, &writable, 1);
	assert_int_equal(fd_used(f, Q_CTX, &id, &len), 1);
	assert_int_equal(fd_used(f, Q_CTX, &id, &len), 1);
	assert_int_equal(stats(x).bad_chains, 2);
	send_control(f, 7, PORT_OPEN, 1);  /* no such port */
	send_control(f, 0, 42, 1);         /* no such event */
	assert_int_equal(stats(x).bad_control, 2);
	assert_int_equal(receive_control(f, &c, NULL), 0); /* nothing was answered */
	teardown(x);
}

static void multiport_handshake(void **state)
{
	struct fixture *x = setup(1ULL << 1);
	struct fake_driver *f = x->f;
	struct fake_buf tiny = { fd_alloc(f, NULL, 4), 4, 1 };
	struct control c;
	char name[80];
	uint32_t id, len;

	send_control(f, 0xffffffff, DEVICE_READY, 1);
	fd_kick(f, Q_CRX, &tiny, 1); /* too small for a message: returned, message kept */
	assert_int_equal(fd_used(f, Q_CRX, &id, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(receive_control(f, &c, NULL), 8);
	assert_true(c.id == 0 && c.event == PORT_ADD);
	assert_int_equal(receive_control(f, &c, NULL), 8);
	assert_true(c.id == 1 && c.event == PORT_ADD);
	send_control(f, 0, PORT_READY, 1);
	assert_int_equal(receive_control(f, &c, NULL), 8);
	assert_true(c.id == 0 && c.event == CONSOLE_PORT && c.value == 1);
	assert_int_equal(receive_control(f, &c, NULL), 8);
	assert_true(c.id == 0 && c.event == PORT_OPEN && c.value == 1);
	send_control(f, 1, PORT_READY, 1);
	assert_int_equal(receive_control(f, &c, name), 8 + strlen("test.port"));
	assert_true(c.id == 1 && c.event == PORT_NAME);
	assert_string_equal(name, "test.port");
	assert_int_equal(receive_control(f, &c, NULL), 8);
	assert_true(c.id == 1 && c.event == PORT_OPEN && c.value == 1);
	assert_int_equal(stats(x).bad_chains, 1);
	teardown(x);
}

static void named_port_input_waits_for_open(void **state)
{
	struct fixture *x = setup(1ULL << 1);
	struct fake_driver *f = x->f;
	uint64_t in = fd_alloc(f, NULL, 16);
	struct fake_buf w = { in, 16, 1 };
	struct fake_buf out = { fd_alloc(f, "to port 1", 9), 9, 0 };
	uint32_t id, len;

	virtio_console_input(&f->dev, 1, (const uint8_t *)"early", 5);
	fd_kick(f, Q_RX1, &w, 1);
	assert_int_equal(fd_used(f, Q_RX1, &id, &len), 0); /* the guest has not opened it */
	send_control(f, 1, PORT_OPEN, 1);
	assert_int_equal(fd_used(f, Q_RX1, &id, &len), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(fd_ptr(f, in), "early", 5);
	fd_kick(f, Q_TX1, &out, 1);
	assert_string_equal(slurp(x->path1), "to port 1");
	teardown(x);
}

static void emergency_write(void **state)
{
	struct fixture *x = setup(0);
	uint32_t v = '!';

	for (const char *s = "SOS"; *s; s++) {
		uint32_t ch = (uint8_t)*s;

		virtio_console_ops.write_config(&x->f->dev, 8, &ch, 4);
	}
	virtio_console_ops.write_config(&x->f->dev, 4, &v, 4); /* max_nr_ports: read-only */
	assert_string_equal(slurp(x->path0), "SOS");
	teardown(x);
}

static void parses_port_specs(void **state)
{
	char name[VCON_NAME_MAX + 1];
	const char *kind;

	assert_int_equal(virtio_console_parse_port("org.test-1:a=unix:/tmp/s", name, &kind), 0);
	assert_string_equal(name, "org.test-1:a");
	assert_string_equal(kind, "unix:/tmp/s");
	assert_int_equal(virtio_console_parse_port("noequals", name, &kind), -1);
	assert_int_equal(virtio_console_parse_port("=pty", name, &kind), -1);
	assert_int_equal(virtio_console_parse_port("a=", name, &kind), -1);
	assert_int_equal(virtio_console_parse_port("sp ace=pty", name, &kind), -1);
	assert_int_equal(virtio_console_parse_port(
		"a123456789012345678901234567890123456789012345678901234567890123=pty", name, &kind), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transmit_refuses_writable_buffers),
		cmocka_unit_test(receive_refuses_readable_buffers),
		cmocka_unit_test(control_refuses_bad_messages),
		cmocka_unit_test(multiport_handshake),
		cmocka_unit_test(named_port_input_waits_for_open),
		cmocka_unit_test(emergency_write),
		cmocka_unit_test(parses_port_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
