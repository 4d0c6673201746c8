/* export.c: opening an export: its root directory, its handle key (made
 * once with getrandom and kept in STATE_DIR/export-<fsid>.key, mode 0600)
 * and a fresh write verifier. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "nfs/export.h"
#include "util/log.h"

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(tmp))
		return error("nfsd: state directory path too long");
	memcpy(tmp, dir, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return error_errno("nfsd: cannot create %s", tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return error_errno("nfsd: cannot create %s", tmp);
	return 0;
}

static int read_key(const char *file, uint8_t *key)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? 1 : error_errno("nfsd: cannot open %s", file);
	n = read(fd, key, NFS_EXPORT_KEY_LEN);
	close(fd);
	if (n != NFS_EXPORT_KEY_LEN)
		return error("nfsd: %s is not a %d-byte key", file, NFS_EXPORT_KEY_LEN);
	return 0;
}

static int write_key(const char *file, uint8_t *key)
{
	char tmp[PATH_MAX + 8];
	int fd;

	if (getrandom(key, NFS_EXPORT_KEY_LEN, 0) != NFS_EXPORT_KEY_LEN)
		return error_errno("nfsd: getrandom");
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return error_errno("nfsd: cannot create %s", tmp);
	if (write(fd, key, NFS_EXPORT_KEY_LEN) != NFS_EXPORT_KEY_LEN || fsync(fd)) {
		close(fd);
		return error_errno("nfsd: cannot write %s", tmp);
	}
	close(fd);
	if (rename(tmp, file))
		return error_errno("nfsd: cannot rename %s", tmp);
	return 0;
}

static int load_key(struct nfs_export *exp, const char *state_dir)
{
	char file[PATH_MAX];
	int rc;

	if (mkdir_p(state_dir))
		return -1;
	if (snprintf(file, sizeof(file), "%s/export-%08x.key", state_dir, exp->fsid) >= (int)sizeof(file))
		return error("nfsd: state directory path too long");
	rc = read_key(file, exp->key);
	if (rc <= 0)
		return rc;
	return write_key(file, exp->key);
}

static uint32_t path_fsid(const char *path)
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, strlen(path), (const uint8_t *)path);
	sha256_digest(&ctx, sizeof(d), d);
	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

int nfs_export_open(struct nfs_export *exp, const struct nfs_export_options *opt)
{
	struct stat st;

	memset(exp, 0, sizeof(*exp));
	exp->root_fd = exp->mount_fd = -1;
	exp->path = realpath(opt->path, NULL);
	if (!exp->path)
		return error_errno("nfsd: export %s", opt->path);
	exp->root_fd = open(exp->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	exp->mount_fd = open(exp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (exp->root_fd < 0 || exp->mount_fd < 0 || fstat(exp->root_fd, &st)) {
		error_errno("nfsd: export %s is not an accessible directory", exp->path);
		nfs_export_close(exp);
		return -1;
	}
	exp->dev = st.st_dev;
	exp->root_ino = st.st_ino;
	exp->fsid = path_fsid(exp->path);
	exp->read_only = opt->read_only;
	exp->root_squash = !opt->no_root_squash;
	exp->all_squash = opt->all_squash;
	exp->anon_uid = opt->anon_uid ? opt->anon_uid : 65534;
	exp->anon_gid = opt->anon_gid ? opt->anon_gid : 65534;
	exp->switch_creds = geteuid() == 0;
	if (load_key(exp, opt->state_dir ? opt->state_dir : "/var/lib/kvmini/nfsd")) {
		nfs_export_close(exp);
		return -1;
	}
	if (getrandom(exp->write_verf, sizeof(exp->write_verf), 0) != sizeof(exp->write_verf)) {
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;

		memcpy(exp->write_verf, &t, sizeof(t));
	}
	return 0;
}

void nfs_export_close(struct nfs_export *exp)
{
	if (exp->root_fd >= 0)
		close(exp->root_fd);
	if (exp->mount_fd >= 0)
		close(exp->mount_fd);
	free(exp->path);
	exp->path = NULL;
	exp->root_fd = exp->mount_fd = -1;
}

bool nfs_export_is_root(const struct nfs_export *exp, const struct stat *st)
{
	return st->st_dev == exp->dev && st->st_ino == exp->root_ino;
}
