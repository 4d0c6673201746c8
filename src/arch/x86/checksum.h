/* checksum.h: the byte checksum firmware tables use (ACPI, MP): the value
 * that makes all bytes of the table sum to zero. */
#ifndef KVMINI_CHECKSUM_H
#define KVMINI_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint8_t table_checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum = (uint8_t)(sum + *b++);
	return (uint8_t)-sum;
}

#endif
