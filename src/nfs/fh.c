/* fh.c: building and checking authenticated file handles.
 * Layout: version(1) handle_bytes(1) reserved(2) fsid(4) handle_type(4)
 * f_handle(handle_bytes) mac(16); at most 64 bytes. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/hmac.h>

#include "nfs/fh.h"

#define FH_VERSION 1
#define FH_HDR 12
#define FH_MAC 16
#define FH_MAX_HANDLE (NFS3_FHSIZE - FH_HDR - FH_MAC)

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void mac(const struct nfs_export *exp, const uint8_t *data, size_t len, uint8_t *out)
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, sizeof(exp->key), exp->key);
	hmac_sha256_update(&ctx, len, data);
	hmac_sha256_digest(&ctx, FH_MAC, out);
}

int fh_from_fd(const struct nfs_export *exp, int fd, struct nfs_fh *fh)
{
	struct {
		struct file_handle h;
		uint8_t bytes[FH_MAX_HANDLE];
	} kh;
	struct stat st;
	int mnt;

	if (fstat(fd, &st))
		return -errno;
	if (st.st_dev != exp->dev)
		return -EXDEV;
	kh.h.handle_bytes = FH_MAX_HANDLE;
	if (name_to_handle_at(fd, "", &kh.h, &mnt, AT_EMPTY_PATH))
		return errno == EOVERFLOW ? -ENAMETOOLONG : -errno;
	memset(fh, 0, sizeof(*fh));
	fh->data[0] = FH_VERSION;
	fh->data[1] = (uint8_t)kh.h.handle_bytes;
	put32(fh->data + 4, exp->fsid);
	put32(fh->data + 8, (uint32_t)kh.h.handle_type);
	memcpy(fh->data + FH_HDR, kh.h.f_handle, kh.h.handle_bytes);
	fh->len = FH_HDR + kh.h.handle_bytes;
	mac(exp, fh->data, fh->len, fh->data + fh->len);
	fh->len += FH_MAC;
	return 0;
}

/* Constant-time comparison of the MACs. */
static int mac_ok(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;

	for (int i = 0; i < FH_MAC; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

int fh_open(const struct nfs_export *exp, const uint8_t *data, uint32_t len)
{
	struct {
		struct file_handle h;
		uint8_t bytes[FH_MAX_HANDLE];
	} kh;
	uint8_t expect[FH_MAC];
	uint32_t n;
	int fd;

	if (len < FH_HDR + FH_MAC || len > NFS3_FHSIZE || data[0] != FH_VERSION)
		return -EBADR;
	n = data[1];
	if (n > FH_MAX_HANDLE || len != FH_HDR + n + FH_MAC || data[2] || data[3])
		return -EBADR;
	if (get32(data + 4) != exp->fsid)
		return -ESTALE; /* another export's (or an old) handle */
	mac(exp, data, FH_HDR + n, expect);
	if (!mac_ok(expect, data + FH_HDR + n))
		return -EBADR;
	kh.h.handle_bytes = n;
	kh.h.handle_type = (int)get32(data + 8);
	memcpy(kh.h.f_handle, data + FH_HDR, n);
	/* The inode comes from mount_fd's file system, so it is the export's. */
	fd = open_by_handle_at(exp->mount_fd, &kh.h, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESTALE ? -ESTALE : -errno;
	return fd;
}
