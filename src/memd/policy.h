/* policy.h: `kvmini memd`'s decision, as a pure function: given what each
 * guest reports (available memory, its virtio-mem region and balloon),
 * which guests give memory back and which get more, within a host budget.
 * The policy is described in the README ("Memory broker"). */
#ifndef KVMINI_MEMD_POLICY_H
#define KVMINI_MEMD_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define MEMD_MAX_VMS 64

/* What memd knows about one guest after a poll. */
struct memd_vm {
	bool alive;
	/* virtio-mem (`memory`) */
	bool hotplug;
	uint64_t region_size, block_size, requested;
	/* virtio-balloon (`balloon-stats`) */
	bool balloon;
	uint64_t balloon_memory; /* memory the balloon can take from */
	uint64_t balloon_size;   /* the balloon's target size (num_pages * 4 KiB) */
	bool stats;
	uint64_t avail, total;   /* guest-reported available and total memory */
	uint64_t boot_memory;
};

struct memd_policy {
	uint64_t budget;     /* bytes all guests may hold together */
	uint64_t step;       /* most memory moved to or from one guest per round */
	unsigned low_pct;    /* available below this % of total: under pressure */
	unsigned high_pct;   /* available above this % of total: has memory to spare */
	uint64_t min_guest;  /* never shrink a guest below this */
};

enum memd_action_kind { MEMD_SET_HOTPLUG, MEMD_SET_BALLOON };

struct memd_action {
	int vm;
	enum memd_action_kind kind;
	uint64_t value; /* new requested size, or new balloon size */
	int64_t delta;  /* change of the guest's memory, bytes */
};

/* The memory a guest holds under its current targets. */
uint64_t memd_grant(const struct memd_vm *vm);
/* Fills up to 2*n actions (at most one shrink or grow per guest); returns
 * how many. Guests without statistics only count against the budget. */
int memd_plan(const struct memd_vm *vms, int n, const struct memd_policy *p,
	      struct memd_action *out);

#endif
