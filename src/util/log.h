/* log.h: one-line diagnostics on stderr, prefixed with "kvmini:". */
#ifndef KVMINI_LOG_H
#define KVMINI_LOG_H

#include <stdarg.h>

/* Prints "kvmini: error: <msg>" and returns -1, so callers can
 * `return error("...")` with the context of the failure. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like error(), with ": strerror(errno)" appended. */
int error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
