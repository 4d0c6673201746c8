/* test_vmem_state.c: virtio-mem requests on the plugged-block bitmap:
 * plug within the requested size, unplug, unplug-all, state, and every
 * malformed request answered ERROR without touching state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hotplug/vmem_state.h"

#define BASE (8ULL << 30)
#define BLK (2ULL << 20)

struct changes {
	int calls;
	uint64_t first, count;
	bool plugged;
	int fail;
};

static int record(void *opaque, uint64_t first, uint64_t count, bool plugged)
{
	struct changes *c = opaque;

	c->calls++;
	c->first = first;
	c->count = count;
	c->plugged = plugged;
	return c->fail ? -1 : 0;
}

static uint16_t req(struct vmem_state *s, uint16_t type, uint64_t addr, uint16_t nb,
		    uint16_t *state)
{
	struct virtio_mem_req r = { .type = type };
	struct virtio_mem_resp resp;
	uint16_t t;

	r.u.plug.addr = addr;
	r.u.plug.nb_blocks = nb;
	t = vmem_handle_request(s, &r, sizeof(r), &resp);
	assert_int_equal(t, resp.type);
	if (state)
		*state = resp.u.state.state;
	return t;
}

static void setup_state(struct vmem_state *s, struct changes *c, uint64_t requested)
{
	const char *err;

	assert_int_equal(vmem_state_init(s, BASE, 1ULL << 30, BLK), 0);
	s->on_change = record;
	s->opaque = c;
	assert_int_equal(vmem_set_requested(s, requested, &err), 0);
}

static void init_refuses_bad_geometry(void **unused)
{
	struct vmem_state s;

	assert_int_equal(vmem_state_init(&s, BASE, 1ULL << 30, 3 << 20), -1);
	assert_int_equal(vmem_state_init(&s, BASE + 4096, 1ULL << 30, BLK), -1);
	assert_int_equal(vmem_state_init(&s, BASE, (1ULL << 30) + 4096, BLK), -1);
	assert_int_equal(vmem_state_init(&s, BASE, 0, BLK), -1);
	assert_int_equal(vmem_state_init(&s, BASE, 1ULL << 30, 1024), -1);
}

static void requested_size_checked(void **unused)
{
	struct vmem_state s;
	struct changes c = { 0 };
	const char *err;

	setup_state(&s, &c, 0);
	assert_int_equal(s.usable_size, 0);
	assert_int_equal(vmem_set_requested(&s, 2ULL << 30, &err), -1);
	assert_non_null(strstr(err, "larger than the hotplug region"));
	assert_int_equal(vmem_set_requested(&s, BLK + 4096, &err), -1);
	assert_non_null(strstr(err, "not a multiple"));
	assert_int_equal(vmem_set_requested(&s, 64 * BLK, &err), 0);
	assert_int_equal(s.requested_size, 64 * BLK);
	assert_int_equal(s.usable_size, 64 * BLK + VMEM_USABLE_EXTRA);
	assert_int_equal(vmem_set_requested(&s, 1ULL << 30, &err), 0);
	assert_int_equal(s.usable_size, 1ULL << 30);
	vmem_state_free(&s);
}

static void plug_unplug_state(void **unused)
{
	struct vmem_state s;
	struct changes c = { 0 };
	uint16_t st;

	setup_state(&s, &c, 4 * BLK);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, BASE + BLK, 3, NULL), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.first, 1);
	assert_int_equal(c.count, 3);
	assert_true(c.plugged);
	assert_int_equal(vmem_plugged_size(&s), 3 * BLK);
	/* over the requested size: NACK, nothing changes */
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, BASE + 8 * BLK, 2, NULL), VIRTIO_MEM_RESP_NACK);
	assert_int_equal(c.calls, 1);
	/* already plugged: ERROR */
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, BASE, 2, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_STATE, BASE + BLK, 3, &st), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(st, VIRTIO_MEM_STATE_PLUGGED);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_STATE, BASE, 2, &st), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(st, VIRTIO_MEM_STATE_MIXED);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_STATE, BASE + 8 * BLK, 4, &st), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(st, VIRTIO_MEM_STATE_UNPLUGGED);
	/* unplug of partly unplugged blocks: ERROR; of plugged ones: ACK */
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_UNPLUG, BASE, 2, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_UNPLUG, BASE + 2 * BLK, 1, NULL), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(c.first, 2);
	assert_false(c.plugged);
	assert_false(vmem_block_plugged(&s, 2));
	assert_true(vmem_block_plugged(&s, 3));
	assert_int_equal(vmem_plugged_size(&s), 2 * BLK);
	vmem_state_free(&s);
}

static void unplug_all_releases_runs(void **unused)
{
	struct vmem_state s;
	struct changes c = { 0 };

	setup_state(&s, &c, 8 * BLK);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, BASE, 2, NULL), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, BASE + 5 * BLK, 3, NULL), VIRTIO_MEM_RESP_ACK);
	c.calls = 0;
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0, NULL), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(c.calls, 2); /* one per plugged run */
	assert_int_equal(c.first, 5);
	assert_int_equal(c.count, 3);
	assert_int_equal(vmem_plugged_size(&s), 0);
	vmem_state_free(&s);
}

static void malformed_requests(void **unused)
{
	struct vmem_state s;
	struct changes c = { 0 };
	struct virtio_mem_resp resp;
	uint8_t junk[4] = { 0 };
	uint64_t usable_end;

	setup_state(&s, &c, 4 * BLK);
	usable_end = BASE + s.usable_size;
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, BASE + 4096, 1, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, BASE, 0, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, BASE - BLK, 1, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, usable_end, 1, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, usable_end - BLK, 2, NULL),
			 VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, UINT64_MAX - BLK + 1, 1, NULL),
			 VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_STATE, BASE, 0xffff, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(req(&s, 77, BASE, 1, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(vmem_handle_request(&s, junk, sizeof(junk), &resp), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(c.calls, 0);
	assert_int_equal(vmem_plugged_size(&s), 0);
	vmem_state_free(&s);
}

static void host_failure_gives_busy(void **unused)
{
	struct vmem_state s;
	struct changes c = { .fail = 1 };

	setup_state(&s, &c, 4 * BLK);
	assert_int_equal(req(&s, VIRTIO_MEM_REQ_PLUG, BASE, 2, NULL), VIRTIO_MEM_RESP_BUSY);
	assert_int_equal(vmem_plugged_size(&s), 0);
	assert_false(vmem_block_plugged(&s, 0));
	vmem_state_free(&s);
}

static void config_reflects_state(void **unused)
{
	struct vmem_state s;
	struct changes c = { 0 };
	struct virtio_mem_config cfg;

	setup_state(&s, &c, 4 * BLK);
	req(&s, VIRTIO_MEM_REQ_PLUG, BASE, 1, NULL);
	vmem_config(&s, &cfg);
	assert_int_equal(cfg.block_size, BLK);
	assert_int_equal(cfg.addr, BASE);
	assert_int_equal(cfg.region_size, 1ULL << 30);
	assert_int_equal(cfg.requested_size, 4 * BLK);
	assert_int_equal(cfg.plugged_size, BLK);
	assert_int_equal(cfg.usable_region_size, 4 * BLK + VMEM_USABLE_EXTRA);
	vmem_state_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_refuses_bad_geometry),
		cmocka_unit_test(requested_size_checked),
		cmocka_unit_test(plug_unplug_state),
		cmocka_unit_test(unplug_all_releases_runs),
		cmocka_unit_test(malformed_requests),
		cmocka_unit_test(host_failure_gives_busy),
		cmocka_unit_test(config_reflects_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
