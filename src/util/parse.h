/* parse.h: parsers for command-line values (sizes, numbers, key=value lists). */
#ifndef KVMINI_PARSE_H
#define KVMINI_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* "4096", "64K", "256M", "4G", "1T" (binary units, optional "iB"/"B").
 * Returns 0, or -1 on junk, empty input or overflow. */
int parse_size(const char *s, uint64_t *out);
/* A decimal or 0x-prefixed unsigned number in [min, max]. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Splits "PATH,key=val,flag" in place: returns the first field and
 * advances *rest to the next field (NULL at the end). */
char *next_field(char **rest);
bool str_starts_with(const char *s, const char *prefix);

#endif
