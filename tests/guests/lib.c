/* lib.c: the freestanding runtime of kvmini's test guests. */
#include "lib.h"

#define COM1 0x3f8
#define COM1_LSR 5
#define LSR_THRE 0x20

void putc_serial(char c)
{
	while (!(inb(COM1 + COM1_LSR) & LSR_THRE))
		;
	outb(COM1, (uint8_t)c);
}

char getc_serial(void)
{
	while (!(inb(COM1 + COM1_LSR) & 0x01))
		;
	return (char)inb(COM1);
}

void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

void put_dec(uint64_t v)
{
	char buf[21];
	int i = 20;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_serial(buf + i);
}

void put_hex(uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[19];
	int i = 18;

	buf[i] = 0;
	do {
		buf[--i] = digits[v & 0xf];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	puts_serial(buf + i);
}

static void key(const char *k)
{
	puts_serial(k);
	puts_serial(": ");
}

void report_dec(const char *k, uint64_t v) { key(k); put_dec(v); putc_serial('\n'); }
void report_hex(const char *k, uint64_t v) { key(k); put_hex(v); putc_serial('\n'); }
void report_str(const char *k, const char *s) { key(k); puts_serial(s); putc_serial('\n'); }

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

const char *cmdline_get(const char *cmdline, const char *k, char *buf, size_t size)
{
	size_t klen = strlen(k), n = 0;
	const char *p = cmdline;

	buf[0] = 0;
	while (p && *p) {
		if ((p == cmdline || p[-1] == ' ') && !memcmp(p, k, klen) && p[klen] == '=') {
			p += klen + 1;
			while (*p && *p != ' ' && n + 1 < size)
				buf[n++] = *p++;
			buf[n] = 0;
			return buf;
		}
		p++;
	}
	return buf;
}

uint64_t parse_dec(const char *s)
{
	uint64_t v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

void guest_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_reset(void)
{
	outb(0x64, 0xfe);
	guest_halt();
}

void guest_poweroff(void)
{
	outw(0x604, (uint16_t)((5 << 10) | (1 << 13)));
	guest_halt();
}

void guest_debug_exit(uint32_t v)
{
	outl(0xf4, v);
	guest_reset(); /* no debug-exit port: end anyway */
}
