/* nfs3_readdir.c: READDIR and READDIRPLUS. Cookies are the directory's
 * own getdents64 offsets (d_off), so a listing resumes where it stopped
 * across calls and restarts; replies are cut to the client's count. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nfs/nfs3.h"

#define MAX_REPLY_COUNT ((uint32_t)1 << 20)

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct listing {
	const struct nfs_export *exp;
	struct rpc_reply *r;
	int dirfd;           /* O_PATH handle of the directory */
	bool plus;
	bool dir_is_root;
	uint32_t limit;      /* bytes of results allowed */
	unsigned entries;
	bool full;
};

static void put_plus_attrs(struct listing *l, const char *name)
{
	int fd = nfs3_lookup_at(l->exp, l->dirfd, name);

	if (fd < 0) {
		xdr_put_bool(&l->r->enc, false); /* no attributes */
		xdr_put_bool(&l->r->enc, false); /* no handle */
		return;
	}
	nfs3_put_post_attr(&l->r->enc, l->exp, fd);
	{
		struct nfs_fh fh;
		bool have = fh_from_fd(l->exp, fd, &fh) == 0;

		xdr_put_bool(&l->r->enc, have);
		if (have)
			nfs3_put_fh(&l->r->enc, &fh);
	}
	close(fd);
}

/* Adds one entry; false (and nothing added) when it does not fit. */
static bool add_entry(struct listing *l, const struct linux_dirent64 *d)
{
	struct xdr_enc *e = &l->r->enc;
	size_t start = e->len;
	uint64_t ino = d->d_ino;

	if (l->dir_is_root && !strcmp(d->d_name, ".."))
		ino = l->exp->root_ino;
	xdr_put_bool(e, true);
	xdr_put_u64(e, ino);
	xdr_put_string(e, d->d_name);
	xdr_put_u64(e, (uint64_t)d->d_off);
	if (l->plus)
		put_plus_attrs(l, d->d_name);
	/* 8 more bytes follow the entries: the list end and eof. */
	if (e->err || e->len - l->r->body_start + 8 > l->limit) {
		e->len = start;
		e->err = false;
		l->full = true;
		return false;
	}
	l->entries++;
	return true;
}

/* Lists from `cookie`; returns 0 with *eof, or -errno. */
static int list(struct listing *l, int dfd, uint64_t cookie, bool *eof)
{
	char buf[32768] __attribute__((aligned(8)));

	*eof = false;
	if (cookie && lseek(dfd, (off_t)cookie, SEEK_SET) < 0)
		return -EINVAL;
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		if (n == 0) {
			*eof = true;
			return 0;
		}
		for (long pos = 0; pos < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + pos);

			if (!add_entry(l, d))
				return 0;
			pos += d->d_reclen;
		}
	}
}

static enum rpc_accept_stat readdir_common(struct nfs_export *exp, struct rpc_call *call,
					   struct rpc_reply *r, bool plus)
{
	struct listing l = { .exp = exp, .r = r, .plus = plus };
	uint64_t cookie;
	uint32_t count;
	enum nfsstat3 st;
	struct stat sb;
	bool eof = false;
	int fd, dfd = -1, rc = 0;

	st = nfs3_get_fh(exp, call, &fd);
	cookie = xdr_u64(&call->args);
	xdr_opaque_fixed(&call->args, 8); /* cookieverf: cookies stay valid */
	if (plus)
		xdr_u32(&call->args); /* dircount: maxcount bounds the reply */
	count = xdr_u32(&call->args);
	if (call->args.err) {
		if (fd >= 0)
			close(fd);
		return RPC_GARBAGE_ARGS;
	}
	l.dirfd = fd;
	l.limit = count > MAX_REPLY_COUNT ? MAX_REPLY_COUNT : count;
	if (st == NFS3_OK && fstat(fd, &sb) == 0 && !S_ISDIR(sb.st_mode))
		st = NFS3ERR_NOTDIR;
	if (st == NFS3_OK)
		l.dir_is_root = nfs_export_is_root(exp, &sb);
	if (st == NFS3_OK && (st = nfs3_become(exp, call)) == NFS3_OK) {
		dfd = nfs3_reopen(fd, O_RDONLY | O_DIRECTORY);
		if (dfd < 0)
			st = nfs3_errno(errno);
	}
	xdr_put_u32(&r->enc, st);
	nfs3_put_post_attr(&r->enc, exp, fd);
	if (st == NFS3_OK) {
		static const uint8_t verf[8];

		xdr_put_opaque_fixed(&r->enc, verf, 8);
		rc = list(&l, dfd, cookie, &eof);
	}
	nfs3_unbecome(exp);
	if (st == NFS3_OK && (rc < 0 || (!l.entries && l.full))) {
		r->enc.len = r->body_start;
		st = rc < 0 ? (rc == -EINVAL ? NFS3ERR_BAD_COOKIE : nfs3_errno(-rc)) : NFS3ERR_TOOSMALL;
		xdr_put_u32(&r->enc, st);
		nfs3_put_post_attr(&r->enc, exp, fd);
	} else if (st == NFS3_OK) {
		xdr_put_bool(&r->enc, false);
		xdr_put_bool(&r->enc, eof);
	}
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	return RPC_SUCCESS;
}

enum rpc_accept_stat nfs3_readdir(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	return readdir_common(opaque, call, r, false);
}

enum rpc_accept_stat nfs3_readdirplus(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	return readdir_common(opaque, call, r, true);
}
