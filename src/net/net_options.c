/* net_options.c: parsing the network device's options: `kvmini run --net
 * tap[=NAME][,mac=M][,mtu=N][,queues=N][,offload=on|off][,host=A/N]` and
 * `kvmini vhost-user net --tap NAME[,...]`. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "net/tap.h"
#include "util/log.h"
#include "util/parse.h"

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6)
		return error("mac=%s: give six hex bytes, e.g. 52:54:00:12:34:56", s);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1)
		return error("mac=%s is a multicast address", s);
	return 0;
}

static int parse_host(const char *s, struct net_options *o)
{
	char buf[32], *slash;
	uint64_t prefix = 24;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (parse_u64(slash + 1, 8, 30, &prefix))
			return error("host=%s: the prefix length must be 8 to 30", s);
	}
	if (inet_pton(AF_INET, buf, &o->host) != 1)
		return error("host=%s: give an IPv4 address, e.g. 10.47.0.1/24", s);
	o->prefix = (int)prefix;
	return 0;
}

static int parse_field(char *field, struct net_options *o)
{
	uint64_t v;

	if (str_starts_with(field, "mac="))
		return parse_mac(field + 4, o->mac);
	if (str_starts_with(field, "mtu=")) {
		if (parse_u64(field + 4, 68, 65535, &v))
			return error("mtu=%s: give 68 to 65535", field + 4);
		o->mtu = (unsigned)v;
		return 0;
	}
	if (str_starts_with(field, "queues=")) {
		if (parse_u64(field + 7, 1, TAP_MAX_QUEUES, &v))
			return error("queues=%s: give 1 to %d", field + 7, TAP_MAX_QUEUES);
		o->queues = (int)v;
		o->queues_set = true;
		return 0;
	}
	if (!strcmp(field, "offload=on") || !strcmp(field, "offload=off")) {
		o->offload = !strcmp(field, "offload=on");
		return 0;
	}
	if (str_starts_with(field, "host="))
		return parse_host(field + 5, o);
	return error("unknown network option '%s' (mac=, mtu=, queues=, offload=on|off, host=)",
		     field);
}

static void defaults(struct net_options *o)
{
	memset(o, 0, sizeof(*o));
	o->queues = 1;
	o->offload = true;
	o->mac[0] = 0x52;
	o->mac[1] = 0x54;
	if (getrandom(o->mac + 3, 3, 0) != 3)
		o->mac[5] = 0x56;
}

static int parse_rest(char *rest, struct net_options *o)
{
	char *field;

	while ((field = next_field(&rest)))
		if (parse_field(field, o))
			return -1;
	return 0;
}

static int set_name(const char *name, struct net_options *o)
{
	if (!*name || strlen(name) >= IFNAMSIZ || strchr(name, '/') || strchr(name, '%'))
		return error("'%s' is not an interface name", name);
	snprintf(o->ifname, IFNAMSIZ, "%s", name);
	return 0;
}

int net_options_parse(const char *spec, struct net_options *o)
{
	char buf[256], *rest = buf, *kind;

	defaults(o);
	snprintf(buf, sizeof(buf), "%s", spec);
	kind = next_field(&rest);
	if (!strcmp(kind, "tap"))
		return parse_rest(rest, o);
	if (!str_starts_with(kind, "tap="))
		return error("--net '%s': use tap[=NAME][,mac=M][,mtu=N][,queues=N]"
			     "[,offload=on|off][,host=A.B.C.D/N]", spec);
	return set_name(kind + 4, o) || parse_rest(rest, o);
}

int net_options_parse_tap(const char *spec, struct net_options *o)
{
	char buf[256], *rest = buf, *name;

	defaults(o);
	snprintf(buf, sizeof(buf), "%s", spec);
	name = next_field(&rest);
	return set_name(name, o) || parse_rest(rest, o);
}
