/* vm_commands.c: the control socket's VM commands: status, pause, resume,
 * quit. Pausing saves kvmclock and resuming restores it, so guest time
 * does not jump by the length of the pause. */
#include "api/api.h"

#include "vm/vm.h"

static json_t *cmd_status(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	return json_pack("{s:s, s:i, s:I, s:b}", "state", vm->user_paused ? "paused" : "running",
			 "cpus", vm->ncpus, "memory", (json_int_t)vm->mem.size,
			 "exiting", __atomic_load_n(&vm->exiting, __ATOMIC_ACQUIRE));
}

static json_t *cmd_pause(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	if (vm->user_paused) {
		*err = "already paused";
		return NULL;
	}
	if (vm_suspend(vm)) {
		*err = "cannot pause: KVM refused to save the guest clock";
		return NULL;
	}
	return json_pack("{s:s}", "state", "paused");
}

static json_t *cmd_resume(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	if (!vm->user_paused) {
		*err = "not paused";
		return NULL;
	}
	if (vm_continue(vm)) {
		*err = "cannot resume: KVM refused to restore the guest clock";
		return NULL;
	}
	return json_pack("{s:s}", "state", "running");
}

static json_t *cmd_quit(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	vm_request_exit(vm, EXIT_SHUTDOWN);
	return json_pack("{s:s}", "state", "exiting");
}

int api_register_vm_commands(struct api *api)
{
	return api_register(api, "status", "VM state, vCPUs and memory", cmd_status, NULL) ||
	       api_register(api, "pause", "stop every vCPU; guest time stands still", cmd_pause,
			    NULL) ||
	       api_register(api, "resume", "run the vCPUs again", cmd_resume, NULL) ||
	       api_register(api, "quit", "end the VM (status 0)", cmd_quit, NULL);
}
