/* xstate_shim.c: an LD_PRELOAD shim that lets User Mode Linux 6.1 run on
 * hosts whose XSAVE area is larger than UML's fixed FP buffer (CPUs with
 * AMX: about 11 KiB). UML saves a tracee's FP state with a truncated
 * PTRACE_GETREGSET(NT_X86_XSTATE), which the host allows, but the host's
 * PTRACE_SETREGSET demands the whole area and fails with EFAULT, so every
 * UML process dies ("ptrace set fp regs failed, errno = 14"). The shim
 * completes such a short SETREGSET: it reads the tracee's full area, lays
 * UML's bytes over its start and writes the whole area back. Everything
 * else goes straight to the C library. Used only by the test harness. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef long (*ptrace_fn)(enum __ptrace_request, pid_t, void *, void *);

static __thread unsigned char full_area[64 * 1024] __attribute__((aligned(64)));

static ptrace_fn real_ptrace(void)
{
	static ptrace_fn fn;
	if (!fn)
		fn = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
	return fn;
}

static long set_whole_xstate(pid_t pid, struct iovec *short_iov)
{
	struct iovec full = { full_area, sizeof(full_area) };
	long rc = real_ptrace()(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &full);
	if (rc < 0 || full.iov_len <= short_iov->iov_len)
		return real_ptrace()(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, short_iov);
	memcpy(full_area, short_iov->iov_base, short_iov->iov_len);
	return real_ptrace()(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &full);
}

long ptrace(enum __ptrace_request request, ...)
{
	va_list ap;
	va_start(ap, request);
	pid_t pid = va_arg(ap, pid_t);
	void *addr = va_arg(ap, void *);
	void *data = va_arg(ap, void *);
	va_end(ap);
	if (request == PTRACE_SETREGSET && (long)addr == NT_X86_XSTATE && data)
		return set_whole_xstate(pid, data);
	return real_ptrace()(request, pid, addr, data);
}
