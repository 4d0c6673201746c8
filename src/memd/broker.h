/* broker.h: `kvmini memd`'s loop: poll every VM, plan with the policy,
 * apply the plan through the VMs' control sockets, report each move. */
#ifndef KVMINI_MEMD_BROKER_H
#define KVMINI_MEMD_BROKER_H

#include <stdio.h>

#include "memd/client.h"
#include "memd/policy.h"

struct memd {
	struct memd_policy policy;
	int interval_ms;
	int rounds;      /* 0: until stopped */
	int timeout_ms;  /* per request */
	FILE *log;       /* one JSON line per move and per round */
	int n;
	struct memd_conn conns[MEMD_MAX_VMS];
	struct memd_vm vms[MEMD_MAX_VMS];
};

/* Reads every VM's `memory` and `balloon-stats` into m->vms. */
void memd_poll(struct memd *m);
/* One round: poll, plan, apply. Returns the number of moves made. */
int memd_round(struct memd *m, int round);
/* Runs m->rounds rounds (or forever) every interval_ms; 0 at the end. */
int memd_run(struct memd *m);
void memd_close(struct memd *m);

#endif
