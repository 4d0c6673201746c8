/* vmem_region.c: virtio-mem's hotplug region on the host: its memfd, one
 * KVM slot per maximal run of plugged blocks, hole punching on unplug,
 * and the MMIO guard that refuses guest accesses to unplugged blocks. */
#include "hotplug/vmem_region.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "vm/vm.h"

uint64_t vmem_region_gpa(const struct vm *vm, uint64_t block_size)
{
	const struct mem_region *last = &vm->mem.regions[vm->mem.nregions - 1];
	uint64_t end = last->gpa + last->size, align = VMEM_REGION_ALIGN;

	if (end < MEM_HOLE_END)
		end = MEM_HOLE_END;
	if (block_size > align)
		align = block_size;
	return (end + align - 1) & ~(align - 1);
}

static int set_slot(struct vmem_hotplug *r, uint32_t slot, uint64_t first, uint64_t count)
{
	uint64_t off = first * r->state.block_size;
	struct kvm_userspace_memory_region m = {
		.slot = slot,
		.guest_phys_addr = r->state.addr + off,
		.memory_size = count * r->state.block_size,
		.userspace_addr = (uint64_t)(uintptr_t)(r->host + off),
	};

	if (ioctl(r->vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
		return error_errno("virtio-mem: KVM_SET_USER_MEMORY_REGION slot %u (%llu MiB at "
				   "0x%llx)", slot, (unsigned long long)(m.memory_size >> 20),
				   (unsigned long long)m.guest_phys_addr);
	return 0;
}

static uint32_t run_slot(const struct vmem_hotplug *r, const struct vmem_run *run)
{
	return VMEM_SLOT_BASE + (uint32_t)(run - r->runs);
}

static struct vmem_run *free_run(struct vmem_hotplug *r)
{
	for (int i = 0; i < VMEM_MAX_RUNS; i++)
		if (!r->runs[i].count)
			return &r->runs[i];
	return NULL;
}

static struct vmem_run *run_containing(struct vmem_hotplug *r, uint64_t block)
{
	for (int i = 0; i < VMEM_MAX_RUNS; i++)
		if (r->runs[i].count && block >= r->runs[i].first &&
		    block - r->runs[i].first < r->runs[i].count)
			return &r->runs[i];
	return NULL;
}

static int add_run(struct vmem_hotplug *r, uint64_t first, uint64_t count)
{
	struct vmem_run *run;

	if (!count)
		return 0;
	run = free_run(r);
	if (!run)
		return error("virtio-mem: more than %d separate plugged ranges", VMEM_MAX_RUNS);
	if (set_slot(r, run_slot(r, run), first, count))
		return -1;
	run->first = first;
	run->count = count;
	return 0;
}

static void drop_run(struct vmem_hotplug *r, struct vmem_run *run)
{
	set_slot(r, run_slot(r, run), run->first, 0);
	run->count = 0;
}

/* Plugged [first, +count): merged with the runs touching it into one slot. */
static int map_plugged(struct vmem_hotplug *r, uint64_t first, uint64_t count)
{
	struct vmem_run *left = first ? run_containing(r, first - 1) : NULL;
	struct vmem_run *right = run_containing(r, first + count);
	uint64_t start = first, end = first + count;

	if (left) {
		start = left->first;
		drop_run(r, left);
	}
	if (right) {
		end = right->first + right->count;
		drop_run(r, right);
	}
	if (add_run(r, start, end - start) == 0)
		return 0;
	/* Put the neighbours back; the new blocks stay unplugged. */
	if (left)
		add_run(r, start, first - start);
	if (right)
		add_run(r, first + count, end - first - count);
	return -1;
}

/* Unplugged [first, +count), inside one run: the run is split around it. */
static int unmap_unplugged(struct vmem_hotplug *r, uint64_t first, uint64_t count)
{
	struct vmem_run *run = run_containing(r, first);
	uint64_t start, end;
	int ret = 0;

	if (!run)
		return error("virtio-mem: unplugged blocks %llu+%llu had no memory slot",
			     (unsigned long long)first, (unsigned long long)count);
	start = run->first;
	end = run->first + run->count;
	drop_run(r, run);
	if (add_run(r, start, first - start) || add_run(r, first + count, end - first - count))
		ret = -1;
	return ret;
}

static int punch(struct vmem_hotplug *r, uint64_t first, uint64_t count)
{
	off_t off = (off_t)(first * r->state.block_size);
	off_t len = (off_t)(count * r->state.block_size);

	if (fallocate(r->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) < 0)
		return error_errno("virtio-mem: cannot release %lld MiB (fallocate punch hole)",
				   (long long)(len >> 20));
	return 0;
}

/* vmem_state's callback, with the vCPUs paused (vmem_region_request), so
 * no vCPU ever sees plugged memory without a slot. */
static int on_change(void *opaque, uint64_t first, uint64_t count, bool plugged)
{
	struct vmem_hotplug *r = opaque;
	int ret = plugged ? map_plugged(r, first, count) : unmap_unplugged(r, first, count);

	if (ret)
		r->slot_failures++;
	if (!plugged && punch(r, first, count))
		ret = -1;
	return ret;
}

/* Guest accesses that reach kvmini land on unplugged blocks (plugged ones
 * are memory slots): reads see zeros, writes are dropped. */
static void on_unplugged_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
				bool is_write)
{
	struct vmem_hotplug *r = opaque;
	uint64_t *counter = is_write ? &r->unplugged_writes : &r->unplugged_reads;

	if (__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED) == 0)
		warn("virtio-mem: guest %s unplugged memory at 0x%llx: refused (%s)",
		     is_write ? "wrote" : "read", (unsigned long long)(r->state.addr + offset),
		     is_write ? "write dropped" : "reads as zero");
	if (!is_write)
		memset(data, 0, len);
}

static int create_backing(struct vmem_hotplug *r, uint64_t size)
{
	r->memfd = memfd_create("kvmini-hotplug-mem", MFD_CLOEXEC);
	if (r->memfd < 0)
		return error_errno("virtio-mem: memfd_create");
	if (ftruncate(r->memfd, (off_t)size) < 0)
		return error_errno("virtio-mem: cannot size the %llu MiB hotplug region",
				   (unsigned long long)(size >> 20));
	r->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       r->memfd, 0);
	if (r->host == MAP_FAILED) {
		r->host = NULL;
		return error_errno("virtio-mem: cannot map the %llu MiB hotplug region; use a "
				   "smaller --hotplug", (unsigned long long)(size >> 20));
	}
	return 0;
}

int vmem_region_create(struct vm *vm, uint64_t size, uint64_t block_size)
{
	struct vmem_hotplug *r = calloc(1, sizeof(*r));
	uint64_t gpa = vmem_region_gpa(vm, block_size);

	if (!r)
		return error("out of memory for the hotplug region");
	r->vm = vm;
	r->memfd = -1;
	pthread_mutex_init(&r->lock, NULL);
	vm->vmem = r;
	if (vmem_state_init(&r->state, gpa, size, block_size))
		return error("--hotplug: %llu MiB is not a multiple of the %llu KiB block size "
			     "(a power of two of at least 4K)", (unsigned long long)(size >> 20),
			     (unsigned long long)(block_size >> 10));
	r->state.on_change = on_change;
	r->state.opaque = r;
	if (create_backing(r, size))
		return -1;
	return io_bus_register(&vm->mmio, gpa, size, on_unplugged_access, r);
}

void vmem_region_destroy(struct vmem_hotplug *r)
{
	if (!r)
		return;
	if (r->host)
		munmap(r->host, r->state.region_size);
	if (r->memfd >= 0)
		close(r->memfd);
	vmem_state_free(&r->state);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int vmem_region_resize(struct vmem_hotplug *r, uint64_t size, const char **err)
{
	int ret;

	pthread_mutex_lock(&r->lock);
	ret = vmem_set_requested(&r->state, size, err);
	pthread_mutex_unlock(&r->lock);
	if (ret == 0 && r->config_changed)
		r->config_changed(r->config_opaque);
	return ret;
}

uint16_t vmem_region_request(struct vmem_hotplug *r, const void *req, size_t len,
			     struct virtio_mem_resp *resp)
{
	uint16_t type;

	/* Pause first, then lock: a vCPU waiting for the lock could not pause. */
	vm_pause(r->vm);
	pthread_mutex_lock(&r->lock);
	type = vmem_handle_request(&r->state, req, len, resp);
	pthread_mutex_unlock(&r->lock);
	vm_resume(r->vm);
	return type;
}

uint64_t vmem_region_resident(const struct vmem_hotplug *r)
{
	struct stat st;

	if (fstat(r->memfd, &st) < 0)
		return 0;
	return (uint64_t)st.st_blocks * 512;
}
