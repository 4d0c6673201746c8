/* release.h: giving guest memory back to the host: a guest-physical range
 * that lies in one memfd-backed region has its pages punched out of the
 * memfd (fallocate PUNCH_HOLE), so the host frees them and the guest reads
 * zeros if it touches them again. */
#ifndef KVMINI_BALLOON_RELEASE_H
#define KVMINI_BALLOON_RELEASE_H

#include <stdint.h>

struct vm;

/* Punches [offset, offset + len) out of `fd`; -1 if the range is not whole
 * pages (silently) or fallocate fails (with an error). */
int release_fd_range(int fd, uint64_t offset, uint64_t len);
/* balloon_release_fn for `kvmini run`: `opaque` is the struct vm; the range
 * must be boot RAM or plugged hotplug memory. */
int release_vm_range(void *opaque, uint64_t gpa, uint64_t len);

#endif
