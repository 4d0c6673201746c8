/* dump_file.c: atomic dump files: temporary name, sync, rename; a write
 * error or a full disk leaves no file with the final name. */
#include "dump/dump_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

int dump_file_open(struct dump_file *f, const char *dir, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->dir = dir;
	snprintf(f->final_name, sizeof(f->final_name), "%s", name);
	f->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dir_fd < 0)
		return error_errno("dump directory %s cannot be opened; create it or pass another "
				   "--dump-dir", dir);
	for (int attempt = 0; attempt < 100 && f->fd < 0; attempt++) {
		snprintf(f->tmp_name, sizeof(f->tmp_name), ".%.32s.%d.%d.tmp", name, (int)getpid(),
			 attempt);
		f->fd = openat(f->dir_fd, f->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (f->fd < 0 && errno != EEXIST)
			break;
	}
	if (f->fd < 0) {
		error_errno("cannot create a dump file in %s", dir);
		close(f->dir_fd);
		f->dir_fd = -1;
		return -1;
	}
	return 0;
}

void dump_file_pwrite(struct dump_file *f, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len && !f->err) {
		ssize_t n = pwrite(f->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			f->err = n < 0 ? errno : ENOSPC;
			break;
		}
		p += n;
		f->written += (uint64_t)n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	if (!f->err && off > f->size)
		f->size = off;
}

void dump_file_set_size(struct dump_file *f, uint64_t size)
{
	if (f->err || size <= f->size)
		return;
	if (ftruncate(f->fd, (off_t)size) < 0)
		f->err = errno;
	else
		f->size = size;
}

static void remove_tmp(struct dump_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->dir_fd >= 0) {
		unlinkat(f->dir_fd, f->tmp_name, 0);
		close(f->dir_fd);
	}
	f->dir_fd = -1;
}

void dump_file_abort(struct dump_file *f)
{
	remove_tmp(f);
}

int dump_file_commit(struct dump_file *f)
{
	if (!f->err && fsync(f->fd) < 0)
		f->err = errno;
	if (!f->err && renameat(f->dir_fd, f->tmp_name, f->dir_fd, f->final_name) < 0)
		f->err = errno;
	if (f->err) {
		errno = f->err;
		error_errno("dump %s/%s not written (%s)", f->dir, f->final_name,
			    f->err == ENOSPC ? "the dump directory is full; free space or use another "
					       "--dump-dir" : "write error");
		remove_tmp(f);
		return -1;
	}
	fsync(f->dir_fd);
	close(f->fd);
	close(f->dir_fd);
	f->fd = f->dir_fd = -1;
	return 0;
}

int dump_stream_init(struct dump_stream *s, struct dump_file *f, uint64_t off, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->f = f;
	s->off = off;
	s->cap = cap;
	s->buf = malloc(cap);
	if (!s->buf)
		return error("out of memory for a %zu KiB dump buffer", cap >> 10);
	return 0;
}

void dump_stream_flush(struct dump_stream *s)
{
	if (!s->used)
		return;
	dump_file_pwrite(s->f, s->buf, s->used, s->off);
	s->off += s->used;
	s->used = 0;
}

void dump_stream_write(struct dump_stream *s, const void *p, size_t len)
{
	const uint8_t *src = p;

	while (len) {
		size_t n = s->cap - s->used < len ? s->cap - s->used : len;

		memcpy(s->buf + s->used, src, n);
		s->used += n;
		src += n;
		len -= n;
		if (s->used == s->cap)
			dump_stream_flush(s);
	}
}

uint64_t dump_stream_pos(const struct dump_stream *s)
{
	return s->off + s->used;
}

void dump_stream_free(struct dump_stream *s)
{
	free(s->buf);
	s->buf = NULL;
}
