/* signals.c: the stop signals of kvmini's servers (see signals.h). */
#include "util/signals.h"

void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

void block_stop_signals(sigset_t *set)
{
	stop_signals(set);
	sigprocmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}
