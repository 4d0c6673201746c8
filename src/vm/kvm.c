/* kvm.c: /dev/kvm access and capability checks. */
#include "vm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/log.h"

int kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int version;

	if (fd < 0) {
		if (errno == ENOENT)
			return error("/dev/kvm does not exist: load kvm_intel or kvm_amd "
				     "(or enable virtualization in the firmware)");
		if (errno == EACCES || errno == EPERM)
			return error("no permission to open /dev/kvm: run as root or add "
				     "your user to the kvm group");
		return error_errno("cannot open /dev/kvm");
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		close(fd);
		return error("/dev/kvm speaks KVM API %d, kvmini needs %d", version,
			     KVM_API_VERSION);
	}
	return fd;
}

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
};

int kvm_check_capabilities(int kvm_fd)
{
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			return error("this KVM lacks %s, which kvmini needs: use a newer host kernel",
				     required_caps[i].name);
	}
	return 0;
}

struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG) {
			error_errno("KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
	}
	error("KVM_GET_SUPPORTED_CPUID: too many entries");
	return NULL;
}
