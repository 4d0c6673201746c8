/* broker.c: memd's rounds over the VMs' control sockets. A VM that does
 * not answer is left out of the round (and of the budget) until it does. */
#include "memd/broker.h"

#include <string.h>
#include <time.h>

#include "util/log.h"

static uint64_t u64_of(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static json_t *call(struct memd *m, int i, json_t *req)
{
	json_t *reply = memd_call(&m->conns[i], req, m->timeout_ms);

	json_decref(req);
	return reply;
}

static void read_memory(struct memd_vm *vm, json_t *r)
{
	vm->boot_memory = u64_of(r, "memory");
	vm->hotplug = json_is_true(json_object_get(r, "hotplug"));
	vm->region_size = u64_of(r, "region_size");
	vm->block_size = u64_of(r, "block_size");
	vm->requested = u64_of(r, "requested_size");
}

static void read_balloon(struct memd_vm *vm, json_t *r)
{
	json_t *stats = json_object_get(r, "stats");
	uint64_t avail = u64_of(stats, "available-memory");

	vm->balloon = json_is_true(json_object_get(r, "ok"));
	if (!vm->balloon)
		return;
	vm->balloon_memory = u64_of(r, "memory");
	if (!vm->boot_memory)
		vm->boot_memory = vm->balloon_memory;
	vm->balloon_size = u64_of(r, "num_pages") * 4096;
	vm->total = u64_of(stats, "total-memory");
	vm->avail = avail ? avail : u64_of(stats, "free-memory");
	vm->stats = vm->total > 0;
}

void memd_poll(struct memd *m)
{
	for (int i = 0; i < m->n; i++) {
		struct memd_vm *vm = &m->vms[i];
		json_t *r = call(m, i, json_pack("{s:s}", "cmd", "memory"));

		memset(vm, 0, sizeof(*vm));
		if (!r)
			continue; /* unreachable: out of this round */
		vm->alive = true;
		if (json_is_true(json_object_get(r, "ok")))
			read_memory(vm, r); /* a balloon backend has no `memory` */
		json_decref(r);
		r = call(m, i, json_pack("{s:s}", "cmd", "balloon-stats"));
		if (r)
			read_balloon(vm, r);
		json_decref(r);
	}
}

static int apply(struct memd *m, const struct memd_action *a, int round)
{
	bool hp = a->kind == MEMD_SET_HOTPLUG;
	json_t *r = call(m, a->vm, hp ? json_pack("{s:s, s:I}", "cmd", "mem-resize", "size",
						  (json_int_t)a->value)
				      : json_pack("{s:s, s:I}", "cmd", "balloon", "target",
						  (json_int_t)(m->vms[a->vm].balloon_memory - a->value)));
	bool ok = r && json_is_true(json_object_get(r, "ok"));
	const char *why = r ? json_string_value(json_object_get(r, "error")) : "no reply";

	fprintf(m->log, "{\"round\": %d, \"vm\": \"%s\", \"action\": \"%s\", \"%s\": %llu, "
		"\"delta\": %lld, \"ok\": %s%s%s%s}\n", round, m->conns[a->vm].path,
		hp ? "mem-resize" : "balloon", hp ? "size" : "balloon_size",
		(unsigned long long)a->value, (long long)a->delta, ok ? "true" : "false",
		ok ? "" : ", \"error\": \"", ok ? "" : (why ? why : "?"), ok ? "" : "\"");
	json_decref(r);
	return ok ? 0 : -1;
}

int memd_round(struct memd *m, int round)
{
	struct memd_action actions[2 * MEMD_MAX_VMS];
	uint64_t held = 0;
	int n, moved = 0, alive = 0;

	memd_poll(m);
	n = memd_plan(m->vms, m->n, &m->policy, actions);
	for (int i = 0; i < n; i++)
		moved += apply(m, &actions[i], round) == 0;
	for (int i = 0; i < m->n; i++) {
		if (!m->vms[i].alive)
			continue;
		alive++;
		held += memd_grant(&m->vms[i]);
	}
	fprintf(m->log, "{\"round\": %d, \"vms\": %d, \"held\": %llu, \"budget\": %llu, "
		"\"moves\": %d}\n", round, alive, (unsigned long long)held,
		(unsigned long long)m->policy.budget, moved);
	fflush(m->log);
	return moved;
}

int memd_run(struct memd *m)
{
	for (int round = 1; !m->rounds || round <= m->rounds; round++) {
		struct timespec ts = { m->interval_ms / 1000, (m->interval_ms % 1000) * 1000000L };

		memd_round(m, round);
		if (m->rounds && round == m->rounds)
			break;
		nanosleep(&ts, NULL);
	}
	return 0;
}

void memd_close(struct memd *m)
{
	for (int i = 0; i < m->n; i++)
		memd_conn_close(&m->conns[i]);
}
