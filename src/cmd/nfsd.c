/* nfsd.c: `kvmini nfsd --export DIR [options]`: serve one directory over
 * NFSv3 (with MOUNT v3 and a port mapper) until SIGINT/SIGTERM. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "nfs/nfsd.h"
#include "util/log.h"
#include "util/parse.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kvmini nfsd --export DIR [options]\n\n"
		"Serves DIR over NFSv3 (RFC 1813) with MOUNT v3 and a port mapper, over TCP\n"
		"and UDP, until SIGINT or SIGTERM. READ data goes from the page cache to the\n"
		"socket by splice, without a user-space copy.\n\n"
		"options:\n"
		"  --export DIR         the directory to serve (required)\n"
		"  --listen ADDR:PORT   where NFS, MOUNT and the port mapper answer\n"
		"                       (default 127.0.0.1:2049; port 0 picks a free one)\n"
		"  --portmap ADDR:PORT  also answer port-mapper queries there (e.g. 127.0.0.1:111),\n"
		"                       for clients that ask the standard port\n"
		"  --rpcbind            register MOUNT and NFS with the system rpcbind instead\n"
		"  --read-only          refuse every change (NFS3ERR_ROFS)\n"
		"  --no-root-squash     trust uid 0 from clients (default: it becomes the anonymous id)\n"
		"  --all-squash         map every caller to the anonymous id\n"
		"  --anon-uid N, --anon-gid N  the anonymous ids (default 65534)\n"
		"  --state-dir DIR      where the file-handle key is kept, so handles survive a\n"
		"                       restart (default /var/lib/kvmini/nfsd)\n"
		"  --no-udp             TCP only\n"
		"  --no-lock            no lock service (NLM, NSM); clients must mount with nolock\n"
		"  --grace SECONDS      after a restart, how long clients of the previous run may\n"
		"                       reclaim their locks before new ones are granted (default 90)\n"
		"  --nsm-name NAME      this server's name in SM_NOTIFY (default: the listen address)\n"
		"  --threads N          worker threads for file-system calls (default 8)\n"
		"  --max-inflight N     calls per connection queued or running before it is no\n"
		"                       longer read (default 16)\n"
		"  --max-buffered SIZE  bytes of requests held for the workers, over all\n"
		"                       connections, before reading pauses (default 256M)\n"
		"On start it prints `nfsd: port=N portmap=M` on stdout.\n");
}

static int parse_u32_opt(const char *s, const char *what, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, 0, max, &v))
		return error("nfsd: bad %s '%s'", what, s);
	*out = (uint32_t)v;
	return 0;
}

static int parse_options(int argc, char **argv, struct nfsd_options *o)
{
	static const struct option opts[] = {
		{ "export", required_argument, NULL, 'e' },
		{ "listen", required_argument, NULL, 'l' },
		{ "portmap", required_argument, NULL, 'p' },
		{ "rpcbind", no_argument, NULL, 'R' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "no-root-squash", no_argument, NULL, 'n' },
		{ "all-squash", no_argument, NULL, 'a' },
		{ "anon-uid", required_argument, NULL, 'u' },
		{ "anon-gid", required_argument, NULL, 'g' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "no-udp", no_argument, NULL, 'U' },
		{ "no-lock", no_argument, NULL, 'L' },
		{ "grace", required_argument, NULL, 'G' },
		{ "nsm-name", required_argument, NULL, 'N' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-inflight", required_argument, NULL, 'i' },
		{ "max-buffered", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t v = 0;
	uint64_t size;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'e': o->export_path = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'p': o->portmap_listen = optarg; break;
		case 'R': o->rpcbind = true; break;
		case 'r': o->read_only = true; break;
		case 'n': o->no_root_squash = true; break;
		case 'a': o->all_squash = true; break;
		case 'u': if (parse_u32_opt(optarg, "--anon-uid", UINT32_MAX - 1, &o->anon_uid)) return 2; break;
		case 'g': if (parse_u32_opt(optarg, "--anon-gid", UINT32_MAX - 1, &o->anon_gid)) return 2; break;
		case 's': o->state_dir = optarg; break;
		case 'U': o->no_udp = true; break;
		case 'L': o->no_lock = true; break;
		case 'G':
			if (parse_u32_opt(optarg, "--grace", 3600, &v) || !v)
				return 2;
			o->grace_seconds = v;
			break;
		case 'N': o->nsm_name = optarg; break;
		case 't':
			if (parse_u32_opt(optarg, "--threads", 256, &v) || !v)
				return 2;
			o->workers = v;
			break;
		case 'i':
			if (parse_u32_opt(optarg, "--max-inflight", 4096, &v) || !v)
				return 2;
			o->max_inflight = v;
			break;
		case 'b':
			if (parse_size(optarg, &size) || size < (2u << 20)) {
				error("nfsd: bad --max-buffered '%s' (at least 2M)", optarg);
				return 2;
			}
			o->max_buffered = size;
			break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (!o->export_path) {
		error("nfsd: --export DIR is required");
		usage(stderr);
		return 2;
	}
	return 0;
}

int cmd_nfsd(int argc, char **argv)
{
	struct nfsd_options o = { 0 };
	struct nfsd *d;
	sigset_t set;
	int sig, rc;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	/* Blocked before any thread starts, so only sigwait() sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = nfsd_create(&o);
	if (!d || nfsd_start(d)) {
		nfsd_destroy(d);
		return 1;
	}
	info("nfsd: serving %s%s on port %u", nfsd_export_path(d), o.read_only ? " read-only" : "",
	     nfsd_port(d));
	printf("nfsd: port=%u portmap=%u\n", nfsd_port(d), nfsd_portmap_port(d));
	fflush(stdout);
	sigwait(&set, &sig);
	info("nfsd: stopping");
	nfsd_destroy(d);
	return 0;
}
