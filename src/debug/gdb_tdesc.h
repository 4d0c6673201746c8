/* gdb_tdesc.h: the x86-64 target description (target.xml) sent to gdb
 * through qXfer:features:read, generated from the register table. */
#ifndef KVMINI_GDB_TDESC_H
#define KVMINI_GDB_TDESC_H

#include <stddef.h>

/* Writes target.xml into buf; returns its length, or -1 if buf is too small. */
int gdb_tdesc_xml(char *buf, size_t size);

#endif
