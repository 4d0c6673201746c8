/* cgroup.h: putting the VM (monitor and vCPU threads) in a cgroup v2 with
 * memory.max and cpu.max taken from --memory and --cpus. */
#ifndef KVMINI_CGROUP_H
#define KVMINI_CGROUP_H

#include <stdint.h>

struct vm_cgroup;

/* Memory the monitor may use beyond guest RAM before the host steps in. */
#define CGROUP_MONITOR_ALLOWANCE (64ULL << 20)

/* Creates (if needed) `path` under the cgroup v2 mount, sets its limits and
 * moves this process into it. Returns NULL with a clear error otherwise. */
struct vm_cgroup *cgroup_enter(const char *path, uint64_t guest_ram, int ncpus);
/* Moves the process back where it was and removes the cgroup it created. */
void cgroup_leave(struct vm_cgroup *cg);

#endif
