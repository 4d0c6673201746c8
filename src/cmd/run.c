/* run.c: `kvmini run`: parse options, build the VM, boot the kernel. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "arch/x86/x86.h"
#include "cmd/commands.h"
#include "console/console.h"
#include "debug/gdb_server.h"
#include "devices/devices.h"
#include "dump/dump.h"
#include "hotplug/vmem_region.h"
#include "net/tap.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"
#include "share/share.h"
#include "util/file.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/token_bucket.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/run_devices.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

extern const uint8_t demo_guest_start[], demo_guest_end[];

#define DEFAULT_MEMORY (512ULL << 20)

static const char run_help[] =
"usage: kvmini run [options]\n"
"\n"
"Boots a Linux kernel (bzImage, or ELF64 vmlinux entered at its physical\n"
"entry point) directly in 64-bit mode. Without --kernel, boots the bundled\n"
"demo guest, which prints what the VM gave it and resets.\n"
"\n"
"  --kernel PATH       bzImage or ELF64 vmlinux to boot\n"
"  --initrd PATH       initial ramdisk, placed as high as the kernel allows\n"
"  --cmdline STRING    kernel command line\n"
"  --cpus N            number of vCPUs (default 1, at most 255)\n"
"  --memory SIZE       guest RAM, e.g. 256M or 4G (default 512M)\n"
"  --console KIND      stdio (default; Ctrl-A x quits), pty, file:PATH, unix:PATH;\n"
"                      virtio[:KIND] makes virtio-console port 0 (hvc0) the console:\n"
"                      input goes to hvc0, hvc0 and COM1 output both to KIND\n"
"  --port NAME=KIND    virtio-console named port (/dev/vport0pN): pty, file:PATH,\n"
"                      unix:PATH (waits for a client), stdio (repeatable, up to 15)\n"
"  --rng               virtio-rng from getrandom(), 1M/s (bursts of 64K)\n"
"  --rng-rate R[,burst=B]  virtio-rng at R bytes/s, e.g. 64K or 1M,burst=4K\n"
"  --debug-exit        port 0xf4: a guest write of v ends kvmini with (v<<1)|1\n"
"  --api unix:PATH     control socket (JSON lines; see `kvmini ctl`)\n"
"  --seccomp MODE      system-call filter: on (default: others fail with EPERM),\n"
"                      kill (others end kvmini), off\n"
"  --cgroup PATH       run in cgroup v2 PATH (made if needed) with memory.max =\n"
"                      --memory + 64M and cpu.max = --cpus CPUs\n"
"  --hotplug SIZE[,block=SIZE]  virtio-mem region of SIZE above RAM, blocks of\n"
"                      block= (default 2M); nothing plugged until `mem-resize`\n"
"  --dump-dir DIR      write crash dumps into DIR (SIGUSR1 dumps on demand)\n"
"  --dump-on LIST      panic,triple-fault (the default with --dump-dir), or none\n"
"  --dump-format F     kdump (default: compressed, for crash), elf (gdb, crash), both\n"
"  --dump-compress C   kdump page compression: zstd (default) or zlib (makedumpfile)\n"
"  --gdb tcp:HOST:PORT|unix:PATH\n"
"                      GDB remote stub (port 0 picks one; the address is printed)\n"
"  --gdb-wait          hold the vCPUs before the first instruction until gdb continues\n"
"  --disk PATH[,readonly]  virtio-blk disk on PCI (repeatable, up to 8)\n"
"  --balloon           virtio-balloon on PCI (with free page reporting); inflate\n"
"                      and deflate with `balloon target=SIZE` on the control socket\n"
"  --net tap[=NAME][,mac=M][,mtu=N][,queues=N][,offload=off][,host=A.B.C.D/N]\n"
"                      virtio-net on PCI over TAP NAME; without NAME (root) kvmini\n"
"                      creates one with a private host address (default 10.47.X.1/24)\n"
"  --share DIR[,tag=NAME][,ro]  serve DIR to the guest over NFSv3 on its private\n"
"                      TAP link (implies --net tap); the mount information goes on\n"
"                      the kernel command line (tag=root: NFS root)\n"
"  --serial2 KIND      COM2 (0x2f8, IRQ 3), e.g. for kgdboc: pty, unix:PATH, file:PATH\n"
"  -h, --help          this help\n"
"\n"
"Exit status: 0 guest reset, power-off or Ctrl-A x; 1 kvmini error; 2 usage;\n"
"4 guest panic (pvpanic); 6 triple fault; 8 KVM could not run a vCPU;\n"
"10 stopped by a signal; odd values (v<<1)|1 come from --debug-exit.\n";

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_CPUS, OPT_MEMORY, OPT_CONSOLE,
       OPT_DEBUG_EXIT, OPT_API, OPT_CGROUP, OPT_SECCOMP, OPT_DUMP_DIR, OPT_DUMP_ON,
       OPT_DUMP_FORMAT, OPT_DUMP_COMPRESS, OPT_GDB, OPT_GDB_WAIT, OPT_SERIAL2, OPT_DISK,
       OPT_HOTPLUG, OPT_BALLOON, OPT_PORT, OPT_RNG, OPT_RNG_RATE,
       OPT_NET, OPT_SHARE };

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "debug-exit", no_argument, NULL, OPT_DEBUG_EXIT },
	{ "api", required_argument, NULL, OPT_API },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "hotplug", required_argument, NULL, OPT_HOTPLUG },
	{ "dump-dir", required_argument, NULL, OPT_DUMP_DIR },
	{ "dump-on", required_argument, NULL, OPT_DUMP_ON },
	{ "dump-format", required_argument, NULL, OPT_DUMP_FORMAT },
	{ "dump-compress", required_argument, NULL, OPT_DUMP_COMPRESS },
	{ "gdb", required_argument, NULL, OPT_GDB },
	{ "gdb-wait", no_argument, NULL, OPT_GDB_WAIT },
	{ "serial2", required_argument, NULL, OPT_SERIAL2 },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "balloon", no_argument, NULL, OPT_BALLOON },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "rng-rate", required_argument, NULL, OPT_RNG_RATE },
	{ "net", required_argument, NULL, OPT_NET },
	{ "share", required_argument, NULL, OPT_SHARE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* --hotplug SIZE[,block=SIZE] */
static int parse_hotplug(const char *arg, struct vm_config *cfg)
{
	char buf[128], *rest = buf, *field;

	snprintf(buf, sizeof(buf), "%s", arg);
	field = next_field(&rest);
	cfg->hotplug_block = VMEM_DEFAULT_BLOCK;
	if (parse_size(field, &cfg->hotplug_size) || cfg->hotplug_size == 0)
		return error("--hotplug '%s': give the region size, e.g. 4G or 4G,block=2M", arg);
	while ((field = next_field(&rest))) {
		if (!str_starts_with(field, "block=") ||
		    parse_size(field + 6, &cfg->hotplug_block))
			return error("--hotplug: unknown or bad field '%s'; use block=SIZE", field);
	}
	return 0;
}

/* --console virtio[:KIND], --port, --rng, --rng-rate */
static int parse_virtio_console_option(int opt, const char *arg, struct vm_config *cfg)
{
	switch (opt) {
	case OPT_CONSOLE:
		cfg->virtio_console = !strcmp(arg, "virtio") || str_starts_with(arg, "virtio:");
		cfg->console = !cfg->virtio_console ? arg : arg[6] ? arg + 7 : "stdio";
		return 0;
	case OPT_PORT:
		if (cfg->nports == (int)(sizeof(cfg->ports) / sizeof(cfg->ports[0])))
			return error("too many --port options (at most 15)");
		cfg->ports[cfg->nports++] = arg;
		return 0;
	case OPT_RNG:
		if (!cfg->rng_rate) {
			cfg->rng_rate = RNG_DEFAULT_RATE;
			cfg->rng_burst = RNG_DEFAULT_BURST;
		}
		return 0;
	case OPT_RNG_RATE:
		if (tb_parse(arg, &cfg->rng_rate, &cfg->rng_burst))
			return error("--rng-rate '%s': give bytes per second, e.g. 64K or "
				     "1M,burst=4K", arg);
		return 0;
	default:
		return -1;
	}
}

static int parse_dump_option(int opt, const char *arg, struct dump_options *dump)
{
	switch (opt) {
	case OPT_DUMP_DIR: dump->dir = arg; return 0;
	case OPT_DUMP_ON: return dump_parse_on(dump, arg);
	case OPT_DUMP_FORMAT: return dump_parse_format(dump, arg);
	case OPT_DUMP_COMPRESS: return dump_parse_compression(dump, arg);
	default: return -1;
	}
}

static int parse_option(int opt, const char *arg, struct vm_config *cfg,
			struct dump_options *dump)
{
	enum seccomp_mode mode;
	uint64_t v;

	switch (opt) {
	case OPT_KERNEL: cfg->kernel = arg; return 0;
	case OPT_INITRD: cfg->initrd = arg; return 0;
	case OPT_CMDLINE: cfg->cmdline = arg; return 0;
	case OPT_CONSOLE:
	case OPT_PORT:
	case OPT_RNG:
	case OPT_RNG_RATE: return parse_virtio_console_option(opt, arg, cfg);
	case OPT_DEBUG_EXIT: cfg->debug_exit = true; return 0;
	case OPT_API: cfg->api = arg; return 0;
	case OPT_CGROUP: cfg->cgroup = arg; return 0;
	case OPT_HOTPLUG: return parse_hotplug(arg, cfg);
	case OPT_SECCOMP:
		if (seccomp_parse_mode(arg, &mode))
			return error("--seccomp '%s': use on, kill or off", arg);
		cfg->seccomp = mode;
		return 0;
	case OPT_GDB: cfg->gdb = arg; return 0;
	case OPT_DISK:
		if (cfg->ndisks == (int)(sizeof(cfg->disks) / sizeof(cfg->disks[0])))
			return error("too many --disk options (at most 8)");
		cfg->disks[cfg->ndisks++] = arg;
		return 0;
	case OPT_NET: {
		struct net_options o;

		cfg->net = arg;
		return net_options_parse(arg, &o); /* checked now, used by the device */
	}
	case OPT_SHARE: {
		struct share_options so;

		cfg->share = arg;
		return share_parse(arg, &so); /* checked now, used once the TAP is up */
	}
	case OPT_GDB_WAIT: cfg->gdb_wait = true; return 0;
	case OPT_BALLOON: cfg->balloon = true; return 0;
	case OPT_SERIAL2:
		if (strcmp(arg, "pty") && !str_starts_with(arg, "unix:") &&
		    !str_starts_with(arg, "file:"))
			return error("--serial2 '%s': use pty, unix:PATH or file:PATH", arg);
		cfg->serial2 = arg;
		return 0;
	case OPT_CPUS:
		if (parse_u64(arg, 1, VM_MAX_CPUS, &v))
			return error("--cpus '%s': give a number from 1 to %d", arg, VM_MAX_CPUS);
		cfg->ncpus = (int)v;
		return 0;
	case OPT_MEMORY:
		if (parse_size(arg, &v) || v < (16ULL << 20) || v % (2ULL << 20))
			return error("--memory '%s': give a multiple of 2 MiB of at least 16M, "
				     "e.g. 256M or 4G", arg);
		cfg->mem_size = v;
		return 0;
	default:
		return parse_dump_option(opt, arg, dump);
	}
}

static int parse_args(int argc, char **argv, struct vm_config *cfg, struct dump_options *dump)
{
	int opt;

	*cfg = (struct vm_config){ .ncpus = 1, .mem_size = DEFAULT_MEMORY, .console = "stdio",
				   .seccomp = SECCOMP_ERRNO };
	dump_options_default(dump);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", run_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(run_help, stdout);
			exit(0);
		}
		if (opt == '?' || parse_option(opt, optarg, cfg, dump)) {
			fprintf(stderr, "see `kvmini run --help`\n");
			return -1;
		}
	}
	if (optind < argc)
		return error("unexpected argument '%s'; see `kvmini run --help`", argv[optind]);
	if (cfg->gdb_wait && !cfg->gdb)
		return error("--gdb-wait needs --gdb tcp:HOST:PORT or unix:PATH");
	return 0;
}

struct boot_files {
	uint8_t *kernel, *initrd;
	size_t kernel_len, initrd_len;
	bool kernel_mapped;
};

static int map_boot_files(const struct vm_config *cfg, struct boot_files *f)
{
	if (cfg->kernel) {
		f->kernel = file_map(cfg->kernel, "kernel", &f->kernel_len);
		f->kernel_mapped = true;
	} else {
		f->kernel = (uint8_t *)demo_guest_start;
		f->kernel_len = (size_t)(demo_guest_end - demo_guest_start);
	}
	if (!f->kernel)
		return -1;
	if (cfg->initrd) {
		f->initrd = file_map(cfg->initrd, "initrd", &f->initrd_len);
		if (!f->initrd)
			return -1;
	}
	return 0;
}

static void unmap_boot_files(struct boot_files *f)
{
	if (f->kernel_mapped)
		file_unmap(f->kernel, f->kernel_len);
	file_unmap(f->initrd, f->initrd_len);
}

static int boot(struct vm *vm, const struct boot_files *f)
{
	struct kernel_image img;

	if (x86_boot_prepare(vm, f->kernel, f->kernel_len, f->initrd, f->initrd_len, &img))
		return -1;
	for (int i = 0; i < vm->ncpus; i++)
		if (x86_vcpu_setup(&vm->vcpus[i], img.entry))
			return -1;
	return 0;
}

/* --share: the NFS server on the VM's link, and the guest's command line
 * extended with where to mount from (*cmdline, owned by the caller). */
static struct share *start_share(struct vm *vm, char **cmdline)
{
	struct share_options o;
	struct tap_link link;
	const char *old = vm->cfg.cmdline ? vm->cfg.cmdline : "";
	char words[8192];
	struct share *s;

	if (share_parse(vm->cfg.share, &o))
		return NULL;
	if (!vm->net || tap_link_info(virtio_net_tap(vm->net), &link)) {
		error("--share needs a network link with an IPv4 address on the host side: use "
		      "--net tap (kvmini creates one, as root) or give the TAP an address");
		return NULL;
	}
	if (share_cmdline_words(&o, &link, words, sizeof(words)) < 0 ||
	    asprintf(cmdline, "%s%s%s", old, *old ? " " : "", words) < 0) {
		error("--share: the kernel command line would be too long");
		*cmdline = NULL;
		return NULL;
	}
	s = share_start(&o, &link);
	if (s)
		vm->cfg.cmdline = *cmdline;
	return s;
}

int cmd_run(int argc, char **argv)
{
	struct vm_config cfg;
	struct dump_options dump_opt;
	struct dumper *dumper = NULL;
	struct boot_files files = { 0 };
	struct vm *vm;
	struct api *api = NULL;
	struct vm_cgroup *cgroup = NULL;
	struct gdb_stub *gdb = NULL;
	struct share *share = NULL;
	char *share_cmdline = NULL;
	int status = EXIT_ERROR;

	if (parse_args(argc, argv, &cfg, &dump_opt))
		return EXIT_USAGE;
	if (cfg.share && !cfg.net)
		cfg.net = "tap"; /* a private link kvmini creates */
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return EXIT_ERROR;
	/* Enter the cgroup first, so guest RAM and every thread are charged to it. */
	if (cfg.cgroup && !(cgroup = cgroup_enter(cfg.cgroup, cfg.mem_size, cfg.ncpus)))
		goto out;
	if (map_boot_files(&cfg, &files) || vm_create(vm, &cfg))
		goto out;
	if (cfg.hotplug_size && vmem_region_create(vm, cfg.hotplug_size, cfg.hotplug_block))
		goto out;
	if (devices_init(vm) || virtio_run_devices_add(vm))
		goto out;
	if (cfg.share && !(share = start_share(vm, &share_cmdline)))
		goto out;
	dumper = dumper_create(vm, &dump_opt);
	if (dump_opt.dir && !dumper)
		goto out;
	if (boot(vm, &files))
		goto out;
	unmap_boot_files(&files);
	memset(&files, 0, sizeof(files));
	vm->console = console_open(vm, cfg.console);
	if (!vm->console || virtio_run_devices_attach_console(vm))
		goto out;
	if (cfg.serial2 && !(vm->console2 = console_open_serial(vm, cfg.serial2, vm->com2, "COM2")))
		goto out;
	if (cfg.gdb && !(gdb = gdb_server_start(vm, cfg.gdb, cfg.gdb_wait)))
		goto out;
	if (cfg.api && (!(api = api_open(vm, cfg.api)) || api_register_mem_commands(api) ||
			(dumper && api_register_dump_commands(api, dumper)) ||
			(vm->balloon && api_register_balloon_commands(api, vm->balloon)) ||
			(vm->net && api_register_net_commands(api, vm->net))))
		goto out;
	/* Everything is open: from here on only the allow-listed calls work. */
	if (seccomp_install(cfg.seccomp))
		goto out;
	status = vm_run(vm);
out:
	gdb_server_stop(gdb);
	api_close(api);
	dumper_stop(dumper);
	unmap_boot_files(&files);
	if (vm_destroy(vm) == 0) {
		console_close(vm->console);
		vmem_region_destroy(vm->vmem);
		console_close(vm->console2);
		free(vm);
	} else {
		console_restore_terminal(vm->console); /* a vCPU may still print */
	}
	share_stop(share);
	free(share_cmdline);
	cgroup_leave(cgroup);
	return status;
}
