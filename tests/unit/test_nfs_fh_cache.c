/* test_nfs_fh_cache.c: the open-file cache by handle: hits share one fd,
 * the read-only fd is opened once, a removed file's entry is dropped (or
 * forgotten, as REMOVE does) and its handle goes stale, and a set whose ways are all borrowed hands out
 * uncached files instead of evicting borrowed ones. */
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
#include "nfs/fh_cache.h"

#define NFILES 6

struct fixture {
	char dir[64];
	char path[NFILES][128];
	struct nfs_export exp;
	struct nfs_fh fh[NFILES];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct nfs_export_options o = { 0 };
	char export_dir[96], state_dir[96];

	strcpy(f->dir, "/tmp/kvmini-fhc-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(export_dir, sizeof(export_dir), "%s/export", f->dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", f->dir);
	mkdir(export_dir, 0755);
	o.path = export_dir;
	o.state_dir = state_dir;
	if (nfs_export_open(&f->exp, &o))
		return -1;
	for (int i = 0; i < NFILES; i++) {
		int fd;

		snprintf(f->path[i], sizeof(f->path[i]), "%s/file%d", export_dir, i);
		fd = open(f->path[i], O_CREAT | O_RDWR, 0644);
		if (fd < 0 || write(fd, "data", 4) != 4 || fh_from_fd(&f->exp, fd, &f->fh[i]))
			return -1;
		close(fd);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	nfs_export_close(&f->exp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

/* open_by_handle_at needs CAP_DAC_READ_SEARCH. */
static void skip_unless_privileged(struct fixture *f)
{
	int fd = fh_open(&f->exp, f->fh[0].data, f->fh[0].len);

	if (fd == -EPERM)
		skip();
	assert_true(fd >= 0);
	close(fd);
}

static void hits_share_one_file(void **state)
{
	struct fixture *f = *state;
	struct fh_cache *c = fh_cache_new(4);
	struct fh_ref a, b;
	int rd;
	char buf[4];

	skip_unless_privileged(f);
	assert_non_null(c);
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[0].data, f->fh[0].len, &a, false), 0);
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[0].data, f->fh[0].len, &b, false), 0);
	assert_non_null(a.entry);
	assert_ptr_equal(a.entry, b.entry);
	assert_int_equal(a.fd, b.fd);
	rd = fh_cache_read_fd(c, &a);
	assert_true(rd >= 0);
	assert_int_equal(fh_cache_read_fd(c, &b), rd);
	assert_int_equal(pread(rd, buf, 4, 0), 4);
	assert_memory_equal(buf, "data", 4);
	fh_cache_put(c, &a);
	fh_cache_put(c, &b);
	/* Looking up only: a hit, and a miss that opens nothing. */
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[0].data, f->fh[0].len, &a, true), 0);
	assert_non_null(a.entry);
	fh_cache_put(c, &a);
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[1].data, f->fh[1].len, &a, true), -EAGAIN);
	/* A forged handle is refused as by fh_open, and not cached. */
	f->fh[1].data[f->fh[1].len - 1] ^= 1;
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[1].data, f->fh[1].len, &a, false), -EBADR);
	fh_cache_free(c);
}

static void removed_file_goes_stale(void **state)
{
	struct fixture *f = *state;
	struct fh_cache *c = fh_cache_new(4);
	struct fh_ref a;
	struct stat sb;

	skip_unless_privileged(f);
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[2].data, f->fh[2].len, &a, false), 0);
	fh_cache_put(c, &a);
	assert_int_equal(unlink(f->path[2]), 0);
	/* Still cached: the user sees the lost link and drops it. */
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[2].data, f->fh[2].len, &a, false), 0);
	assert_non_null(a.entry);
	assert_int_equal(fstat(a.fd, &sb), 0);
	assert_int_equal(sb.st_nlink, 0);
	fh_cache_drop(c, &a);
	fh_cache_put(c, &a);
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[2].data, f->fh[2].len, &a, false), -ESTALE);
	fh_cache_free(c);
}

static void forgotten_handle_is_closed(void **state)
{
	struct fixture *f = *state;
	struct fh_cache *c = fh_cache_new(4);
	struct fh_ref a, b;

	skip_unless_privileged(f);
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[3].data, f->fh[3].len, &a, false), 0);
	fh_cache_put(c, &a);
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[4].data, f->fh[4].len, &b, false), 0);
	/* As REMOVE does: forget, then unlink; a borrower keeps its file. */
	fh_cache_forget(c, f->fh[3].data, f->fh[3].len);
	fh_cache_forget(c, f->fh[4].data, f->fh[4].len);
	assert_int_equal(unlink(f->path[3]), 0);
	assert_int_equal(unlink(f->path[4]), 0);
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[3].data, f->fh[3].len, &a, false), -ESTALE);
	assert_true(fcntl(b.fd, F_GETFD) >= 0);
	fh_cache_put(c, &b);
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[4].data, f->fh[4].len, &b, false), -ESTALE);
	fh_cache_free(c);
}

static void borrowed_entries_are_not_evicted(void **state)
{
	struct fixture *f = *state;
	struct fh_cache *c = fh_cache_new(1); /* one set of 4 ways */
	struct fh_ref refs[NFILES];
	struct stat sb;

	skip_unless_privileged(f);
	for (int i = 0; i < NFILES; i++) {
		assert_int_equal(fh_cache_get(c, &f->exp, f->fh[i].data, f->fh[i].len, &refs[i], false), 0);
		assert_int_equal(fstat(refs[i].fd, &sb), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_non_null(refs[i].entry);
	for (int i = 4; i < NFILES; i++) {
		assert_null(refs[i].entry);
		assert_int_equal(fh_cache_read_fd(c, &refs[i]), -EINVAL);
	}
	for (int i = 0; i < NFILES; i++)
		fh_cache_put(c, &refs[i]);
	/* With nothing borrowed, a new handle evicts the least recently used. */
	assert_int_equal(fh_cache_get(c, &f->exp, f->fh[5].data, f->fh[5].len, &refs[5], false), 0);
	assert_non_null(refs[5].entry);
	fh_cache_put(c, &refs[5]);
	fh_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hits_share_one_file, setup, teardown),
		cmocka_unit_test_setup_teardown(removed_file_goes_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(forgotten_handle_is_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(borrowed_entries_are_not_evicted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
