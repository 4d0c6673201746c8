/* dump_file.h: a dump file written atomically: a temporary file in the dump
 * directory, synced and renamed to its final name only when complete. */
#ifndef KVMINI_DUMP_FILE_H
#define KVMINI_DUMP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dump_progress;

struct dump_file {
	int fd;
	int dir_fd;
	char tmp_name[64];
	char final_name[128];
	const char *dir;
	int err;              /* first write error (errno), 0 if none */
	uint64_t size;        /* file size so far (end of the furthest write) */
	uint64_t written;     /* bytes actually written (zero pages of an ELF are holes) */
	struct dump_progress *progress;
};

/* Creates DIR/.NAME.XXXXXX.tmp. */
int dump_file_open(struct dump_file *f, const char *dir, const char *name);
/* Writes at `off`; after the first error, does nothing (see dump_file_commit). */
void dump_file_pwrite(struct dump_file *f, const void *buf, size_t len, uint64_t off);
/* Extends the file to `size` (sparse tail). */
void dump_file_set_size(struct dump_file *f, uint64_t size);
/* fsync, rename to the final name and sync the directory; on any error
 * (including an earlier write error) removes the temporary file and says why. */
int dump_file_commit(struct dump_file *f);
/* Removes the temporary file (dump abandoned). */
void dump_file_abort(struct dump_file *f);

/* Appends through a buffer, for streams of small records. */
struct dump_stream {
	struct dump_file *f;
	uint64_t off;         /* file offset of buf[0] */
	size_t used;
	uint8_t *buf;
	size_t cap;
};

int dump_stream_init(struct dump_stream *s, struct dump_file *f, uint64_t off, size_t cap);
void dump_stream_write(struct dump_stream *s, const void *p, size_t len);
void dump_stream_flush(struct dump_stream *s);
void dump_stream_free(struct dump_stream *s);
/* File offset of the next byte appended. */
uint64_t dump_stream_pos(const struct dump_stream *s);

#endif
