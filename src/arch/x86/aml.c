/* aml.c: AML encoding of names, devices, scopes, packages and resources
 * (ACPI 6.4 section 20), enough for a static DSDT. */
#include "arch/x86/aml.h"

#include <string.h>

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->len + n > AML_MAX) {
		a->overflow = 1;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0 || v == 1) {
		aml_byte(a, (uint8_t)v); /* ZeroOp / OneOp */
	} else if (v <= 0xff) {
		aml_byte(a, 0x0a);
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		aml_byte(a, 0x0b);
		aml_bytes(a, &v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, 0x0c);
		aml_bytes(a, &v, 4);
	} else {
		aml_byte(a, 0x0e);
		aml_bytes(a, &v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, 0x0d);
	aml_bytes(a, s, strlen(s) + 1);
}

/* PkgLength counts itself: 1 byte below 0x40, else 2-4 bytes. */
static void aml_pkg_length(struct aml *a, size_t body)
{
	size_t total = body + 1;

	if (total < 0x40) {
		aml_byte(a, (uint8_t)total);
		return;
	}
	total = body + 2;
	if (total < 0x1000) {
		aml_byte(a, (uint8_t)(0x40 | (total & 0xf)));
		aml_byte(a, (uint8_t)(total >> 4));
		return;
	}
	total = body + 3;
	aml_byte(a, (uint8_t)(0x80 | (total & 0xf)));
	aml_byte(a, (uint8_t)(total >> 4));
	aml_byte(a, (uint8_t)(total >> 12));
}

static void aml_nameseg(struct aml *a, const char *seg)
{
	char s[4] = { '_', '_', '_', '_' };

	memcpy(s, seg, strnlen(seg, 4));
	aml_bytes(a, s, 4);
}

void aml_name(struct aml *a, const char *seg, const struct aml *value)
{
	aml_byte(a, 0x08);
	aml_nameseg(a, seg);
	aml_bytes(a, value->buf, value->len);
}

void aml_device(struct aml *a, const char *seg, const struct aml *body)
{
	aml_byte(a, 0x5b);
	aml_byte(a, 0x82);
	aml_pkg_length(a, 4 + body->len);
	aml_nameseg(a, seg);
	aml_bytes(a, body->buf, body->len);
}

/* `path` is "\\" followed by 4-character segments, e.g. "\\_SB_". */
void aml_scope(struct aml *a, const char *path, const struct aml *body)
{
	size_t plen = strlen(path);

	aml_byte(a, 0x10);
	aml_pkg_length(a, plen + body->len);
	aml_bytes(a, path, plen);
	aml_bytes(a, body->buf, body->len);
}

void aml_package(struct aml *a, uint8_t count, const struct aml *elements)
{
	aml_byte(a, 0x12);
	aml_pkg_length(a, 1 + elements->len);
	aml_byte(a, count);
	aml_bytes(a, elements->buf, elements->len);
}

void aml_resource_template(struct aml *a, const struct aml *descriptors)
{
	struct aml size = { 0 };
	static const uint8_t end_tag[] = { 0x79, 0x00 };
	size_t n = descriptors->len + sizeof(end_tag);

	aml_integer(&size, n);
	aml_byte(a, 0x11); /* BufferOp */
	aml_pkg_length(a, size.len + n);
	aml_bytes(a, size.buf, size.len);
	aml_bytes(a, descriptors->buf, descriptors->len);
	aml_bytes(a, end_tag, sizeof(end_tag));
}

void aml_io_port(struct aml *a, uint16_t port, uint8_t len)
{
	uint8_t d[8] = { 0x47, 0x01, (uint8_t)port, (uint8_t)(port >> 8),
			 (uint8_t)port, (uint8_t)(port >> 8), 0x01, len };

	aml_bytes(a, d, sizeof(d));
}

void aml_irq(struct aml *a, uint8_t irq)
{
	uint16_t mask = (uint16_t)(1U << irq);
	uint8_t d[3] = { 0x22, (uint8_t)mask, (uint8_t)(mask >> 8) };

	aml_bytes(a, d, sizeof(d));
}

uint32_t aml_eisa_id(const char *id)
{
	uint32_t v = ((uint32_t)(id[0] - '@') << 26) | ((uint32_t)(id[1] - '@') << 21) |
		     ((uint32_t)(id[2] - '@') << 16);
	unsigned hex;

	for (int i = 3; i < 7; i++) {
		char c = id[i];

		hex = (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
		v |= hex << (4 * (6 - i));
	}
	/* Stored big-endian. */
	return __builtin_bswap32(v);
}

#define RES_WORD_ADDRESS 0x88
#define RES_DWORD_ADDRESS 0x87
#define SPACE_MEMORY 0
#define SPACE_IO 1
#define SPACE_BUS 2
#define FLAGS_FIXED 0x0c /* MinFixed | MaxFixed, producer */

static void word_range(struct aml *a, uint8_t space, uint8_t type_flags, uint16_t min,
		       uint16_t max)
{
	uint16_t len = (uint16_t)(max - min + 1);
	uint8_t d[16] = { RES_WORD_ADDRESS, 13, 0, space, FLAGS_FIXED, type_flags };

	memcpy(d + 8, &min, 2);
	memcpy(d + 10, &max, 2);
	memcpy(d + 14, &len, 2);
	aml_bytes(a, d, sizeof(d));
}

void aml_word_bus_range(struct aml *a, uint16_t min, uint16_t max)
{
	word_range(a, SPACE_BUS, 0, min, max);
}

void aml_word_io_range(struct aml *a, uint16_t min, uint16_t max)
{
	word_range(a, SPACE_IO, 3 /* entire range */, min, max);
}

void aml_dword_memory_range(struct aml *a, uint32_t min, uint32_t max)
{
	uint32_t len = max - min + 1;
	uint8_t d[26] = { RES_DWORD_ADDRESS, 23, 0, SPACE_MEMORY, FLAGS_FIXED, 1 /* read-write */ };

	memcpy(d + 10, &min, 4);
	memcpy(d + 14, &max, 4);
	memcpy(d + 22, &len, 4);
	aml_bytes(a, d, sizeof(d));
}
