/* nfsd.c: `kvmini nfsd --export DIR [options]`: serve one directory over
 * NFSv3 (with MOUNT v3 and a port mapper) until SIGINT/SIGTERM. */
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "nfs/nfsd.h"
#include "util/log.h"
#include "util/signals.h"
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
		"  --portmap ADDR:PORT  also answer port-mapper queries there, for clients that\n"
		"                       ask the standard port (default: port 111 of the --listen\n"
		"                       address when it is free; `--portmap none`: not at all)\n"
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

/* Whether TCP and UDP port 111 of the --listen address are free: then
 * clients that know no ports (mount -t nfs, libnfs URLs) find us. */
static bool standard_portmap_free(const char *listen, char *spec, size_t len)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM };
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	const char *colon = strrchr(listen, ':');
	char host[128];
	size_t n;

	if (!colon || (n = (size_t)(colon - listen)) >= sizeof(host))
		return false;
	memcpy(host, listen, n);
	host[n] = 0;
	if (snprintf(spec, len, "%s:111", host) >= (int)len)
		return false;
	if (host[0] == '[' && n >= 2) {
		memmove(host, host + 1, n - 2);
		host[n - 2] = 0;
	}
	for (int i = 0; i < 2; i++) {
		bool ok;
		int fd;

		hints.ai_socktype = types[i];
		if (getaddrinfo(host[0] ? host : "0.0.0.0", "111", &hints, &ai))
			return false;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		ok = fd >= 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		if (!ok)
			return false;
	}
	return true;
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

static void report_stats(struct nfsd *d)
{
	struct rpc_stats s;

	rpc_server_get_stats(nfsd_rpc_server(d), &s);
	info("nfsd: stopping: %llu calls (%llu malformed, %llu unavailable, %llu auth errors); "
	     "%llu bytes spliced out, %llu spliced in, %llu copied; %llu WRITEs partly copied for want of "
	     "pipe slots", (unsigned long long)s.calls, (unsigned long long)s.garbage,
	     (unsigned long long)s.unavail, (unsigned long long)s.auth_errors,
	     (unsigned long long)s.spliced_bytes, (unsigned long long)s.spliced_in_bytes,
	     (unsigned long long)s.copied_bytes, (unsigned long long)s.bulk_fallbacks);
}

int cmd_nfsd(int argc, char **argv)
{
	struct nfsd_options o = { 0 };
	char pmap_spec[160];
	struct rlimit nofile;
	struct nfsd *d;
	sigset_t set;
	int sig, rc;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.portmap_listen && !strcmp(o.portmap_listen, "none"))
		o.portmap_listen = NULL;
	else if (!o.portmap_listen && !o.rpcbind &&
		 standard_portmap_free(o.listen ? o.listen : "127.0.0.1:2049", pmap_spec, sizeof(pmap_spec)))
		o.portmap_listen = pmap_spec;
	/* Room for many clients (each may hold a socket and two pipe ends). */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	/* Blocked before any thread starts, so only sigwait() sees them. */
	block_stop_signals(&set);
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
	report_stats(d);
	nfsd_destroy(d);
	return 0;
}
