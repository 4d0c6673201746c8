/* options.c: parsing of the --dump-* options of `kvmini run`. */
#include <string.h>

#include "dump/dump.h"
#include "util/log.h"

void dump_options_default(struct dump_options *o)
{
	*o = (struct dump_options){ .on_panic = true, .on_triple_fault = true,
				    .formats = DUMP_FORMAT_KDUMP,
				    .compression = DUMP_COMPRESS_ZSTD };
}

int dump_parse_on(struct dump_options *o, const char *arg)
{
	const char *p = arg;

	o->on_panic = o->on_triple_fault = false;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 5 && !strncmp(p, "panic", 5))
			o->on_panic = true;
		else if (n == 12 && !strncmp(p, "triple-fault", 12))
			o->on_triple_fault = true;
		else if (!(n == 4 && !strncmp(p, "none", 4)))
			return error("--dump-on '%s': give a list of panic, triple-fault (or none)",
				     arg);
		p += n + (p[n] == ',');
	}
	return 0;
}

int dump_parse_format(struct dump_options *o, const char *arg)
{
	if (!strcmp(arg, "elf"))
		o->formats = DUMP_FORMAT_ELF;
	else if (!strcmp(arg, "kdump"))
		o->formats = DUMP_FORMAT_KDUMP;
	else if (!strcmp(arg, "both"))
		o->formats = DUMP_FORMAT_ELF | DUMP_FORMAT_KDUMP;
	else
		return error("--dump-format '%s': give elf, kdump or both", arg);
	return 0;
}

int dump_parse_compression(struct dump_options *o, const char *arg)
{
	if (!strcmp(arg, "zstd"))
		o->compression = DUMP_COMPRESS_ZSTD;
	else if (!strcmp(arg, "zlib"))
		o->compression = DUMP_COMPRESS_ZLIB;
	else
		return error("--dump-compress '%s': give zstd (crash 8) or zlib (also makedumpfile)",
			     arg);
	return 0;
}
