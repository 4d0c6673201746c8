/* log.c: one-line diagnostics on stderr. */
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void vlog(const char *level, const char *fmt, va_list ap, int err)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		fprintf(stderr, "kvmini: %s%s: %s\n", level, msg, strerror(err));
	else
		fprintf(stderr, "kvmini: %s%s\n", level, msg);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap, 0);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap, err);
	va_end(ap);
	errno = err;
	return -1;
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap, 0);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap, 0);
	va_end(ap);
}
