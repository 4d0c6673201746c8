/* share.h: `kvmini run --share DIR[,tag=NAME][,ro]`: a host directory served
 * to this guest by kvmini's NFSv3 server on the VM's private TAP link, with
 * the mount information passed on the guest's kernel command line. */
#ifndef KVMINI_SHARE_H
#define KVMINI_SHARE_H

#include <stdbool.h>
#include <stddef.h>

#include "net/tap.h"

#define SHARE_NFS_PORT 2049
#define SHARE_PORTMAP_PORT 111

struct share_options {
	char dir[4096];     /* absolute, resolved */
	char tag[32];       /* "share" by default; "root" makes it the NFS root */
	bool read_only;
};

/* Parses "DIR[,tag=NAME][,ro]"; DIR must be an existing directory. */
int share_parse(const char *spec, struct share_options *o);

/* The kernel command-line words that tell the guest where to mount `o`
 * from over `link`: ip= autoconfiguration for the link, then either
 * `kvmini.share.TAG=HOST:DIR` with `kvmini.share_opts=...` (mount it with
 * `mount -t nfs -o $opts HOST:DIR /mnt`) or, for tag=root, `root=/dev/nfs
 * nfsroot=HOST:DIR,...`. Returns the length, or -1 if `size` is too small. */
int share_cmdline_words(const struct share_options *o, const struct tap_link *link,
			char *buf, size_t size);

struct share;
/* Starts the NFS server for `o` bound to the host address of `link` only
 * (NFS, MOUNT and NLM on port 2049, a port mapper on 111): a `kvmini nfsd`
 * child process, so the monitor keeps its system-call filter and the file
 * server never maps guest memory. Waits until it serves. */
struct share *share_start(const struct share_options *o, const struct tap_link *link);
/* Ends the server (SIGTERM, then waits for it). */
void share_stop(struct share *s);

#endif
