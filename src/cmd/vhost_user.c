/* vhost_user.c: `kvmini vhost-user DEVICE --socket PATH ...`: serve one
 * of kvmini's virtio devices to vhost-user frontends (QEMU, Cloud
 * Hypervisor, UML's virtio_uml) until SIGINT/SIGTERM. Each device kind is
 * one entry of `backends`. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api/api.h"
#include "block/disk.h"
#include "cmd/commands.h"
#include "util/log.h"
#include "vhost_user/backend.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "vm/event_loop.h"

struct backend_kind {
	const char *name;
	const char *usage;
	/* Builds the device from the options; `arg` is the device's own option. */
	int (*create)(struct virtio_dev *dev, const char *arg);
	void (*destroy)(struct virtio_dev *dev);
	const char *arg_option; /* e.g. "disk" */
	/* Adds the device's commands to its --api control socket (NULL: none). */
	int (*register_api)(struct virtio_dev *dev, struct api *api);
};

static int blk_create(struct virtio_dev *dev, const char *spec)
{
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

static int balloon_create(struct virtio_dev *dev, const char *unused)
{
	return virtio_balloon_init(dev);
}

static int balloon_api(struct virtio_dev *dev, struct api *api)
{
	return api_register_balloon_commands(api, virtio_balloon_model(dev));
}

static int net_create(struct virtio_dev *dev, const char *spec)
{
	struct net_options o;
	struct tap *tap;

	if (!spec)
		return error("vhost-user net needs --tap NAME[,mac=M][,mtu=N][,queues=N]"
			     "[,offload=off]");
	if (net_options_parse_tap(spec, &o) || !(tap = tap_open(&o)))
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
	  virtio_balloon_destroy, NULL, balloon_api },
	{ "net", "--socket PATH --tap NAME[,mac=M][,mtu=N][,queues=N][,offload=off] [--api unix:PATH]",
	  net_create, virtio_net_destroy, "tap", net_api },
};

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

static int serve(struct virtio_dev *dev, const char *socket_path, const char *api_spec,
		 const struct backend_kind *kind)
{
	struct event_loop loop;
	struct vu_backend *vu;
	struct api *api = NULL;
	sigset_t set;
	int sfd, ret = 1;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (event_loop_init(&loop))
		return 1;
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0 || event_loop_add(&loop, sfd, EPOLLIN, on_signal, &loop))
		goto out;
	vu = vu_backend_open(dev, &loop, socket_path);
	if (!vu)
		goto out;
	if (api_spec && (!(api = api_open_loop(&loop, api_spec)) ||
			 (kind->register_api && kind->register_api(dev, api)))) {
		vu_backend_close(vu);
		goto out;
	}
	info("vhost-user %s: serving on %s", dev->ops->name, socket_path);
	ret = event_loop_run(&loop) ? 1 : 0;
	vu_backend_close(vu);
out:
	api_close(api);
	if (sfd >= 0)
		close(sfd);
	event_loop_destroy(&loop);
	return ret;
}

int cmd_vhost_user(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "disk", required_argument, NULL, 'd' },
		{ "tap", required_argument, NULL, 't' },
		{ "api", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct backend_kind *kind = NULL;
	const char *socket_path = NULL, *dev_arg = NULL, *dev_opt = NULL, *api_spec = NULL;
	struct virtio_dev dev;
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
		switch (opt) {
		case 's': socket_path = optarg; break;
		case 'd':
		case 't':
			dev_opt = opt == 'd' ? "disk" : "tap";
			dev_arg = optarg;
			break;
		case 'a': api_spec = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!socket_path) {
		error("vhost-user %s needs --socket PATH", kind->name);
		return 2;
	}
	if (dev_opt && (!kind->arg_option || strcmp(dev_opt, kind->arg_option))) {
		error("vhost-user %s takes no --%s", kind->name, dev_opt);
		return 2;
	}
	memset(&dev, 0, sizeof(dev));
	if (kind->create(&dev, dev_arg))
		return 1;
	ret = serve(&dev, socket_path, api_spec, kind);
	kind->destroy(&dev);
	return ret;
}
