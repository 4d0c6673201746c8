/* nfs3.h: NFSv3 (RFC 1813) shared by the procedure files: status codes,
 * the per-call context (export, caller, resolved handle) and the XDR of
 * attributes, handles and names. */
#ifndef KVMINI_NFS_NFS3_H
#define KVMINI_NFS_NFS3_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "nfs/export.h"
#include "nfs/fh.h"
#include "nfs/rpc_server.h"

#define NFS3_PROG 100003
#define NFS3_VERS 3
#define NFS3_MAXNAME 255
#define NFS3_MAXPATH 4095
#define NFS3_MAX_IO ((uint32_t)1 << 20)

enum nfsstat3 {
	NFS3_OK = 0,
	NFS3ERR_PERM = 1,
	NFS3ERR_NOENT = 2,
	NFS3ERR_IO = 5,
	NFS3ERR_NXIO = 6,
	NFS3ERR_ACCES = 13,
	NFS3ERR_EXIST = 17,
	NFS3ERR_XDEV = 18,
	NFS3ERR_NODEV = 19,
	NFS3ERR_NOTDIR = 20,
	NFS3ERR_ISDIR = 21,
	NFS3ERR_INVAL = 22,
	NFS3ERR_FBIG = 27,
	NFS3ERR_NOSPC = 28,
	NFS3ERR_ROFS = 30,
	NFS3ERR_MLINK = 31,
	NFS3ERR_NAMETOOLONG = 63,
	NFS3ERR_NOTEMPTY = 66,
	NFS3ERR_DQUOT = 69,
	NFS3ERR_STALE = 70,
	NFS3ERR_BADHANDLE = 10001,
	NFS3ERR_NOT_SYNC = 10002,
	NFS3ERR_BAD_COOKIE = 10003,
	NFS3ERR_NOTSUPP = 10004,
	NFS3ERR_TOOSMALL = 10005,
	NFS3ERR_SERVERFAULT = 10006,
	NFS3ERR_BADTYPE = 10007,
};

enum ftype3 { NF3REG = 1, NF3DIR, NF3BLK, NF3CHR, NF3LNK, NF3SOCK, NF3FIFO };
enum stable_how { UNSTABLE = 0, DATA_SYNC = 1, FILE_SYNC = 2 };

struct nfs_server; /* nfsd.h */

/* What sattr3 asks to change (RFC 1813 2.5). */
struct nfs_sattr {
	bool set_mode, set_uid, set_gid, set_size;
	uint32_t mode, uid, gid;
	uint64_t size;
	int atime_how, mtime_how; /* 0 don't, 1 server time, 2 client time */
	struct timespec atime, mtime;
};

/* The wcc "before" attributes. */
struct nfs_wcc_pre {
	bool valid;
	struct stat st;
};

/* --- per-call helpers (nfs3.c) --- */
enum nfsstat3 nfs3_errno(int err);
/* Decodes a handle and opens it as the server; on failure returns a
 * status and *fd = -1. Sets call->args.err on a malformed argument. */
enum nfsstat3 nfs3_get_fh(const struct nfs_export *exp, struct rpc_call *call, int *fd);
/* Decodes a filename3: 1..255 bytes, no '/'. */
enum nfsstat3 nfs3_get_name(struct rpc_call *call, char *name);
/* True if the caller (after squashing) owns the file: the owner may read,
 * write and truncate a file whatever its mode, as with knfsd (clients
 * check the mode at open; a file created 0444 is then written). */
bool nfs3_caller_owns(const struct nfs_export *exp, const struct rpc_call *call, const struct stat *st);
/* Switches to the caller's identity for the rest of the call. */
enum nfsstat3 nfs3_become(const struct nfs_export *exp, struct rpc_call *call);
void nfs3_unbecome(const struct nfs_export *exp);
/* "/proc/self/fd/N" for reopening an O_PATH fd with real access. */
void nfs3_fd_path(int fd, char *buf, size_t len);
/* Opens the O_PATH `fd` again with `flags`, as the current identity. */
int nfs3_reopen(int fd, int flags);
/* Looks up one component beneath `dirfd` (O_PATH|O_NOFOLLOW, never
 * following symlinks nor crossing mounts; ".." stops at the root). */
int nfs3_lookup_at(const struct nfs_export *exp, int dirfd, const char *name);

/* --- XDR of NFS types (nfs3_xdr.c) --- */
void nfs3_put_fattr(struct xdr_enc *e, const struct nfs_export *exp, const struct stat *st);
/* post_op_attr from a fresh fstat of fd (fd < 0: no attributes). */
void nfs3_put_post_attr(struct xdr_enc *e, const struct nfs_export *exp, int fd);
void nfs3_put_post_attr_st(struct xdr_enc *e, const struct nfs_export *exp, const struct stat *st);
void nfs3_pre_attr(int fd, struct nfs_wcc_pre *pre);
void nfs3_put_wcc(struct xdr_enc *e, const struct nfs_export *exp, const struct nfs_wcc_pre *pre, int fd);
void nfs3_put_fh(struct xdr_enc *e, const struct nfs_fh *fh);
/* post_op_fh3 + post_op_attr for a new object open at fd. */
void nfs3_put_new_obj(struct xdr_enc *e, const struct nfs_export *exp, int fd);
void nfs3_get_sattr(struct xdr_dec *d, struct nfs_sattr *sa);
void nfs3_get_time(struct xdr_dec *d, struct timespec *ts);
/* Applies sattr to the object open (O_PATH) at fd, as the current identity. */
enum nfsstat3 nfs3_apply_sattr(int fd, const struct nfs_sattr *sa, bool owner);
uint32_t nfs3_type(mode_t mode);

/* --- program tables --- */
int nfs3_register(struct rpc_server *srv, struct nfs_export *exp);

/* Procedure groups (one file each). */
enum rpc_accept_stat nfs3_getattr(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_setattr(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_access(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_readlink(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_fsstat(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_fsinfo(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_pathconf(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_read(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_write(void *opaque, struct rpc_call *call, struct rpc_reply *r);
int nfs3_write_bulk(uint32_t proc, struct xdr_dec *d, uint32_t *len);
enum rpc_accept_stat nfs3_commit(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_lookup(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_create(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_mkdir(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_symlink(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_mknod(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_remove(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_rmdir(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_rename(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_link(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_readdir(void *opaque, struct rpc_call *call, struct rpc_reply *r);
enum rpc_accept_stat nfs3_readdirplus(void *opaque, struct rpc_call *call, struct rpc_reply *r);

#endif
