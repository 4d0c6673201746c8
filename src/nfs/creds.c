/* creds.c: per-thread credential switching with setfsuid/setfsgid and
 * the raw setgroups system call. */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nfs/creds.h"

void nfs_map_cred(const struct nfs_export *exp, const struct rpc_cred *cred, uint32_t *uid,
		  uint32_t *gid)
{
	*uid = cred->uid;
	*gid = cred->gid;
	if (exp->all_squash || cred->flavor != RPC_AUTH_SYS || (exp->root_squash && cred->uid == 0)) {
		*uid = exp->anon_uid;
		*gid = exp->anon_gid;
	}
	if (exp->root_squash && *gid == 0)
		*gid = exp->anon_gid;
}

int nfs_become(const struct nfs_export *exp, const struct rpc_cred *cred)
{
	gid_t groups[RPC_AUTH_SYS_MAX_GIDS];
	uint32_t uid, gid, n = 0;

	if (!exp->switch_creds)
		return 0;
	nfs_map_cred(exp, cred, &uid, &gid);
	if (cred->flavor == RPC_AUTH_SYS && !exp->all_squash && uid == cred->uid) {
		for (uint32_t i = 0; i < cred->ngids; i++)
			if (!(exp->root_squash && cred->gids[i] == 0))
				groups[n++] = cred->gids[i];
	}
	if (syscall(SYS_setgroups, n, groups))
		return -errno;
	syscall(SYS_setfsgid, gid);
	syscall(SYS_setfsuid, uid);
	/* setfsuid reports no error: check that it took. */
	if ((uint32_t)syscall(SYS_setfsuid, -1) != uid || (uint32_t)syscall(SYS_setfsgid, -1) != gid) {
		nfs_become_server(exp);
		return -EPERM;
	}
	return 0;
}

void nfs_become_server(const struct nfs_export *exp)
{
	if (!exp->switch_creds)
		return;
	syscall(SYS_setfsuid, 0);
	syscall(SYS_setfsgid, 0);
	syscall(SYS_setgroups, 0, NULL);
}
