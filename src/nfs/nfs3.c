/* nfs3.c: the NFSv3 program table and the helpers every procedure uses:
 * errno to nfsstat3, handle and name decoding, acting as the caller, and
 * safe single-component lookups beneath the export. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nfs/creds.h"
#include "nfs/nfs3.h"

enum nfsstat3 nfs3_errno(int err)
{
	switch (err) {
	case 0: return NFS3_OK;
	case EPERM: return NFS3ERR_PERM;
	case ENOENT: return NFS3ERR_NOENT;
	case ENXIO: return NFS3ERR_NXIO;
	case EACCES: return NFS3ERR_ACCES;
	case EEXIST: return NFS3ERR_EXIST;
	case EXDEV: return NFS3ERR_XDEV;
	case ENODEV: return NFS3ERR_NODEV;
	case ENOTDIR: return NFS3ERR_NOTDIR;
	case EISDIR: return NFS3ERR_ISDIR;
	case EINVAL: return NFS3ERR_INVAL;
	case EFBIG: return NFS3ERR_FBIG;
	case ENOSPC: return NFS3ERR_NOSPC;
	case EROFS: return NFS3ERR_ROFS;
	case EMLINK: return NFS3ERR_MLINK;
	case ENAMETOOLONG: return NFS3ERR_NAMETOOLONG;
	case ENOTEMPTY: return NFS3ERR_NOTEMPTY;
	case EDQUOT: return NFS3ERR_DQUOT;
	case ESTALE: return NFS3ERR_STALE;
	case EBADR: return NFS3ERR_BADHANDLE;
	case ELOOP: return NFS3ERR_ACCES; /* a symlink where none may be followed */
	case EOPNOTSUPP: return NFS3ERR_NOTSUPP;
	default: return NFS3ERR_IO;
	}
}

enum nfsstat3 nfs3_get_fh(const struct nfs_export *exp, struct rpc_call *call, int *fd)
{
	uint32_t len;
	const uint8_t *p = xdr_opaque_var(&call->args, NFS3_FHSIZE, &len);
	int rc;

	*fd = -1;
	if (!p)
		return NFS3ERR_BADHANDLE;
	rc = fh_open(exp, p, len);
	if (rc < 0)
		return nfs3_errno(-rc);
	*fd = rc;
	return NFS3_OK;
}

enum nfsstat3 nfs3_get_name(struct rpc_call *call, char *name)
{
	/* Decode up to the XDR limit so an over-long name is NAMETOOLONG,
	 * not GARBAGE_ARGS. */
	uint32_t len;
	const uint8_t *p = xdr_opaque_var(&call->args, 65535, &len);

	name[0] = 0;
	if (!p)
		return NFS3ERR_INVAL;
	if (len > NFS3_MAXNAME)
		return NFS3ERR_NAMETOOLONG;
	if (!len || memchr(p, '/', len) || memchr(p, 0, len))
		return NFS3ERR_ACCES;
	memcpy(name, p, len);
	name[len] = 0;
	return NFS3_OK;
}

bool nfs3_caller_owns(const struct nfs_export *exp, const struct rpc_call *call, const struct stat *st)
{
	uint32_t uid, gid;

	nfs_map_cred(exp, &call->h.cred, &uid, &gid);
	return exp->switch_creds && st->st_uid == uid;
}

enum nfsstat3 nfs3_become(const struct nfs_export *exp, struct rpc_call *call)
{
	return nfs3_errno(-nfs_become(exp, &call->h.cred));
}

void nfs3_unbecome(const struct nfs_export *exp)
{
	nfs_become_server(exp);
}

void nfs3_fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

int nfs3_reopen(int fd, int flags)
{
	char path[64];

	nfs3_fd_path(fd, path, sizeof(path));
	return open(path, flags | O_CLOEXEC);
}

/* True if the directory open at fd is the export root or beneath it:
 * walks up through "..". A directory moved out of the export by a host
 * process keeps its handle, and its parents must not get one. */
static bool beneath_root(const struct nfs_export *exp, int fd)
{
	int cur = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	bool found = false;

	for (int depth = 0; cur >= 0 && depth < 4096; depth++) {
		struct stat st, up;
		int parent;

		if (fstat(cur, &st) || st.st_dev != exp->dev)
			break;
		if (nfs_export_is_root(exp, &st)) {
			found = true;
			break;
		}
		parent = openat(cur, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		cur = parent;
		if (cur < 0 || fstat(cur, &up) || (up.st_ino == st.st_ino && up.st_dev == st.st_dev))
			break; /* the file system's root, not ours */
	}
	if (cur >= 0)
		close(cur);
	return found;
}

int nfs3_lookup_at(const struct nfs_export *exp, int dirfd, const char *name)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	struct stat st;
	int fd;

	if (!strcmp(name, "..")) {
		/* The parent of the root is the root; of anything else, its
		 * real parent, which is beneath the root too. */
		if (fstat(dirfd, &st))
			return -errno;
		if (nfs_export_is_root(exp, &st)) {
			fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
			return fd < 0 ? -errno : fd;
		}
		fd = openat(dirfd, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) || st.st_dev != exp->dev || !beneath_root(exp, fd)) {
			close(fd);
			return -EACCES;
		}
		return fd;
	}
	fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static enum rpc_accept_stat nfs3_null(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	return RPC_SUCCESS;
}

static const struct rpc_proc nfs3_procs[] = {
	{ "NULL", nfs3_null, true },
	{ "GETATTR", nfs3_getattr, false },
	{ "SETATTR", nfs3_setattr, false },
	{ "LOOKUP", nfs3_lookup, false },
	{ "ACCESS", nfs3_access, false },
	{ "READLINK", nfs3_readlink, false },
	{ "READ", nfs3_read, false },
	{ "WRITE", nfs3_write, false },
	{ "CREATE", nfs3_create, false },
	{ "MKDIR", nfs3_mkdir, false },
	{ "SYMLINK", nfs3_symlink, false },
	{ "MKNOD", nfs3_mknod, false },
	{ "REMOVE", nfs3_remove, false },
	{ "RMDIR", nfs3_rmdir, false },
	{ "RENAME", nfs3_rename, false },
	{ "LINK", nfs3_link, false },
	{ "READDIR", nfs3_readdir, false },
	{ "READDIRPLUS", nfs3_readdirplus, false },
	{ "FSSTAT", nfs3_fsstat, false },
	{ "FSINFO", nfs3_fsinfo, false },
	{ "PATHCONF", nfs3_pathconf, false },
	{ "COMMIT", nfs3_commit, false },
};

int nfs3_register(struct rpc_server *srv, struct nfs_export *exp)
{
	struct rpc_program prog = {
		.prog = NFS3_PROG,
		.vers = NFS3_VERS,
		.name = "nfs",
		.procs = nfs3_procs,
		.nprocs = sizeof(nfs3_procs) / sizeof(nfs3_procs[0]),
		.opaque = exp,
		.bulk = nfs3_write_bulk,
	};

	return rpc_server_add_program(srv, &prog);
}
