/* lib.h: the freestanding runtime of kvmini's test guests: port I/O,
 * COM1 output, CPUID/MSR access and the ways a guest can end. */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void putc_serial(char c);
char getc_serial(void); /* polls until COM1 has a byte */
void puts_serial(const char *s);
void put_dec(uint64_t v);
void put_hex(uint64_t v);
/* "key: value\n" helpers. */
void report_dec(const char *key, uint64_t v);
void report_hex(const char *key, uint64_t v);
void report_str(const char *key, const char *s);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
/* Value of "key=" in the command line, copied into buf (empty if absent). */
const char *cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);
uint64_t parse_dec(const char *s);

/* Endings. */
void __attribute__((noreturn)) guest_reset(void);      /* i8042 0xFE */
void __attribute__((noreturn)) guest_poweroff(void);   /* ACPI S5 */
void __attribute__((noreturn)) guest_debug_exit(uint32_t v);
void __attribute__((noreturn)) guest_halt(void);

#endif
