/* gdb_tdesc.c: target.xml for gdb: gdb's own feature names for the x86-64
 * core, SSE and segment-base registers, plus a kvmini feature with the
 * system registers (CR0-CR4, CR8, EFER, KERNEL_GS_BASE, GDTR/IDTR bases). */
#include "debug/gdb_tdesc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "debug/gdb_regs.h"

/* The vec128 union gdb's 64bit-sse.xml defines for the xmm registers. */
static const char vec128_types[] =
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
	"<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/>"
	"</union>";

struct xml_buf {
	char *p;
	size_t size, len;
	bool overflow;
};

static void put(struct xml_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->size - b->len)
		b->overflow = true;
	else
		b->len += (size_t)n;
}

static void put_feature(struct xml_buf *b, int feature)
{
	put(b, "<feature name=\"%s\">", gdb_reg_features[feature]);
	if (feature == 1)
		put(b, "%s", vec128_types);
	for (int i = 0; i < gdb_reg_count; i++) {
		const struct gdb_reg_desc *r = &gdb_reg_table[i];

		if (r->feature != feature)
			continue;
		put(b, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%d\"", r->name, r->bits,
		    r->type, i);
		if (r->group)
			put(b, " group=\"%s\"", r->group);
		put(b, "/>");
	}
	put(b, "</feature>");
}

int gdb_tdesc_xml(char *buf, size_t size)
{
	struct xml_buf b = { .p = buf, .size = size };

	put(&b, "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
		"<target version=\"1.0\"><architecture>i386:x86-64</architecture>");
	for (int f = 0; f < gdb_reg_nfeatures; f++)
		put_feature(&b, f);
	put(&b, "</target>");
	return b.overflow ? -1 : (int)b.len;
}
