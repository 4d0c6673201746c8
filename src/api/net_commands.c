/* net_commands.c: the control socket's `net` command: the virtio-net
 * device's TAP, the private link's addresses, the MAC and queue pairs in
 * use, and its counters, including frames dropped for what the driver put
 * in the rings. Used by `kvmini run --net` and `kvmini vhost-user net`. */
#include <arpa/inet.h>
#include <stdio.h>

#include "api/api.h"
#include "virtio/net.h"

static json_t *link_object(const struct tap *t)
{
	struct tap_link l;
	char host[INET_ADDRSTRLEN], guest[INET_ADDRSTRLEN];

	if (tap_link_info(t, &l))
		return json_null();
	inet_ntop(AF_INET, &l.host, host, sizeof(host));
	inet_ntop(AF_INET, &l.guest, guest, sizeof(guest));
	return json_pack("{s:s, s:s, s:i}", "host", host, "guest", guest, "prefix", l.prefix);
}

static json_t *counters(const struct virtio_net_stats *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "ctrl_commands", (json_int_t)s->ctrl_commands, "rx_packets", (json_int_t)s->rx_packets, "rx_bytes", (json_int_t)s->rx_bytes,
			 "tx_packets", (json_int_t)s->tx_packets, "tx_bytes", (json_int_t)s->tx_bytes,
			 "tx_bad_chain", (json_int_t)s->tx_bad_chain,
			 "tx_short", (json_int_t)s->tx_short,
			 "tx_oversized", (json_int_t)s->tx_oversized,
			 "tx_bad_header", (json_int_t)s->tx_bad_header,
			 "tx_errors", (json_int_t)s->tx_errors,
			 "rx_bad_chain", (json_int_t)s->rx_bad_chain,
			 "rx_truncated", (json_int_t)s->rx_truncated,
			 "rx_filtered", (json_int_t)s->rx_filtered,
			 "ctrl_errors", (json_int_t)s->ctrl_errors);
}

static json_t *cmd_net(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	struct virtio_dev *dev = opaque;
	const struct tap *t = virtio_net_tap(dev);
	struct virtio_net_stats s;
	uint8_t m[6];
	char mac[18];
	uint64_t features;
	int active;

	virtio_net_get_stats(dev, &s);
	virtio_net_get_state(dev, m, &active, &features);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	return json_pack("{s:s, s:b, s:s, s:i, s:i, s:i, s:I, s:o, s:o}", "tap", t->ifname,
			 "created", t->created, "mac", mac, "mtu", (int)t->mtu, "queues",
			 t->nqueues, "active_queues", active, "features",
			 (json_int_t)features, "link", link_object(t), "stats", counters(&s));
}

int api_register_net_commands(struct api *api, struct virtio_dev *net)
{
	return api_register(api, "net", "network device: TAP, link addresses, MAC, queues, "
			    "packet and drop counters", cmd_net, net);
}
