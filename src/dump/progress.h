/* progress.h: progress of a long dump on stderr: a live line on a terminal,
 * or a line a second once the dump has taken more than a second. */
#ifndef KVMINI_DUMP_PROGRESS_H
#define KVMINI_DUMP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct dump_progress {
	const char *what;
	uint64_t total;
	uint64_t done;
	double start;
	double last_print;
	bool tty;
	bool printed;
};

void dump_progress_start(struct dump_progress *p, const char *what, uint64_t total);
void dump_progress_add(struct dump_progress *p, uint64_t bytes);
/* Ends the live line and returns the elapsed seconds. */
double dump_progress_end(struct dump_progress *p);
/* Seconds since dump_progress_start. */
double dump_progress_elapsed(const struct dump_progress *p);

#endif
