/* dmesg.h: the guest kernel's last messages, read from a dump through the
 * printk ring buffer that VMCOREINFO describes (Linux 5.10 and later). */
#ifndef KVMINI_DUMP_DMESG_H
#define KVMINI_DUMP_DMESG_H

#include <stdio.h>

struct dump_reader;

/* Prints up to `max_lines` of the newest records; -1 (with the reason on
 * stderr) when VMCOREINFO does not describe a readable ring buffer. */
int dump_print_dmesg(struct dump_reader *r, FILE *out, int max_lines);

#endif
