/* nfs3_xdr.c: NFSv3 attributes (fattr3, wcc_data, sattr3), handles and
 * the setting of attributes. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nfs/nfs3.h"

uint32_t nfs3_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return NF3DIR;
	case S_IFBLK: return NF3BLK;
	case S_IFCHR: return NF3CHR;
	case S_IFLNK: return NF3LNK;
	case S_IFSOCK: return NF3SOCK;
	case S_IFIFO: return NF3FIFO;
	default: return NF3REG;
	}
}

static void put_time(struct xdr_enc *e, const struct timespec *ts)
{
	xdr_put_u32(e, (uint32_t)ts->tv_sec);
	xdr_put_u32(e, (uint32_t)ts->tv_nsec);
}

void nfs3_put_fattr(struct xdr_enc *e, const struct nfs_export *exp, const struct stat *st)
{
	xdr_put_u32(e, nfs3_type(st->st_mode));
	xdr_put_u32(e, st->st_mode & 07777);
	xdr_put_u32(e, (uint32_t)st->st_nlink);
	xdr_put_u32(e, st->st_uid);
	xdr_put_u32(e, st->st_gid);
	xdr_put_u64(e, (uint64_t)st->st_size);
	xdr_put_u64(e, (uint64_t)st->st_blocks * 512);
	xdr_put_u32(e, major(st->st_rdev));
	xdr_put_u32(e, minor(st->st_rdev));
	xdr_put_u64(e, exp->fsid);
	xdr_put_u64(e, st->st_ino);
	put_time(e, &st->st_atim);
	put_time(e, &st->st_mtim);
	put_time(e, &st->st_ctim);
}

void nfs3_put_post_attr_st(struct xdr_enc *e, const struct nfs_export *exp, const struct stat *st)
{
	xdr_put_bool(e, st != NULL);
	if (st)
		nfs3_put_fattr(e, exp, st);
}

void nfs3_put_post_attr(struct xdr_enc *e, const struct nfs_export *exp, int fd)
{
	struct stat st;

	nfs3_put_post_attr_st(e, exp, fd >= 0 && fstat(fd, &st) == 0 ? &st : NULL);
}

void nfs3_pre_attr(int fd, struct nfs_wcc_pre *pre)
{
	pre->valid = fd >= 0 && fstat(fd, &pre->st) == 0;
}

void nfs3_put_wcc(struct xdr_enc *e, const struct nfs_export *exp, const struct nfs_wcc_pre *pre, int fd)
{
	xdr_put_bool(e, pre && pre->valid);
	if (pre && pre->valid) {
		xdr_put_u64(e, (uint64_t)pre->st.st_size);
		put_time(e, &pre->st.st_mtim);
		put_time(e, &pre->st.st_ctim);
	}
	nfs3_put_post_attr(e, exp, fd);
}

void nfs3_put_fh(struct xdr_enc *e, const struct nfs_fh *fh)
{
	xdr_put_opaque_var(e, fh->data, fh->len);
}

void nfs3_put_new_obj(struct xdr_enc *e, const struct nfs_export *exp, int fd)
{
	struct nfs_fh fh;
	bool have = fd >= 0 && fh_from_fd(exp, fd, &fh) == 0;

	xdr_put_bool(e, have);
	if (have)
		nfs3_put_fh(e, &fh);
	nfs3_put_post_attr(e, exp, fd);
}

void nfs3_get_time(struct xdr_dec *d, struct timespec *ts)
{
	ts->tv_sec = xdr_u32(d);
	ts->tv_nsec = xdr_u32(d);
	if (ts->tv_nsec >= 1000000000)
		xdr_fail(d);
}

static void get_set_time(struct xdr_dec *d, int *how, struct timespec *ts)
{
	*how = (int)xdr_u32(d);
	if (*how == 2)
		nfs3_get_time(d, ts);
	else if (*how > 2)
		xdr_fail(d);
}

void nfs3_get_sattr(struct xdr_dec *d, struct nfs_sattr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if ((sa->set_mode = xdr_bool(d)))
		sa->mode = xdr_u32(d) & 07777;
	if ((sa->set_uid = xdr_bool(d)))
		sa->uid = xdr_u32(d);
	if ((sa->set_gid = xdr_bool(d)))
		sa->gid = xdr_u32(d);
	if ((sa->set_size = xdr_bool(d)))
		sa->size = xdr_u64(d);
	get_set_time(d, &sa->atime_how, &sa->atime);
	get_set_time(d, &sa->mtime_how, &sa->mtime);
}

static void time_arg(int how, const struct timespec *client, struct timespec *out)
{
	if (how == 0) {
		out->tv_sec = 0;
		out->tv_nsec = UTIME_OMIT;
	} else if (how == 1) {
		out->tv_sec = 0;
		out->tv_nsec = UTIME_NOW;
	} else {
		*out = *client;
	}
}

/* truncate() as the caller, or as the server for the file's owner. */
static int truncate_file(const char *path, off_t size, bool owner)
{
	int rc = truncate(path, size), fsuid;

	if (rc == 0 || errno != EACCES || !owner)
		return rc;
	fsuid = (int)syscall(SYS_setfsuid, -1);
	syscall(SYS_setfsuid, 0);
	rc = truncate(path, size);
	syscall(SYS_setfsuid, fsuid);
	return rc;
}

enum nfsstat3 nfs3_apply_sattr(int fd, const struct nfs_sattr *sa, bool owner)
{
	char path[64];
	struct stat st;

	if (fstat(fd, &st))
		return nfs3_errno(errno);
	nfs3_fd_path(fd, path, sizeof(path));
	if (sa->set_uid || sa->set_gid) {
		if (fchownat(fd, "", sa->set_uid ? sa->uid : (uid_t)-1, sa->set_gid ? sa->gid : (gid_t)-1,
			     AT_EMPTY_PATH))
			return nfs3_errno(errno);
	}
	if (sa->set_mode && !S_ISLNK(st.st_mode) && chmod(path, sa->mode))
		return nfs3_errno(errno);
	if (sa->set_size) {
		if (S_ISDIR(st.st_mode))
			return NFS3ERR_ISDIR;
		if (!S_ISREG(st.st_mode))
			return NFS3ERR_INVAL;
		if (sa->size > INT64_MAX)
			return NFS3ERR_FBIG;
		if (truncate_file(path, (off_t)sa->size, owner))
			return nfs3_errno(errno);
	}
	if ((sa->atime_how || sa->mtime_how) && !S_ISLNK(st.st_mode)) {
		struct timespec ts[2];

		time_arg(sa->atime_how, &sa->atime, &ts[0]);
		time_arg(sa->mtime_how, &sa->mtime, &ts[1]);
		if (utimensat(AT_FDCWD, path, ts, 0))
			return nfs3_errno(errno);
	}
	return NFS3_OK;
}
