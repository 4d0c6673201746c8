/* seccomp.c: kvmini's system-call allow-list, built with libseccomp and
 * synchronised to every thread (SCMP_FLTATR_CTL_TSYNC). What a running VM
 * needs: KVM ioctls, file and socket I/O for its devices, memory and
 * thread management, epoll and io_uring. Nothing that execs, traces,
 * mounts, loads code into the kernel or changes credentials. */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "util/log.h"

static const char *const allowed[] = {
	/* KVM, terminals, eventfd counters */
	"ioctl", "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "lseek", "close", "close_range", "dup", "dup3", "fcntl",
	/* files (dumps, disks, consoles) */
	"openat", "fstat", "newfstatat", "statx", "fstatfs", "statfs", "fsync", "fdatasync",
	"fallocate", "ftruncate", "renameat", "renameat2", "unlinkat", "mkdirat", "getdents64",
	"readlinkat", "faccessat", "faccessat2", "sync_file_range",
	/* zero-copy paths */
	"splice", "sendfile", "tee", "vmsplice", "pipe2", "copy_file_range",
	/* sockets accepted and served at run time */
	"accept4", "recvfrom", "sendto", "recvmsg", "sendmsg", "sendmmsg", "recvmmsg", "shutdown",
	"getsockopt", "setsockopt", "getsockname", "getpeername", "socket", "connect", "bind",
	"listen", "socketpair",
	/* event loops */
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "epoll_create1", "poll",
	"ppoll", "pselect6", "select", "eventfd2", "timerfd_create", "timerfd_settime",
	"timerfd_gettime", "signalfd4", "io_uring_enter", "io_uring_register", "io_uring_setup",
	/* memory */
	"mmap", "munmap", "mprotect", "madvise", "brk", "mremap", "memfd_create", "membarrier",
	/* threads, signals, time */
	"clone", "clone3", "futex", "set_robust_list", "get_robust_list", "rseq", "sched_yield",
	"sched_getaffinity", "gettid", "getpid", "getppid", "tgkill", "tkill", "rt_sigprocmask",
	"rt_sigaction", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack", "exit", "exit_group",
	"nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
	"prctl", "getrandom", "uname", "sysinfo", "getrusage", "getuid", "geteuid", "getgid",
	"getegid", "kill", "restart_syscall", "wait4", "prlimit64", "sched_setaffinity",
};

/* LeakSanitizer stops the world with ptrace at exit: sanitized builds
 * (the test suite's) must let it, or every run would end in an error. */
#if defined(__SANITIZE_ADDRESS__)
static const char *const sanitizer_extra[] = {
	"ptrace", "waitid", "open", "stat", "lstat", "readlink", "getdents", "access", "pipe",
	"dup2", "arch_prctl", "sched_getparam", "sched_getscheduler",
};
#else
static const char *const sanitizer_extra[] = { NULL };
#endif

int seccomp_parse_mode(const char *s, enum seccomp_mode *mode)
{
	if (!strcmp(s, "on"))
		*mode = SECCOMP_ERRNO;
	else if (!strcmp(s, "off"))
		*mode = SECCOMP_OFF;
	else if (!strcmp(s, "kill"))
		*mode = SECCOMP_KILL;
	else
		return -1;
	return 0;
}

static int allow_all(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr;

		if (!names[i])
			continue;
		nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			return error("seccomp: cannot allow %s", names[i]);
	}
	return 0;
}

int seccomp_install(enum seccomp_mode mode)
{
	uint32_t deny = mode == SECCOMP_KILL ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx ctx;
	int ret;

	if (mode == SECCOMP_OFF)
		return 0;
	ctx = seccomp_init(deny);
	if (!ctx)
		return error("seccomp: cannot create a filter");
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret == 0)
		ret = allow_all(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]));
	if (ret == 0)
		ret = allow_all(ctx, sanitizer_extra,
				sizeof(sanitizer_extra) / sizeof(sanitizer_extra[0]));
	if (ret == 0 && (ret = seccomp_load(ctx)) < 0)
		ret = error("seccomp: cannot load the filter: %s; run with --seccomp off",
			    strerror(-ret));
	seccomp_release(ctx);
	return ret;
}
