/* memd.c: `kvmini memd`: the host memory broker. Watches several VMs
 * through their control sockets and moves memory from guests with memory
 * to spare to guests under pressure, within a host budget. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/commands.h"
#include "memd/broker.h"
#include "util/log.h"
#include "util/parse.h"

static const char memd_help[] =
"usage: kvmini memd --budget SIZE [options] SOCKET...\n"
"\n"
"Polls each VM's control socket (`kvmini run --api unix:SOCKET`, or a\n"
"vhost-user balloon backend's --api) and moves memory between the guests:\n"
"guests whose available memory is above --high give back up to --step\n"
"(virtio-mem first, then the balloon); guests below --low get up to --step\n"
"(balloon deflated first, then virtio-mem), neediest first, while all the\n"
"guests together stay within --budget. One JSON line per move and round.\n"
"\n"
"  --budget SIZE     memory all the guests may hold together (required)\n"
"  --step SIZE       most memory moved to or from one guest per round (128M)\n"
"  --low PCT         under pressure below PCT%% available (default 10)\n"
"  --high PCT        memory to spare above PCT%% available (default 40)\n"
"  --min SIZE        never shrink a guest below SIZE (default 128M)\n"
"  --interval MS     between rounds (default 1000)\n"
"  --rounds N        stop after N rounds (default: run until killed)\n";

enum { OPT_BUDGET = 256, OPT_STEP, OPT_LOW, OPT_HIGH, OPT_MIN, OPT_INTERVAL, OPT_ROUNDS };

static const struct option memd_options[] = {
	{ "budget", required_argument, NULL, OPT_BUDGET },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "low", required_argument, NULL, OPT_LOW },
	{ "high", required_argument, NULL, OPT_HIGH },
	{ "min", required_argument, NULL, OPT_MIN },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "rounds", required_argument, NULL, OPT_ROUNDS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_option(struct memd *m, int opt, const char *arg)
{
	struct memd_policy *p = &m->policy;
	uint64_t v;

	switch (opt) {
	case OPT_BUDGET: return parse_size(arg, &p->budget);
	case OPT_STEP: return parse_size(arg, &p->step) || !p->step ? -1 : 0;
	case OPT_MIN: return parse_size(arg, &p->min_guest);
	case OPT_LOW:
	case OPT_HIGH:
		if (parse_u64(arg, 0, 100, &v))
			return -1;
		*(opt == OPT_LOW ? &p->low_pct : &p->high_pct) = (unsigned)v;
		return 0;
	case OPT_INTERVAL:
		if (parse_u64(arg, 10, 3600000, &v))
			return -1;
		m->interval_ms = (int)v;
		return 0;
	case OPT_ROUNDS:
		if (parse_u64(arg, 1, 1000000, &v))
			return -1;
		m->rounds = (int)v;
		return 0;
	default:
		return -1;
	}
}

static int parse_args(struct memd *m, int argc, char **argv)
{
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", memd_options, NULL)) != -1) {
		if (opt == 'h') {
			printf(memd_help);
			exit(0);
		}
		if (opt == '?' || parse_option(m, opt, optarg))
			return error("bad value for %s; see `kvmini memd --help`", argv[optind - 1]);
	}
	if (!m->policy.budget)
		return error("--budget is required; see `kvmini memd --help`");
	if (m->policy.low_pct >= m->policy.high_pct)
		return error("--low (%u) must be below --high (%u)", m->policy.low_pct,
			     m->policy.high_pct);
	if (optind == argc || argc - optind > MEMD_MAX_VMS)
		return error("give 1 to %d VM control sockets", MEMD_MAX_VMS);
	m->n = argc - optind;
	for (int i = 0; i < m->n; i++)
		memd_conn_init(&m->conns[i], argv[optind + i]);
	return 0;
}

int cmd_memd(int argc, char **argv)
{
	struct memd *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return 1;
	m->policy = (struct memd_policy){ .step = 128ULL << 20, .low_pct = 10, .high_pct = 40,
					  .min_guest = 128ULL << 20 };
	m->interval_ms = 1000;
	m->timeout_ms = 2000;
	m->log = stdout;
	if (parse_args(m, argc, argv)) {
		free(m);
		return 2;
	}
	ret = memd_run(m);
	memd_close(m);
	free(m);
	return ret ? 1 : 0;
}
