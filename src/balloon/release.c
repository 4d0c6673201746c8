/* release.c: returning ballooned or reported guest pages to the host by
 * punching them out of the memfd that backs them. */
#include "balloon/release.h"

#include <fcntl.h>
#include <errno.h>

#include "hotplug/vmem_region.h"
#include "util/log.h"
#include "vm/vm.h"

int release_fd_range(int fd, uint64_t offset, uint64_t len)
{
	if (offset % 4096 || len % 4096 || offset > INT64_MAX || len > INT64_MAX - offset)
		return -1; /* not whole pages: the caller counts it, a guest cannot flood the log */
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
		      (off_t)len) < 0)
		return error_errno("cannot release %llu KiB of guest memory (fallocate punch hole)",
				   (unsigned long long)(len >> 10));
	return 0;
}

static int release_hotplug(struct vmem_hotplug *r, uint64_t gpa, uint64_t len)
{
	uint64_t off, first, last;
	int ret = 0;

	if (!r || gpa < r->state.addr || gpa - r->state.addr >= r->state.region_size ||
	    len > r->state.region_size - (gpa - r->state.addr))
		return -1;
	off = gpa - r->state.addr;
	first = off / r->state.block_size;
	last = (off + len - 1) / r->state.block_size;
	pthread_mutex_lock(&r->lock); /* no plug or unplug meanwhile */
	for (uint64_t b = first; b <= last && ret == 0; b++)
		if (!vmem_block_plugged(&r->state, b))
			ret = -1; /* not guest memory right now */
	if (ret == 0)
		ret = release_fd_range(r->memfd, off, len);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int release_vm_range(void *opaque, uint64_t gpa, uint64_t len)
{
	struct vm *vm = opaque;
	uint8_t *hva;

	if (!len)
		return 0;
	hva = gpa_to_hva(&vm->mem, gpa, len);
	if (hva)
		return release_fd_range(vm->mem.memfd, (uint64_t)(hva - vm->mem.host), len);
	return release_hotplug(vm->vmem, gpa, len);
}
