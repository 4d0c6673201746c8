/* dump.h: crash dumps taken by the monitor: on a guest panic or triple
 * fault, and on demand (SIGUSR1, the `dump` command), written atomically into a directory. */
#ifndef KVMINI_DUMP_H
#define KVMINI_DUMP_H

#include <stdbool.h>

#include "dump/dump_source.h"

struct vm;
struct dumper;

#define DUMP_FORMAT_ELF   0x1
#define DUMP_FORMAT_KDUMP 0x2

struct dump_options {
	const char *dir;          /* NULL: no dumps */
	bool on_panic, on_triple_fault;
	unsigned formats;
	enum dump_compression compression;
};

/* Defaults: on panic and triple fault, kdump-compressed with zstd. */
void dump_options_default(struct dump_options *o);
/* "panic,triple-fault", "elf|kdump|both", "zstd|zlib": 0 or -1 with a message. */
int dump_parse_on(struct dump_options *o, const char *arg);
int dump_parse_format(struct dump_options *o, const char *arg);
int dump_parse_compression(struct dump_options *o, const char *arg);

/* Registers the VM listener and the SIGUSR1 handler (call before vm_run). */
struct dumper *dumper_create(struct vm *vm, const struct dump_options *o);
/* Starts an on-demand dump on a worker thread; *seq is its number (the
 * files are DIR/vmcore-PID-SEQ-request.*). -1 while a dump is being written. */
int dumper_request(struct dumper *d, unsigned *seq);

struct dumper_state {
	bool busy;              /* a dump is being written */
	bool have_last;         /* the last on-demand dump has finished */
	unsigned last_seq;
	bool last_ok;           /* ... and every file of it was written */
	const char *dir;
	unsigned formats;
};
void dumper_status(struct dumper *d, struct dumper_state *st);

/* Waits for any dump still being written (call after vm_run). */
void dumper_stop(struct dumper *d);

#endif
