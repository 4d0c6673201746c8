/* creds.c: per-thread credential switching with setfsuid/setfsgid and
 * the raw setgroups system call. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
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

/* What this thread last switched to, so repeated calls from one client
 * cost one setfsuid each way. Supplementary groups and fsgid only matter
 * while acting as a caller, so they stay when switching back to root. */
static __thread struct {
	bool valid;
	uint32_t gid;
	uint32_t ngroups;
	gid_t groups[RPC_AUTH_SYS_MAX_GIDS];
} current;

static int set_groups(const gid_t *groups, uint32_t n)
{
	if (current.valid && current.ngroups == n && !memcmp(current.groups, groups, n * sizeof(gid_t)))
		return 0;
	if (syscall(SYS_setgroups, n, groups))
		return -errno;
	current.ngroups = n;
	memcpy(current.groups, groups, n * sizeof(gid_t));
	return 0;
}

int nfs_become(const struct nfs_export *exp, const struct rpc_cred *cred)
{
	gid_t groups[RPC_AUTH_SYS_MAX_GIDS];
	uint32_t uid, gid, n = 0;
	int rc;

	if (!exp->switch_creds)
		return 0;
	nfs_map_cred(exp, cred, &uid, &gid);
	if (cred->flavor == RPC_AUTH_SYS && !exp->all_squash && uid == cred->uid) {
		for (uint32_t i = 0; i < cred->ngids; i++)
			if (!(exp->root_squash && cred->gids[i] == 0))
				groups[n++] = cred->gids[i];
	}
	rc = set_groups(groups, n);
	if (rc) {
		current.valid = false;
		return rc;
	}
	if (!current.valid || current.gid != gid)
		syscall(SYS_setfsgid, gid);
	current.gid = gid;
	current.valid = true;
	/* As root, setfsuid cannot fail (and reports nothing anyway). */
	syscall(SYS_setfsuid, uid);
	return 0;
}

void nfs_become_server(const struct nfs_export *exp)
{
	if (exp->switch_creds)
		syscall(SYS_setfsuid, 0);
}
