/* net_ctrl.c: virtio-net's control queue (virtio 1.x, 5.1.6.5): RX mode
 * (promiscuous, all-multicast, ...), MAC filter tables and the MAC
 * address, the number of queue pairs in use (TAP queues are attached and
 * detached to match), and the receive offloads. Each request is a class
 * and command byte with its data, then one writable ack byte; whatever the
 * driver sends, the answer is OK or ERR, never more. */
#include "virtio/net_priv.h"

#include <string.h>

#include "util/log.h"
#include "virtio/iov.h"

#define CTRL_RX 0
#define CTRL_RX_PROMISC 0
#define CTRL_RX_ALLMULTI 1
#define CTRL_RX_ALLUNI 2
#define CTRL_RX_NOMULTI 3
#define CTRL_RX_NOUNI 4
#define CTRL_RX_NOBCAST 5
#define CTRL_MAC 1
#define CTRL_MAC_TABLE_SET 0
#define CTRL_MAC_ADDR_SET 1
#define CTRL_MQ 4
#define CTRL_MQ_VQ_PAIRS_SET 0
#define CTRL_GUEST_OFFLOADS 5
#define CTRL_GUEST_OFFLOADS_SET 0
#define CTRL_OK 0
#define CTRL_ERR 1

#define GUEST_OFFLOADS                                                                    \
	((1ULL << VIRTIO_NET_F_GUEST_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) |          \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN) |           \
	 (1ULL << VIRTIO_NET_F_GUEST_UFO))

struct ctrl_req {
	const struct vq_elem *e;
	uint8_t class, cmd;
	uint64_t len; /* command data after the two header bytes */
};

static size_t req_read(const struct ctrl_req *r, uint64_t off, void *buf, size_t len)
{
	if (off > r->len || len > r->len - off)
		return 0;
	return iov_to_buf(r->e->iov, r->e->out_num, (size_t)(2 + off), buf, len);
}

void vnet_filter_reset(struct vnet *n)
{
	memset(&n->filter, 0, sizeof(n->filter));
	n->filter.promisc = true; /* until the driver says otherwise (as QEMU does) */
}

static uint8_t rx_mode(struct vnet *n, const struct ctrl_req *r)
{
	bool *flags[] = { &n->filter.promisc, &n->filter.allmulti, &n->filter.alluni,
			  &n->filter.nomulti, &n->filter.nouni, &n->filter.nobcast };
	uint8_t on;

	if (!virtio_has(n->dev, VIRTIO_NET_F_CTRL_RX) || r->cmd > CTRL_RX_NOBCAST ||
	    (r->cmd > CTRL_RX_ALLMULTI && !virtio_has(n->dev, VIRTIO_NET_F_CTRL_RX_EXTRA)) ||
	    r->len != 1 || req_read(r, 0, &on, 1) != 1)
		return CTRL_ERR;
	*flags[r->cmd] = on != 0;
	return CTRL_OK;
}

/* One table: a 32-bit count, then that many MACs; *off moves past it. */
static int read_table(const struct ctrl_req *r, uint64_t *off, uint8_t table[][6], int *count,
		      bool *overflow)
{
	uint32_t entries;

	if (req_read(r, *off, &entries, 4) != 4 || entries > (r->len - *off - 4) / 6)
		return -1;
	*overflow = entries > MAC_TABLE_MAX;
	*count = *overflow ? 0 : (int)entries;
	for (int i = 0; i < *count; i++)
		req_read(r, *off + 4 + 6ULL * (uint64_t)i, table[i], 6);
	*off += 4 + 6ULL * entries;
	return 0;
}

static uint8_t mac_cmd(struct vnet *n, const struct ctrl_req *r)
{
	struct rx_filter f = n->filter;
	uint64_t off = 0;

	if (r->cmd == CTRL_MAC_ADDR_SET) {
		uint8_t mac[6];

		if (!virtio_has(n->dev, VIRTIO_NET_F_CTRL_MAC_ADDR) || r->len != 6 ||
		    req_read(r, 0, mac, 6) != 6 || (mac[0] & 1))
			return CTRL_ERR;
		memcpy(n->config.mac, mac, 6);
		return CTRL_OK;
	}
	if (r->cmd != CTRL_MAC_TABLE_SET || !virtio_has(n->dev, VIRTIO_NET_F_CTRL_RX) ||
	    read_table(r, &off, f.uni, &f.nuni, &f.uni_overflow) ||
	    read_table(r, &off, f.multi, &f.nmulti, &f.multi_overflow) || off != r->len)
		return CTRL_ERR;
	n->filter = f;
	return CTRL_OK;
}

static uint8_t mq_cmd(struct vnet *n, const struct ctrl_req *r)
{
	uint16_t pairs;

	if (!virtio_has(n->dev, VIRTIO_NET_F_MQ) || r->cmd != CTRL_MQ_VQ_PAIRS_SET ||
	    r->len != 2 || req_read(r, 0, &pairs, 2) != 2 || pairs < 1 || pairs > n->pairs)
		return CTRL_ERR;
	if (tap_set_active_queues(n->tap, pairs))
		return CTRL_ERR;
	n->active_pairs = pairs;
	return CTRL_OK;
}

static uint8_t offloads_cmd(struct vnet *n, const struct ctrl_req *r)
{
	uint64_t want;

	if (!virtio_has(n->dev, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) ||
	    r->cmd != CTRL_GUEST_OFFLOADS_SET || r->len != 8 || req_read(r, 0, &want, 8) != 8 ||
	    (want & ~(n->dev->features & GUEST_OFFLOADS)))
		return CTRL_ERR;
	return tap_set_offloads(n->tap, vnet_tun_offloads(want)) ? CTRL_ERR : CTRL_OK;
}

static uint8_t handle(struct vnet *n, const struct ctrl_req *r)
{
	switch (r->class) {
	case CTRL_RX: return rx_mode(n, r);
	case CTRL_MAC: return mac_cmd(n, r);
	case CTRL_MQ: return mq_cmd(n, r);
	case CTRL_GUEST_OFFLOADS: return offloads_cmd(n, r);
	default: return CTRL_ERR;
	}
}

void vnet_ctrl(struct vnet *n, struct virtqueue *vq)
{
	struct vq_elem *e = &n->elem;
	int got, done = 0;

	while ((got = vq_pop(vq, e)) != 0) {
		struct ctrl_req r = { .e = e };
		uint8_t hdr[2], ack = CTRL_ERR;
		uint32_t written = 0;

		done++;
		if (got < 0 || e->in_len < 1 || e->out_len < 2) {
			vnet_count(&n->stats.ctrl_errors, "malformed control request");
			vq_push(vq, e->head, 0);
			continue;
		}
		iov_to_buf(e->iov, e->out_num, 0, hdr, 2);
		r.class = hdr[0];
		r.cmd = hdr[1];
		r.len = e->out_len - 2;
		ack = handle(n, &r);
		if (ack != CTRL_OK)
			vnet_count(&n->stats.ctrl_errors, "control command refused");
		else
			n->stats.ctrl_commands++;
		written = (uint32_t)iov_from_buf(e->iov + e->out_num, e->in_num, 0, &ack, 1);
		vq_push(vq, e->head, written);
	}
	if (done)
		virtio_notify_used(n->dev, vq);
}

static bool in_table(const uint8_t table[][6], int count, const uint8_t mac[6])
{
	for (int i = 0; i < count; i++)
		if (!memcmp(table[i], mac, 6))
			return true;
	return false;
}

bool vnet_rx_accept(const struct vnet *n, const uint8_t dst[6])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const struct rx_filter *f = &n->filter;

	if (f->promisc)
		return true;
	if (!memcmp(dst, bcast, 6))
		return !f->nobcast;
	if (dst[0] & 1)
		return !f->nomulti && (f->allmulti || f->multi_overflow ||
				       in_table(f->multi, f->nmulti, dst));
	if (f->nouni)
		return false;
	return f->alluni || f->uni_overflow || !memcmp(dst, n->config.mac, 6) ||
	       in_table(f->uni, f->nuni, dst);
}
