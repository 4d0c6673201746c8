/* vhost_user.c: `kvmini vhost-user DEVICE --socket PATH ...`: serve one
 * of kvmini's virtio devices to vhost-user frontends (QEMU, Cloud
 * Hypervisor, UML's virtio_uml) until SIGINT/SIGTERM. Each device kind is
 * one entry of `backends`. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api/api.h"
#include "block/disk.h"
#include "cmd/commands.h"
#include "util/log.h"
#include "util/signals.h"
#include "vhost_user/backend.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/console_ports.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "util/token_bucket.h"
#include "vm/event_loop.h"

/* The device options of the command line. */
struct vu_args {
	const char *disk;     /* blk */
	const char *tap;      /* net */
	const char *console;  /* console: port 0's back end */
	const char *ports[VCON_MAX_PORTS - 1];
	int nports;
	const char *rate;     /* rng */
	struct event_loop *loop;
};

struct backend_kind {
	const char *name;
	const char *usage;
	/* Builds the device from the options; `arg` is the device's own option. */
	int (*create)(struct virtio_dev *dev, const struct vu_args *args);
	void (*destroy)(struct virtio_dev *dev);
	const char *options; /* its own options, e.g. "console,port" */
	/* Adds the device's commands to its --api control socket (NULL: none). */
	int (*register_api)(struct virtio_dev *dev, struct api *api);
};

static int blk_create(struct virtio_dev *dev, const struct vu_args *args)
{
	const char *spec = args->disk;
	struct disk disk;

	if (!spec)
		return error("vhost-user blk needs --disk PATH[,readonly]");
	if (disk_open(&disk, spec))
		return -1;
	if (virtio_blk_init(dev, &disk)) {
		disk_close(&disk);
		return -1;
	}
	return 0;
}

static int balloon_create(struct virtio_dev *dev, const struct vu_args *unused)
{
	return virtio_balloon_init(dev);
}

static int balloon_api(struct virtio_dev *dev, struct api *api)
{
	return api_register_balloon_commands(api, virtio_balloon_model(dev));
}

static void stop_loop(void *loop)
{
	event_loop_stop(loop);
}

/* Port 0 on --console (stdio by default; Ctrl-A x stops), named ports. */
static int console_create(struct virtio_dev *dev, const struct vu_args *args)
{
	struct console_sink sink = { .quit = stop_loop, .quit_opaque = args->loop };
	const char *kind = args->console ? args->console : "stdio";
	struct console *main_console;

	if (virtio_console_init(dev, 1 + (uint32_t)args->nports))
		return -1;
	if (virtio_console_open_ports(dev, args->loop, args->ports, args->nports, kind, &sink))
		goto fail;
	main_console = console_open_on(args->loop, kind, "console", &sink);
	if (!main_console)
		goto fail;
	if (virtio_console_set_console(dev, main_console, true))
		goto fail;
	return 0;
fail:
	virtio_console_destroy(dev);
	return -1;
}

static int rng_create(struct virtio_dev *dev, const struct vu_args *args)
{
	uint64_t rate = RNG_DEFAULT_RATE, burst = RNG_DEFAULT_BURST;

	if (args->rate && tb_parse(args->rate, &rate, &burst))
		return error("--rate '%s': give bytes per second, e.g. 64K or 1M,burst=4K",
			     args->rate);
	return virtio_rng_init(dev, rate, burst);
}

static int net_create(struct virtio_dev *dev, const struct vu_args *args)
{
	struct net_options o;
	struct tap *tap;

	if (!args->tap)
		return error("vhost-user net needs --tap NAME[,mac=M][,mtu=N][,queues=N]"
			     "[,offload=off]");
	if (net_options_parse_tap(args->tap, &o) || !(tap = tap_open(&o)))
		return -1;
	if (virtio_net_init(dev, tap, &o)) {
		tap_close(tap);
		return -1;
	}
	return 0;
}

static int net_api(struct virtio_dev *dev, struct api *api)
{
	return api_register_net_commands(api, dev);
}

static const struct backend_kind backends[] = {
	{ "blk", "--socket PATH --disk PATH[,readonly][,serial=S][,queues=N]", blk_create,
	  virtio_blk_destroy, "disk", NULL },
	{ "balloon", "--socket PATH [--api unix:PATH]  (balloon, balloon-stats)", balloon_create,
	  virtio_balloon_destroy, "", balloon_api },
	{ "console", "--socket PATH [--console KIND] [--port NAME=KIND ...]  (KIND: stdio\n"
		     "           (default), pty, file:PATH, unix:PATH)", console_create,
	  virtio_console_destroy, "console,port", NULL },
	{ "rng", "--socket PATH [--rate BYTES/s[,burst=BYTES]]  (default 1M, burst 64K)",
	  rng_create, virtio_rng_destroy, "rate", NULL },
	{ "net", "--socket PATH --tap NAME[,mac=M][,mtu=N][,queues=N][,offload=off] [--api unix:PATH]",
	  net_create, virtio_net_destroy, "tap", net_api },
};

/* Whether `kind` takes the device option `name`. */
static bool takes_option(const struct backend_kind *kind, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = kind->options; (p = strstr(p, name)); p += n)
		if ((p == kind->options || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: kvmini vhost-user DEVICE --socket PATH [device options]\n\n"
		     "Serves a kvmini virtio device to vhost-user frontends, one at a time,\n"
		     "until SIGINT or SIGTERM. Devices:\n");
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		fprintf(out, "  %-8s %s\n", backends[i].name, backends[i].usage);
}

static void on_signal(void *opaque, uint32_t events)
{
	event_loop_stop(opaque);
}

static int serve(struct virtio_dev *dev, struct event_loop *loop, const char *socket_path,
		 const char *api_spec, const struct backend_kind *kind)
{
	struct vu_backend *vu;
	struct api *api = NULL;
	sigset_t set;
	int sfd, ret = 1;

	stop_signals(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0 || event_loop_add(loop, sfd, EPOLLIN, on_signal, loop))
		goto out;
	vu = vu_backend_open(dev, loop, socket_path);
	if (!vu)
		goto out;
	if (api_spec && (!(api = api_open_loop(loop, api_spec)) ||
			 (kind->register_api && kind->register_api(dev, api)))) {
		vu_backend_close(vu);
		goto out;
	}
	info("vhost-user %s: serving on %s", dev->ops->name, socket_path);
	ret = event_loop_run(loop) ? 1 : 0;
	vu_backend_close(vu);
out:
	api_close(api);
	if (sfd >= 0) {
		event_loop_del(loop, sfd);
		close(sfd);
	}
	return ret;
}

int cmd_vhost_user(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "disk", required_argument, NULL, 'd' },
		{ "tap", required_argument, NULL, 't' },
		{ "api", required_argument, NULL, 'a' },
		{ "console", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct backend_kind *kind = NULL;
	const char *socket_path = NULL, *api_spec = NULL;
	struct vu_args args = { 0 };
	struct event_loop loop;
	struct virtio_dev dev;
	sigset_t stop;
	int opt, ret;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(argv[1], backends[i].name))
			kind = &backends[i];
	if (!kind) {
		error("unknown vhost-user device '%s'", argv[1]);
		usage(stderr);
		return 2;
	}
	optind = 1;
	while ((opt = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		const char *name = NULL;

		for (const struct option *o = opts; o->name; o++)
			if (o->val == opt)
				name = o->name;
		if (name && strcmp(name, "socket") && strcmp(name, "api") && strcmp(name, "help") &&
		    !takes_option(kind, name)) {
			error("vhost-user %s takes no --%s", kind->name, name);
			return 2;
		}
		switch (opt) {
		case 's': socket_path = optarg; break;
		case 'd': args.disk = optarg; break;
		case 't': args.tap = optarg; break;
		case 'a': api_spec = optarg; break;
		case 'c': args.console = optarg; break;
		case 'r': args.rate = optarg; break;
		case 'p':
			if (args.nports == VCON_MAX_PORTS - 1) {
				error("too many --port options (at most %d)", VCON_MAX_PORTS - 1);
				return 2;
			}
			args.ports[args.nports++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!socket_path) {
		error("vhost-user %s needs --socket PATH", kind->name);
		return 2;
	}
	/* Blocked before anything starts: they end the loop through a signalfd. */
	block_stop_signals(&stop);
	if (event_loop_init(&loop))
		return 1;
	args.loop = &loop;
	memset(&dev, 0, sizeof(dev));
	ret = 1;
	if (kind->create(&dev, &args) == 0) {
		ret = serve(&dev, &loop, socket_path, api_spec, kind);
		kind->destroy(&dev);
	}
	event_loop_destroy(&loop);
	return ret;
}
