/* memory.c: guest RAM from a memfd, laid out below and above the 32-bit hole. */
#include "vm/memory.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "util/log.h"

static void add_region(struct guest_memory *mem, uint64_t gpa, uint64_t size, uint64_t off)
{
	struct mem_region *r = &mem->regions[mem->nregions++];

	r->gpa = gpa;
	r->size = size;
	r->memfd_offset = off;
	r->host = mem->host + off;
}

/* RAM plus swap: guest memory beyond this could never be backed. */
static uint64_t host_memory_limit(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return UINT64_MAX;
	return ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
}

int guest_memory_create(struct guest_memory *mem, uint64_t size)
{
	uint64_t low, limit = host_memory_limit();

	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	if (size < (16ULL << 20) || size % (2ULL << 20))
		return error("memory size %llu is not a multiple of 2 MiB of at least 16 MiB; "
			     "use e.g. --memory 512M", (unsigned long long)size);
	if (size > limit)
		return error("cannot allocate %llu MiB of guest memory: the host has %llu MiB of "
			     "RAM and swap; use a smaller --memory",
			     (unsigned long long)(size >> 20), (unsigned long long)(limit >> 20));
	mem->memfd = memfd_create("kvmini-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem->memfd < 0)
		return error_errno("cannot create guest memory (memfd_create)");
	if (ftruncate(mem->memfd, (off_t)size) < 0) {
		error_errno("cannot size guest memory to %llu MiB", (unsigned long long)(size >> 20));
		goto fail;
	}
	mem->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
			 mem->memfd, 0);
	if (mem->host == MAP_FAILED) {
		mem->host = NULL;
		error_errno("cannot map %llu MiB of guest memory; try a smaller --memory",
			    (unsigned long long)(size >> 20));
		goto fail;
	}
	madvise(mem->host, size, MADV_HUGEPAGE);
	mem->size = size;
	low = size < MEM_HOLE_START ? size : MEM_HOLE_START;
	add_region(mem, 0, low, 0);
	if (size > low)
		add_region(mem, MEM_HOLE_END, size - low, low);
	return 0;
fail:
	close(mem->memfd);
	mem->memfd = -1;
	return -1;
}

void guest_memory_destroy(struct guest_memory *mem)
{
	if (mem->host)
		munmap(mem->host, mem->size);
	if (mem->memfd >= 0)
		close(mem->memfd);
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
}

int guest_memory_map_kvm(struct guest_memory *mem, int vm_fd)
{
	for (int i = 0; i < mem->nregions; i++) {
		struct kvm_userspace_memory_region slot = {
			.slot = (uint32_t)i,
			.guest_phys_addr = mem->regions[i].gpa,
			.memory_size = mem->regions[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)mem->regions[i].host,
		};
		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return error_errno("KVM_SET_USER_MEMORY_REGION for %llu MiB at 0x%llx",
					   (unsigned long long)(slot.memory_size >> 20),
					   (unsigned long long)slot.guest_phys_addr);
	}
	return 0;
}

void *gpa_to_hva(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < mem->nregions; i++) {
		const struct mem_region *r = &mem->regions[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->host + (gpa - r->gpa);
	}
	return NULL;
}

int guest_write(const struct guest_memory *mem, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = gpa_to_hva(mem, gpa, len);

	if (!dst)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

int guest_read(const struct guest_memory *mem, uint64_t gpa, void *dst, uint64_t len)
{
	const void *src = gpa_to_hva(mem, gpa, len);

	if (!src)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

uint64_t guest_low_ram_end(const struct guest_memory *mem)
{
	return mem->regions[0].size;
}
