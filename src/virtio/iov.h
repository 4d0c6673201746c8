/* iov.h: copying to and slicing scatter-gather lists of guest buffers. */
#ifndef KVMINI_IOV_H
#define KVMINI_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Copies `len` bytes at byte `offset` of the list into buf; returns the
 * number copied (less if the list is shorter). */
size_t iov_to_buf(const struct iovec *iov, int n, size_t offset, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, int n, size_t offset, const void *buf, size_t len);
/* Fills dst with the part [offset, offset+len) of src; returns the count
 * of entries, or -1 if it needs more than `max` or src is too short. */
int iov_slice(const struct iovec *src, int n, size_t offset, size_t len, struct iovec *dst,
	      int max);

#endif
