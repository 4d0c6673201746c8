/* test_nfs_fh.c: NFS file handles: made from a file, opened again (also by
 * a second export instance with the same state directory, as after a
 * restart), and refused when any byte is changed or the key differs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfs/export.h"
#include "nfs/fh.h"

struct fixture {
	char dir[64];
	char export_dir[96];
	char state[96];
	char file[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	strcpy(f->dir, "/tmp/kvmini-fh-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->export_dir, sizeof(f->export_dir), "%s/export", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->file, sizeof(f->file), "%s/file", f->export_dir);
	mkdir(f->export_dir, 0755);
	fd = open(f->file, O_CREAT | O_WRONLY, 0644);
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static void open_export(struct fixture *f, struct nfs_export *exp, const char *state_dir)
{
	struct nfs_export_options o = { .path = f->export_dir, .state_dir = state_dir };

	assert_int_equal(nfs_export_open(exp, &o), 0);
}

static void round_trip_and_restart(void **state)
{
	struct fixture *f = *state;
	struct nfs_export a, b;
	struct nfs_fh fh;
	struct stat s1, s2;
	int fd, back;

	open_export(f, &a, f->state);
	fd = open(f->file, O_PATH);
	assert_int_equal(fh_from_fd(&a, fd, &fh), 0);
	assert_true(fh.len <= NFS3_FHSIZE);
	back = fh_open(&a, fh.data, fh.len);
	if (back == -EPERM) { /* not root: open_by_handle_at is refused */
		close(fd);
		nfs_export_close(&a);
		skip();
	}
	assert_true(back >= 0);
	fstat(fd, &s1);
	fstat(back, &s2);
	assert_true(s1.st_ino == s2.st_ino);
	close(back);
	/* A "restarted" server with the same state directory. */
	open_export(f, &b, f->state);
	assert_memory_equal(a.key, b.key, sizeof(a.key));
	back = fh_open(&b, fh.data, fh.len);
	assert_true(back >= 0);
	close(back);
	assert_memory_not_equal(a.write_verf, b.write_verf, sizeof(a.write_verf));
	close(fd);
	nfs_export_close(&a);
	nfs_export_close(&b);
}

static void forgeries_refused(void **state)
{
	struct fixture *f = *state;
	struct nfs_export a, other;
	struct nfs_fh fh;
	char other_state[128];
	int fd;

	open_export(f, &a, f->state);
	fd = open(f->file, O_PATH);
	assert_int_equal(fh_from_fd(&a, fd, &fh), 0);
	close(fd);
	for (uint32_t i = 0; i < fh.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			struct nfs_fh bad = fh;
			int rc;

			bad.data[i] ^= (uint8_t)(1 << bit);
			rc = fh_open(&a, bad.data, bad.len);
			assert_true(rc < 0);
			assert_true(rc == -EBADR || rc == -ESTALE);
		}
	}
	for (uint32_t len = 0; len < fh.len; len++)
		assert_true(fh_open(&a, fh.data, len) < 0);
	/* Same export, another key: refused. */
	snprintf(other_state, sizeof(other_state), "%s/other", f->dir);
	open_export(f, &other, other_state);
	assert_int_equal(fh_open(&other, fh.data, fh.len), -EBADR);
	nfs_export_close(&other);
	nfs_export_close(&a);
}

static void other_filesystem_has_no_handle(void **state)
{
	struct fixture *f = *state;
	struct nfs_export a;
	struct nfs_fh fh;
	int fd = open("/proc/self", O_PATH);

	open_export(f, &a, f->state);
	assert_int_equal(fh_from_fd(&a, fd, &fh), -EXDEV);
	close(fd);
	nfs_export_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(forgeries_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(other_filesystem_has_no_handle, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
