/* mem_commands.c: the control socket's memory commands: `memory` (boot RAM
 * and the virtio-mem region's sizes) and `mem-resize` (the size the guest
 * should plug, checked against the region and its block size). */
#include "api/api.h"

#include "hotplug/vmem_region.h"
#include "vm/vm.h"

static json_t *cmd_memory(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	struct vmem_hotplug *r = vm->vmem;
	json_t *reply = json_pack("{s:I}", "memory", (json_int_t)vm->mem.size);

	if (!r)
		return json_object_set_new(reply, "hotplug", json_false()), reply;
	pthread_mutex_lock(&r->lock);
	json_object_update_new(reply, json_pack(
		"{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "hotplug", 1,
		"region_addr", (json_int_t)r->state.addr,
		"region_size", (json_int_t)r->state.region_size,
		"block_size", (json_int_t)r->state.block_size,
		"requested_size", (json_int_t)r->state.requested_size,
		"plugged_size", (json_int_t)vmem_plugged_size(&r->state),
		"usable_size", (json_int_t)r->state.usable_size,
		"resident_size", (json_int_t)vmem_region_resident(r),
		"unplugged_reads", (json_int_t)__atomic_load_n(&r->unplugged_reads, __ATOMIC_RELAXED),
		"unplugged_writes", (json_int_t)__atomic_load_n(&r->unplugged_writes, __ATOMIC_RELAXED)));
	pthread_mutex_unlock(&r->lock);
	return reply;
}

static json_t *cmd_mem_resize(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	unsigned long long size;

	if (!vm->vmem) {
		*err = "this VM has no hotplug region: start it with --hotplug SIZE";
		return NULL;
	}
	if (api_get_size(req, "size", &size, err) || vmem_region_resize(vm->vmem, size, err))
		return NULL;
	return json_pack("{s:I}", "requested_size", (json_int_t)size);
}

int api_register_mem_commands(struct api *api)
{
	return api_register(api, "memory", "boot RAM and the hotplug region's sizes", cmd_memory,
			    NULL) ||
	       api_register(api, "mem-resize", "size=SIZE: memory the guest should plug into "
			    "its hotplug region (a multiple of the block size)", cmd_mem_resize, NULL);
}
