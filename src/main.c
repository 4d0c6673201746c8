/* main.c: `kvmini <command>`: dispatch to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "run", cmd_run, "boot a kernel (or the bundled demo guest) in a new VM" },
	{ "vhost-user", cmd_vhost_user, "serve a virtio device (blk) to vhost-user frontends" },
	{ "ctl", cmd_ctl, "send a command to a running VM's control socket" },
	{ "memd", cmd_memd, "move memory between running VMs within a host budget" },
	{ "dump-info", cmd_dump_info, "print what a crash dump holds (vCPUs, memory, messages)" },
	{ "nfsd", cmd_nfsd, "serve a directory over NFSv3 (zero-copy reads)" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: kvmini <command> [options]\n\n"
		     "A KVM virtual machine monitor for booting, debugging and dumping Linux kernels.\n\n"
		     "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`kvmini <command> --help` describes each command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "kvmini: unknown command '%s'; see `kvmini --help`\n", argv[1]);
	return 2;
}
