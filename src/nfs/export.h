/* export.h: one exported directory: its root, its options, the per-export
 * key that authenticates file handles (persisted in the state directory so
 * handles survive a restart) and the write verifier (new at every start). */
#ifndef KVMINI_NFS_EXPORT_H
#define KVMINI_NFS_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define NFS_EXPORT_KEY_LEN 32

struct nfs_export_options {
	const char *path;        /* the directory to export */
	const char *state_dir;   /* where the handle key lives */
	bool read_only;
	bool no_root_squash;     /* default: uid 0 becomes the anonymous uid */
	bool all_squash;         /* every caller becomes the anonymous uid */
	uint32_t anon_uid;       /* default 65534 */
	uint32_t anon_gid;
};

struct nfs_export {
	char *path;              /* realpath of the export */
	int root_fd;             /* O_PATH|O_DIRECTORY */
	int mount_fd;            /* O_RDONLY|O_DIRECTORY, for open_by_handle_at */
	dev_t dev;
	ino_t root_ino;
	uint32_t fsid;
	bool read_only;
	bool root_squash;
	bool all_squash;
	uint32_t anon_uid;
	uint32_t anon_gid;
	bool switch_creds;       /* running as root: act as each caller */
	uint8_t key[NFS_EXPORT_KEY_LEN];
	uint8_t write_verf[8];
};

int nfs_export_open(struct nfs_export *exp, const struct nfs_export_options *opt);
void nfs_export_close(struct nfs_export *exp);
/* True if (dev, ino) is the export's root directory. */
bool nfs_export_is_root(const struct nfs_export *exp, const struct stat *st);

#endif
