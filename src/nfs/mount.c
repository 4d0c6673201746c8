/* mount.c: MOUNT v3 procedures. A MNT path is the export's path or a
 * directory beneath it, resolved with openat2(RESOLVE_BENEATH) from the
 * export root, so "../" and symlinks cannot lead out of it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nfs/creds.h"
#include "nfs/fh.h"
#include "nfs/mount.h"

enum {
	MNT3_OK = 0,
	MNT3ERR_PERM = 1,
	MNT3ERR_NOENT = 2,
	MNT3ERR_IO = 5,
	MNT3ERR_ACCES = 13,
	MNT3ERR_NOTDIR = 20,
	MNT3ERR_INVAL = 22,
	MNT3ERR_NAMETOOLONG = 63,
};

void mountd_init(struct nfs_mountd *m, struct nfs_export *exp)
{
	memset(m, 0, sizeof(*m));
	m->exp = exp;
	pthread_mutex_init(&m->lock, NULL);
}

void mountd_destroy(struct nfs_mountd *m)
{
	pthread_mutex_destroy(&m->lock);
}

static void peer_name(const struct rpc_call *call, char *out, size_t len)
{
	const struct sockaddr_storage *ss = &call->peer;
	const void *addr = ss->ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)ss)->sin6_addr
						     : (const void *)&((struct sockaddr_in *)ss)->sin_addr;

	if (!inet_ntop(ss->ss_family, addr, out, (socklen_t)len))
		snprintf(out, len, "?");
}

static int mnt_errno(int e)
{
	switch (e) {
	case ENOENT: return MNT3ERR_NOENT;
	case EACCES: case ELOOP: case EXDEV: return MNT3ERR_ACCES;
	case ENOTDIR: return MNT3ERR_NOTDIR;
	case ENAMETOOLONG: return MNT3ERR_NAMETOOLONG;
	case EPERM: return MNT3ERR_PERM;
	case EINVAL: return MNT3ERR_INVAL;
	default: return MNT3ERR_IO;
	}
}

/* Opens the directory `path` names (the export or beneath it). */
static int open_mount_path(const struct nfs_export *exp, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	size_t n = strlen(exp->path);
	const char *rest;
	int fd;

	if (!strcmp(exp->path, "/"))
		n = 0;
	if (strncmp(path, exp->path, n) || (path[n] && path[n] != '/'))
		return -EACCES;
	rest = path + n;
	while (*rest == '/')
		rest++;
	if (!*rest)
		rest = ".";
	fd = (int)syscall(SYS_openat2, exp->root_fd, rest, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static void remember(struct nfs_mountd *m, const char *host, const char *path)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->n; i++) {
		if (!strcmp(m->list[i].host, host) && !strcmp(m->list[i].path, path)) {
			pthread_mutex_unlock(&m->lock);
			return;
		}
	}
	if (m->n < MOUNT_MAX_ENTRIES) {
		snprintf(m->list[m->n].host, sizeof(m->list[m->n].host), "%s", host);
		snprintf(m->list[m->n].path, sizeof(m->list[m->n].path), "%s", path);
		m->n++;
	}
	pthread_mutex_unlock(&m->lock);
}

static void forget(struct nfs_mountd *m, const char *host, const char *path)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->n;) {
		if (!strcmp(m->list[i].host, host) && (!path || !strcmp(m->list[i].path, path)))
			m->list[i] = m->list[--m->n];
		else
			i++;
	}
	pthread_mutex_unlock(&m->lock);
}

static enum rpc_accept_stat mnt_null(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	return RPC_SUCCESS;
}

static enum rpc_accept_stat mnt_mnt(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_mountd *m = opaque;
	char path[MOUNT_MAXPATH + 1], host[64];
	struct nfs_fh fh;
	int fd, st = MNT3_OK, rc;

	if (xdr_string(&call->args, MOUNT_MAXPATH, path))
		return RPC_GARBAGE_ARGS;
	fd = open_mount_path(m->exp, path);
	if (fd < 0) {
		st = mnt_errno(-fd);
	} else {
		rc = fh_from_fd(m->exp, fd, &fh);
		if (rc < 0)
			st = mnt_errno(-rc);
		close(fd);
	}
	xdr_put_u32(&r->enc, (uint32_t)st);
	if (st != MNT3_OK)
		return RPC_SUCCESS;
	xdr_put_opaque_var(&r->enc, fh.data, fh.len);
	xdr_put_u32(&r->enc, 1);            /* one flavour: */
	xdr_put_u32(&r->enc, RPC_AUTH_SYS);
	peer_name(call, host, sizeof(host));
	remember(m, host, path);
	return RPC_SUCCESS;
}

static enum rpc_accept_stat mnt_dump(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_mountd *m = opaque;

	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->n; i++) {
		xdr_put_bool(&r->enc, true);
		xdr_put_string(&r->enc, m->list[i].host);
		xdr_put_string(&r->enc, m->list[i].path);
	}
	pthread_mutex_unlock(&m->lock);
	xdr_put_bool(&r->enc, false);
	return RPC_SUCCESS;
}

static enum rpc_accept_stat mnt_umnt(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_mountd *m = opaque;
	char path[MOUNT_MAXPATH + 1], host[64];

	if (xdr_string(&call->args, MOUNT_MAXPATH, path))
		return RPC_GARBAGE_ARGS;
	peer_name(call, host, sizeof(host));
	forget(m, host, path);
	return RPC_SUCCESS;
}

static enum rpc_accept_stat mnt_umntall(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_mountd *m = opaque;
	char host[64];

	peer_name(call, host, sizeof(host));
	forget(m, host, NULL);
	return RPC_SUCCESS;
}

static enum rpc_accept_stat mnt_export(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_mountd *m = opaque;

	xdr_put_bool(&r->enc, true);
	xdr_put_string(&r->enc, m->exp->path);
	xdr_put_bool(&r->enc, true);   /* groups: everyone */
	xdr_put_string(&r->enc, "*");
	xdr_put_bool(&r->enc, false);
	xdr_put_bool(&r->enc, false);
	return RPC_SUCCESS;
}

static const struct rpc_proc mount_procs[] = {
	{ "NULL", mnt_null, true },
	{ "MNT", mnt_mnt, false },
	{ "DUMP", mnt_dump, true },
	{ "UMNT", mnt_umnt, true },
	{ "UMNTALL", mnt_umntall, true },
	{ "EXPORT", mnt_export, true },
};

int mountd_register(struct rpc_server *srv, struct nfs_mountd *m)
{
	struct rpc_program prog = {
		.prog = MOUNT_PROG,
		.vers = MOUNT_VERS,
		.name = "mountd",
		.procs = mount_procs,
		.nprocs = sizeof(mount_procs) / sizeof(mount_procs[0]),
		.opaque = m,
	};

	return rpc_server_add_program(srv, &prog);
}
