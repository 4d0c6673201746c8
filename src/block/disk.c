/* disk.c: opening raw images and block devices, with their size and
 * block sizes (BLKGETSIZE64, BLKSSZGET, BLKPBSZGET for devices). */
#include "block/disk.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/parse.h"

#define DISK_MAX_QUEUES 16

static int parse_flags(struct disk *d, char *rest)
{
	char *f;
	uint64_t v;

	while ((f = next_field(&rest))) {
		if (!strcmp(f, "readonly") || !strcmp(f, "ro")) {
			d->readonly = true;
		} else if (str_starts_with(f, "serial=")) {
			size_t n = strlen(f + 7);

			memcpy(d->serial, f + 7, n < sizeof(d->serial) ? n : sizeof(d->serial));
		} else if (str_starts_with(f, "queues=")) {
			if (parse_u64(f + 7, 1, DISK_MAX_QUEUES, &v))
				return error("disk option '%s': queues must be 1 to %d", f,
					     DISK_MAX_QUEUES);
			d->queues = (int)v;
		} else {
			return error("unknown disk option '%s': use readonly, serial=S or queues=N", f);
		}
	}
	return 0;
}

static int probe_sizes(struct disk *d, const char *path)
{
	struct stat st;
	int lbs = 512, pbs = 512;

	if (fstat(d->fd, &st) < 0)
		return error_errno("cannot stat disk %s", path);
	d->is_blockdev = S_ISBLK(st.st_mode);
	if (d->is_blockdev) {
		if (ioctl(d->fd, BLKGETSIZE64, &d->size) < 0)
			return error_errno("cannot size block device %s", path);
		ioctl(d->fd, BLKSSZGET, &lbs);
		ioctl(d->fd, BLKPBSZGET, &pbs);
	} else if (S_ISREG(st.st_mode)) {
		d->size = (uint64_t)st.st_size;
		pbs = st.st_blksize >= 512 && st.st_blksize <= 65536 ? (int)st.st_blksize : 4096;
	} else {
		return error("disk %s is neither a regular file nor a block device", path);
	}
	if (d->size < 512)
		return error("disk %s is smaller than one 512-byte sector", path);
	d->ino = (uint64_t)st.st_ino ^ ((uint64_t)st.st_dev << 40);
	d->logical_block = lbs >= 512 ? (uint32_t)lbs : 512;
	d->physical_block = pbs >= (int)d->logical_block ? (uint32_t)pbs : d->logical_block;
	return 0;
}

int disk_open(struct disk *d, const char *spec)
{
	char *copy = strdup(spec), *rest = copy, *path;
	int ret = -1;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->queues = 1;
	if (!copy)
		return error("out of memory");
	path = next_field(&rest);
	if (!path || !*path) {
		error("--disk needs a path: --disk PATH[,readonly]");
		goto out;
	}
	if (parse_flags(d, rest))
		goto out;
	d->fd = open(path, (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0) {
		error_errno("cannot open disk %s%s", path, d->readonly ? "" : " for writing (add ,readonly?)");
		goto out;
	}
	if (probe_sizes(d, path))
		goto out;
	if (!d->serial[0])
		snprintf(d->serial, sizeof(d->serial), "kvmini-%llx", (unsigned long long)d->ino);
	ret = 0;
out:
	free(copy);
	if (ret)
		disk_close(d);
	return ret;
}

void disk_close(struct disk *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}
