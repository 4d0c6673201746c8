/* progress.c: dump progress on stderr (tty: one updating line; otherwise a
 * line per second, only when the dump takes longer than a second). */
#include "dump/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void dump_progress_start(struct dump_progress *p, const char *what, uint64_t total)
{
	*p = (struct dump_progress){ .what = what, .total = total ? total : 1,
				     .start = now(), .tty = isatty(2) };
	p->last_print = p->start;
}

static void print(struct dump_progress *p, double t)
{
	unsigned pct = (unsigned)(p->done * 100 / p->total);

	fprintf(stderr, "%skvmini: dump %s: %3u%% (%llu/%llu MiB, %.1f s)%s", p->tty ? "\r" : "",
		p->what, pct, (unsigned long long)(p->done >> 20),
		(unsigned long long)(p->total >> 20), t - p->start, p->tty ? "" : "\n");
	fflush(stderr);
	p->last_print = t;
	p->printed = true;
}

void dump_progress_add(struct dump_progress *p, uint64_t bytes)
{
	double t;

	p->done += bytes;
	t = now();
	if (p->tty ? t - p->last_print >= 0.2 : t - p->last_print >= 1.0)
		print(p, t);
}

double dump_progress_end(struct dump_progress *p)
{
	double t = now();

	if (p->printed) {
		p->done = p->total;
		print(p, t);
		if (p->tty)
			fputc('\n', stderr);
	}
	return t - p->start;
}

double dump_progress_elapsed(const struct dump_progress *p)
{
	return now() - p->start;
}
