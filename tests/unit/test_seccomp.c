/* test_seccomp.c: the run-time filter lets a VM's work through and stops
 * exec, ptrace-free escapes and mounts (checked in forked children). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/seccomp.h"

static int run_child(enum seccomp_mode mode, int (*body)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (seccomp_install(mode))
			_exit(100);
		_exit(body());
	}
	waitpid(pid, &status, 0);
	return status;
}

static int try_exec(void)
{
	char *argv[] = { "/bin/true", NULL };

	execve("/bin/true", argv, NULL);
	return errno == EPERM ? 0 : 1;
}

static int try_mount(void)
{
	return mount("none", "/tmp", "tmpfs", 0, NULL) < 0 && errno == EPERM ? 0 : 1;
}

static int normal_work(void)
{
	char buf[4];
	int fd = open("/dev/zero", O_RDONLY);
	int ok = fd >= 0 && read(fd, buf, sizeof(buf)) == 4;

	close(fd);
	return ok ? 0 : 1;
}

static void errno_mode(void **state)
{
	int st = run_child(SECCOMP_ERRNO, try_exec);

	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run_child(SECCOMP_ERRNO, try_mount);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run_child(SECCOMP_ERRNO, normal_work);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void kill_mode(void **state)
{
	int st = run_child(SECCOMP_KILL, try_exec);

	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
}

static void modes(void **state)
{
	enum seccomp_mode m;

	assert_int_equal(seccomp_parse_mode("on", &m), 0);
	assert_int_equal(m, SECCOMP_ERRNO);
	assert_int_equal(seccomp_parse_mode("off", &m), 0);
	assert_int_equal(m, SECCOMP_OFF);
	assert_int_equal(seccomp_parse_mode("kill", &m), 0);
	assert_int_equal(m, SECCOMP_KILL);
	assert_int_equal(seccomp_parse_mode("maybe", &m), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errno_mode),
		cmocka_unit_test(kill_mode),
		cmocka_unit_test(modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
