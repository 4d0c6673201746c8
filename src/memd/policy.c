/* policy.c: memd's rounds. 1) guests with memory to spare give back a
 * step (virtio-mem first, then the balloon); 2) while the guests together
 * hold more than the budget, those with the most available memory give
 * back more; 3) guests under pressure, neediest first, get a step
 * (balloon deflated first, then virtio-mem), while the budget allows. */
#include "memd/policy.h"


#define PAGE 4096ULL

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t memd_grant(const struct memd_vm *vm)
{
	uint64_t base = vm->balloon ? vm->balloon_memory : vm->boot_memory;
	uint64_t held = base > vm->balloon_size ? base - vm->balloon_size : 0;

	return held + (vm->hotplug ? vm->requested : 0);
}

static bool under_pressure(const struct memd_vm *vm, const struct memd_policy *p)
{
	return vm->stats && vm->total && vm->avail * 100 < (uint64_t)p->low_pct * vm->total;
}

/* Bytes above the high watermark (0 if none or unknown). */
static uint64_t spare(const struct memd_vm *vm, const struct memd_policy *p)
{
	uint64_t keep = (uint64_t)p->high_pct * vm->total / 100;

	return vm->stats && vm->avail > keep ? vm->avail - keep : 0;
}

/* Takes up to `want` bytes from `vm`; returns the bytes taken (0: none). */
static uint64_t shrink(const struct memd_vm *vm, int i, uint64_t want,
		       const struct memd_policy *p, struct memd_action *a)
{
	uint64_t grant = memd_grant(vm), room;

	if (grant <= p->min_guest)
		return 0;
	want = min_u64(want, grant - p->min_guest);
	if (vm->hotplug && vm->requested && vm->block_size) {
		uint64_t take = min_u64(want, vm->requested) / vm->block_size * vm->block_size;

		if (take) {
			*a = (struct memd_action){ i, MEMD_SET_HOTPLUG, vm->requested - take,
						   -(int64_t)take };
			return take;
		}
	}
	if (!vm->balloon)
		return 0;
	room = vm->balloon_memory > vm->balloon_size ? vm->balloon_memory - vm->balloon_size : 0;
	want = min_u64(want, room) / PAGE * PAGE;
	if (!want)
		return 0;
	*a = (struct memd_action){ i, MEMD_SET_BALLOON, vm->balloon_size + want, -(int64_t)want };
	return want;
}

/* Gives up to `want` bytes to `vm`; returns the bytes given (0: none). */
static uint64_t grow(const struct memd_vm *vm, int i, uint64_t want, struct memd_action *a)
{
	if (vm->balloon && vm->balloon_size >= PAGE) {
		uint64_t give = min_u64(want, vm->balloon_size) / PAGE * PAGE;

		if (give) {
			*a = (struct memd_action){ i, MEMD_SET_BALLOON, vm->balloon_size - give,
						   (int64_t)give };
			return give;
		}
	}
	if (vm->hotplug && vm->block_size && vm->requested < vm->region_size) {
		uint64_t give = min_u64(want, vm->region_size - vm->requested);

		give = give / vm->block_size * vm->block_size;
		if (give) {
			*a = (struct memd_action){ i, MEMD_SET_HOTPLUG, vm->requested + give,
						   (int64_t)give };
			return give;
		}
	}
	return 0;
}

/* Indices sorted by available fraction, ascending (neediest first). */
static void sort_by_avail(const struct memd_vm *vms, int *idx, int n)
{
	for (int i = 1; i < n; i++) {
		int v = idx[i], j = i;

		while (j > 0) {
			const struct memd_vm *a = &vms[idx[j - 1]], *b = &vms[v];

			/* a->avail/a->total > b->avail/b->total, without dividing */
			if ((__uint128_t)a->avail * (b->total ? b->total : 1) <=
			    (__uint128_t)b->avail * (a->total ? a->total : 1))
				break;
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

int memd_plan(const struct memd_vm *vms, int n, const struct memd_policy *p,
	      struct memd_action *out)
{
	uint64_t held = 0;
	bool acted[MEMD_MAX_VMS] = { false };
	int idx[MEMD_MAX_VMS], nact = 0, nidx = 0;

	if (n > MEMD_MAX_VMS)
		n = MEMD_MAX_VMS;
	for (int i = 0; i < n; i++) {
		if (!vms[i].alive)
			continue;
		held += memd_grant(&vms[i]);
		idx[nidx++] = i;
	}
	sort_by_avail(vms, idx, nidx);
	/* 1 + 2: from the most available down, give back spare memory, and more
	 * while over budget. */
	for (int k = nidx - 1; k >= 0; k--) {
		const struct memd_vm *vm = &vms[idx[k]];
		uint64_t want = min_u64(p->step, spare(vm, p)), taken;

		if (held > p->budget && vm->stats && !under_pressure(vm, p))
			want = min_u64(p->step, held - p->budget > want ? held - p->budget : want);
		if (!want || !(taken = shrink(vm, idx[k], want, p, &out[nact])))
			continue;
		held -= taken;
		acted[idx[k]] = true;
		nact++;
	}
	/* 3: neediest first, within the budget. */
	for (int k = 0; k < nidx; k++) {
		const struct memd_vm *vm = &vms[idx[k]];
		uint64_t given;

		if (acted[idx[k]] || !under_pressure(vm, p) || held >= p->budget)
			continue;
		given = grow(vm, idx[k], min_u64(p->step, p->budget - held), &out[nact]);
		if (given) {
			held += given;
			nact++;
		}
	}
	return nact;
}
