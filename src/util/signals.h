/* signals.h: the stop signals of kvmini's servers (`kvmini nfsd`,
 * `kvmini vhost-user`): SIGINT and SIGTERM, blocked before any thread
 * starts and then taken by sigwait() or a signalfd; SIGPIPE ignored, so a
 * peer that goes away is an error on its socket, not the end. */
#ifndef KVMINI_UTIL_SIGNALS_H
#define KVMINI_UTIL_SIGNALS_H

#include <signal.h>

/* *set = { SIGINT, SIGTERM }. */
void stop_signals(sigset_t *set);
/* Fills *set as stop_signals(), blocks them and ignores SIGPIPE. */
void block_stop_signals(sigset_t *set);

#endif
