/* iov.c: scatter-gather helpers over guest buffers (already translated). */
#include "virtio/iov.h"

#include <string.h>

static size_t iov_copy(const struct iovec *iov, int n, size_t offset, void *buf, size_t len,
		       int to_buf)
{
	size_t done = 0;

	for (int i = 0; i < n && done < len; i++) {
		size_t chunk;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		chunk = iov[i].iov_len - offset;
		if (chunk > len - done)
			chunk = len - done;
		if (to_buf)
			memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + offset, chunk);
		else
			memcpy((uint8_t *)iov[i].iov_base + offset, (const uint8_t *)buf + done, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, int n, size_t offset, void *buf, size_t len)
{
	return iov_copy(iov, n, offset, buf, len, 1);
}

size_t iov_from_buf(const struct iovec *iov, int n, size_t offset, const void *buf, size_t len)
{
	return iov_copy(iov, n, offset, (void *)buf, len, 0);
}

int iov_slice(const struct iovec *src, int n, size_t offset, size_t len, struct iovec *dst,
	      int max)
{
	int out = 0;

	for (int i = 0; i < n && len; i++) {
		size_t chunk;

		if (offset >= src[i].iov_len) {
			offset -= src[i].iov_len;
			continue;
		}
		if (out == max)
			return -1;
		chunk = src[i].iov_len - offset;
		if (chunk > len)
			chunk = len;
		dst[out++] = (struct iovec){ (uint8_t *)src[i].iov_base + offset, chunk };
		len -= chunk;
		offset = 0;
	}
	return len ? -1 : out;
}
