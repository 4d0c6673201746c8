/* disk.h: a disk image or block device opened for a virtio-blk device. */
#ifndef KVMINI_DISK_H
#define KVMINI_DISK_H

#include <stdbool.h>
#include <stdint.h>

struct disk {
	int fd;
	bool readonly;
	bool is_blockdev;
	uint64_t size;          /* bytes */
	uint32_t logical_block; /* bytes, at least 512 */
	uint32_t physical_block;
	char serial[20];        /* VIRTIO_BLK_ID_BYTES, not NUL-terminated when full */
	int queues;
	uint64_t ino;           /* file identity, for a stable default serial */
};

/* Parses "PATH[,readonly][,serial=S][,queues=N]" and opens it. */
int disk_open(struct disk *d, const char *spec);
void disk_close(struct disk *d);

#endif
