/* parse.c: parsers for command-line values. */
#include "util/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int unit_shift(const char *unit, unsigned *shift)
{
	static const char units[] = "BKMGTP";
	const char *p;

	if (!*unit) {
		*shift = 0;
		return 0;
	}
	p = strchr(units, toupper((unsigned char)unit[0]));
	if (!p)
		return -1;
	*shift = 10 * (unsigned)(p - units);
	unit++;
	if (*shift && (!strcasecmp(unit, "iB") || !strcasecmp(unit, "B")))
		unit += strlen(unit);
	return *unit ? -1 : 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || unit_shift(end, &shift))
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

char *next_field(char **rest)
{
	char *field = *rest, *comma;

	if (!field)
		return NULL;
	comma = strchr(field, ',');
	if (comma) {
		*comma = '\0';
		*rest = comma + 1;
	} else {
		*rest = NULL;
	}
	return field;
}

bool str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}
