/* net.c: virtio-net (virtio 1.x, 5.1) over a TAP device, one TAP queue
 * per queue pair. TX: each chain's readable buffers (virtio-net header
 * first) go to the TAP with one writev(), after checking the header and
 * length against what was negotiated. RX: the TAP reads straight into the
 * guest's buffers with one readv() over as many chains as a frame may need
 * (MRG_RXBUF), and the chains actually filled are returned with
 * num_buffers set. No frame is copied through a buffer of ours. Queues:
 * rx0, tx0, rx1, tx1, ..., then the control queue (net_ctrl.c). */
#include "virtio/net_priv.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/log.h"
#include "virtio/iov.h"
#include "vm/event_loop.h"

#define OFFLOAD_FEATURES                                                                   \
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |                 \
	 (1ULL << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) |   \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN) |             \
	 (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |              \
	 (1ULL << VIRTIO_NET_F_HOST_ECN))
#define UFO_FEATURES ((1ULL << VIRTIO_NET_F_GUEST_UFO) | (1ULL << VIRTIO_NET_F_HOST_UFO))
#define GUEST_GSO_FEATURES                                                                 \
	((1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) |           \
	 (1ULL << VIRTIO_NET_F_GUEST_UFO))
#define HOST_GSO_FEATURES                                                                  \
	((1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |             \
	 (1ULL << VIRTIO_NET_F_HOST_UFO))

void vnet_count(uint64_t *counter, const char *what)
{
	if ((*counter)++ == 0)
		warn("virtio-net: %s (dropped and counted; logged once)", what);
}

static uint64_t net_features(struct virtio_dev *dev)
{
	struct vnet *n = dev->priv;
	uint64_t f = (1ULL << VIRTIO_NET_F_MTU) | (1ULL << VIRTIO_NET_F_MAC) |
		     (1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_STATUS) |
		     (1ULL << VIRTIO_NET_F_CTRL_VQ) | (1ULL << VIRTIO_NET_F_CTRL_RX) |
		     (1ULL << VIRTIO_NET_F_CTRL_RX_EXTRA) | (1ULL << VIRTIO_NET_F_CTRL_MAC_ADDR);

	if (n->opts.offload)
		f |= OFFLOAD_FEATURES | (n->tap->ufo ? UFO_FEATURES : 0);
	if (n->pairs > 1)
		f |= 1ULL << VIRTIO_NET_F_MQ;
	return f;
}

unsigned vnet_tun_offloads(uint64_t f)
{
	unsigned t = 0;

	if (!(f & (1ULL << VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	t |= TUN_F_CSUM;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
		t |= TUN_F_TSO6;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_ECN))
		t |= TUN_F_TSO_ECN;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_UFO))
		t |= TUN_F_UFO;
	return t;
}

static void net_read_config(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vnet *n = dev->priv;

	memset(buf, 0, len);
	if (off < sizeof(n->config))
		memcpy(buf, (uint8_t *)&n->config + off,
		       len < sizeof(n->config) - off ? len : sizeof(n->config) - off);
}

static int net_num_queues(struct virtio_dev *dev)
{
	return 2 * ((struct vnet *)dev->priv)->pairs + 1;
}

/* ---- transmit ---- */

static uint64_t max_frame(const struct vnet *n, uint64_t gso_features)
{
	if (virtio_has(n->dev, VIRTIO_NET_F_CSUM) && (n->dev->features & gso_features))
		return MAX_GSO_FRAME;
	return n->config.mtu + ETH_VLAN_HEADER;
}

/* A GSO type the driver may send: the matching HOST_ feature negotiated. */
static bool gso_allowed(const struct vnet *n, uint8_t type)
{
	if ((type & VIRTIO_NET_HDR_GSO_ECN) && !virtio_has(n->dev, VIRTIO_NET_F_HOST_ECN))
		return false;
	switch (type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE: return !(type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4: return virtio_has(n->dev, VIRTIO_NET_F_HOST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6: return virtio_has(n->dev, VIRTIO_NET_F_HOST_TSO6);
	case VIRTIO_NET_HDR_GSO_UDP: return virtio_has(n->dev, VIRTIO_NET_F_HOST_UFO);
	default: return false;
	}
}

static bool header_ok(const struct vnet *n, const struct virtio_net_hdr *h, uint64_t frame)
{
	bool csum = h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;

	if (!gso_allowed(n, h->gso_type))
		return false;
	if (csum && (!virtio_has(n->dev, VIRTIO_NET_F_CSUM) ||
		     (uint64_t)h->csum_start + h->csum_offset + 2 > frame))
		return false;
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE && (!csum || !h->gso_size))
		return false;
	return true;
}

/* 0 if the chain may go to the TAP; else counts why not. */
static int tx_check(struct vnet *n, const struct vq_elem *e)
{
	struct virtio_net_hdr h;
	uint64_t frame;

	if (e->in_num) {
		vnet_count(&n->stats.tx_bad_chain, "TX chain with device-writable buffers");
		return -1;
	}
	if (e->out_len < (uint64_t)n->hdr_len + ETH_HEADER) {
		vnet_count(&n->stats.tx_short, "TX frame shorter than its headers");
		return -1;
	}
	frame = e->out_len - (uint64_t)n->hdr_len;
	memset(&h, 0, sizeof(h));
	iov_to_buf(e->iov, e->out_num, 0, &h, 10);
	if (frame > max_frame(n, h.gso_type ? HOST_GSO_FEATURES : 0)) {
		vnet_count(&n->stats.tx_oversized, "TX frame larger than the MTU allows");
		return -1;
	}
	if (!header_ok(n, &h, frame)) {
		vnet_count(&n->stats.tx_bad_header,
			   "TX header asks for an offload that was not negotiated, or bad offsets");
		return -1;
	}
	return 0;
}

static void tx_send(struct vnet *n, struct net_pair *p, const struct vq_elem *e)
{
	ssize_t w = writev(p->fd, e->iov, e->out_num);

	if (w < 0) {
		if (n->stats.tx_errors++ == 0)
			warn("virtio-net: TAP %s refused a frame: %s (counted; logged once)",
			     n->tap->ifname, strerror(errno));
		return;
	}
	n->stats.tx_packets++;
	n->stats.tx_bytes += e->out_len - (uint64_t)n->hdr_len;
}

static void tx_drain(struct vnet *n, struct net_pair *p, struct virtqueue *vq)
{
	struct vq_elem *e = &n->elem;
	int got, done = 0;

	while ((got = vq_pop(vq, e)) != 0) {
		if (got < 0)
			vnet_count(&n->stats.tx_bad_chain, "malformed TX chain");
		else if (tx_check(n, e) == 0)
			tx_send(n, p, e);
		vq_push(vq, e->head, 0);
		done++;
	}
	if (done)
		virtio_notify_used(n->dev, vq);
}

/* ---- receive ---- */

static uint64_t rx_need(const struct vnet *n)
{
	return (uint64_t)n->hdr_len + max_frame(n, GUEST_GSO_FEATURES);
}

/* Why a receive chain cannot be used, or NULL. */
static const char *rx_chain_fault(const struct vnet *n, int got, const struct vq_elem *e)
{
	if (got < 0)
		return "malformed RX chain";
	if (e->out_num || e->in_len < (uint64_t)n->hdr_len || e->in_len > UINT32_MAX)
		return "RX chain with readable buffers or shorter than the virtio-net header";
	return NULL;
}

/* Takes receive chains until they can hold the largest frame (one chain
 * without MRG_RXBUF). Returns false if the ring runs dry first. The chains
 * held are always the last ones taken, so that the unused ones can go back
 * by moving last_avail: a bad chain behind held ones is left in the ring
 * until it comes first. */
static bool rx_top_up(struct vnet *n, struct net_pair *p, struct virtqueue *vq)
{
	bool mrg = virtio_has(n->dev, VIRTIO_NET_F_MRG_RXBUF);
	struct vq_elem *e = &n->elem;

	while (mrg ? p->bytes < rx_need(n) : p->nchains == 0) {
		int got = vq_pop(vq, e);
		const char *fault;

		if (got == 0)
			return mrg && p->nchains && p->nchains == vq->size; /* the whole ring */
		fault = rx_chain_fault(n, got, e);
		if ((fault && p->nchains) || p->niov + e->in_num > RX_MAX_IOV) {
			vq->last_avail--; /* stays in the ring for the next round */
			return true;
		}
		if (fault) {
			vnet_count(&n->stats.rx_bad_chain, fault);
			vq_push(vq, e->head, 0);
			continue;
		}
		memcpy(p->iov + p->niov, e->iov, (size_t)e->in_num * sizeof(struct iovec));
		p->chains[p->nchains++] = (struct rx_chain){ e->head, (uint16_t)e->in_num,
							     (uint32_t)e->in_len };
		p->niov += e->in_num;
		p->bytes += e->in_len;
	}
	return true;
}

/* Drops the first k chains from the list (they were used). */
static void rx_consume(struct net_pair *p, int k)
{
	int iovs = 0;

	for (int i = 0; i < k; i++) {
		iovs += p->chains[i].niov;
		p->bytes -= p->chains[i].len;
	}
	p->nchains -= k;
	p->niov -= iovs;
	memmove(p->chains, p->chains + k, (size_t)p->nchains * sizeof(p->chains[0]));
	memmove(p->iov, p->iov + iovs, (size_t)p->niov * sizeof(p->iov[0]));
}

/* A frame of `len` bytes (header included) is in the chains: return the
 * ones it filled, or leave them for the next frame if it is dropped. */
static void rx_deliver(struct vnet *n, struct net_pair *p, struct virtqueue *vq, uint64_t len,
		       uint64_t room)
{
	uint8_t dst[6];
	uint16_t k = 0;
	uint64_t left = len;

	if (len > room) {
		vnet_count(&n->stats.rx_truncated, "RX frame larger than the buffers offered");
		return;
	}
	if (len < (uint64_t)n->hdr_len + ETH_HEADER)
		return; /* the TAP never gives these */
	iov_to_buf(p->iov, p->niov, (size_t)n->hdr_len, dst, sizeof(dst));
	if (!vnet_rx_accept(n, dst)) {
		n->stats.rx_filtered++;
		return;
	}
	while (left) {
		uint32_t used = left < p->chains[k].len ? (uint32_t)left : p->chains[k].len;

		left -= used;
		k++;
	}
	if (n->hdr_len == (int)sizeof(struct virtio_net_hdr))
		iov_from_buf(p->iov, p->chains[0].niov, offsetof(struct virtio_net_hdr, num_buffers),
			     &k, sizeof(k));
	left = len;
	for (int i = 0; i < k; i++) {
		uint32_t used = left < p->chains[i].len ? (uint32_t)left : p->chains[i].len;

		vq_push(vq, p->chains[i].head, used);
		left -= used;
	}
	rx_consume(p, k);
	n->stats.rx_packets++;
	n->stats.rx_bytes += len - (uint64_t)n->hdr_len;
}

/* Reads frames from the TAP until it is empty or the ring runs dry; the
 * chains taken and not filled go back to the ring. */
static void rx_drain(struct vnet *n, struct net_pair *p)
{
	struct virtqueue *vq = &n->dev->vqs[2 * p->index];
	bool mrg = virtio_has(n->dev, VIRTIO_NET_F_MRG_RXBUF);
	uint16_t used_before = vq->used_idx;

	if (!vq->ready || p->index >= n->active_pairs)
		return;
	while (rx_top_up(n, p, vq)) {
		int niov = mrg ? p->niov : p->chains[0].niov;
		uint64_t room = mrg ? p->bytes : p->chains[0].len;
		ssize_t got = readv(p->fd, p->iov, niov);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				warn("virtio-net: reading TAP %s: %s", n->tap->ifname, strerror(errno));
			break;
		}
		rx_deliver(n, p, vq, (uint64_t)got, room);
	}
	vq->last_avail = (uint16_t)(vq->last_avail - p->nchains);
	p->nchains = p->niov = 0;
	p->bytes = 0;
	if (vq->used_idx != used_before)
		virtio_notify_used(n->dev, vq);
}

static void on_tap_readable(void *opaque, uint32_t events)
{
	struct net_pair *p = opaque;
	struct virtio_dev *dev = p->n->dev;

	if (dev->lock)
		pthread_mutex_lock(dev->lock);
	if (p->n->started)
		rx_drain(p->n, p);
	if (dev->lock)
		pthread_mutex_unlock(dev->lock);
}

static void net_queue_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct vnet *n = dev->priv;
	int pair = vq->index / 2;

	if (!n->started)
		return;
	if (vq->index == 2 * n->pairs)
		vnet_ctrl(n, vq);
	else if (vq->index % 2)
		tx_drain(n, &n->pair[pair], vq);
	else
		rx_drain(n, &n->pair[pair]); /* new buffers: frames may be waiting */
}

/* ---- life cycle ---- */

static void unwatch(struct vnet *n)
{
	for (int i = 0; i < n->pairs; i++) {
		if (n->pair[i].watched)
			event_loop_del(n->dev->loop, n->pair[i].fd);
		n->pair[i].watched = false;
	}
}

static int net_start(struct virtio_dev *dev)
{
	struct vnet *n = dev->priv;

	if (n->started)
		return 0;
	n->hdr_len = virtio_has(dev, VIRTIO_F_VERSION_1) || virtio_has(dev, VIRTIO_NET_F_MRG_RXBUF)
			     ? (int)sizeof(struct virtio_net_hdr) : 10;
	n->active_pairs = 1;
	n->negotiated = dev->features;
	vnet_filter_reset(n);
	if (tap_set_vnet_hdr_len(n->tap, n->hdr_len) ||
	    tap_set_offloads(n->tap, vnet_tun_offloads(dev->features)) ||
	    tap_set_active_queues(n->tap, 1))
		return -1;
	for (int i = 0; i < n->pairs; i++) {
		/* Edge-triggered: rx_drain() reads until the TAP is empty or the
		 * ring is dry, and a ring refill (a kick) drains again. */
		if (event_loop_add(dev->loop, n->pair[i].fd, EPOLLIN | EPOLLET, on_tap_readable,
				   &n->pair[i])) {
			unwatch(n);
			return -1;
		}
		n->pair[i].watched = true;
	}
	n->started = true;
	return 0;
}

static void net_stop(struct virtio_dev *dev)
{
	struct vnet *n = dev->priv;

	if (!n->started)
		return;
	unwatch(n);
	n->started = false;
	memcpy(n->config.mac, n->opts.mac, 6); /* a MAC set by the driver lasts until reset */
}

int virtio_net_init(struct virtio_dev *dev, struct tap *tap, const struct net_options *o)
{
	struct vnet *n = calloc(1, sizeof(*n));

	if (!n)
		return error("out of memory for virtio-net");
	n->dev = dev;
	n->tap = tap;
	n->opts = *o;
	n->pairs = tap->nqueues;
	n->active_pairs = 1;
	n->hdr_len = sizeof(struct virtio_net_hdr);
	memcpy(n->config.mac, o->mac, 6);
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = (uint16_t)n->pairs;
	n->config.mtu = (uint16_t)(tap->mtu ? tap->mtu : 1500);
	for (int i = 0; i < n->pairs; i++)
		n->pair[i] = (struct net_pair){ .n = n, .index = i, .fd = tap->fds[i] };
	vnet_filter_reset(n);
	dev->ops = &virtio_net_ops;
	dev->priv = n;
	return 0;
}

static void log_drops(const struct vnet *n)
{
	const struct virtio_net_stats *s = &n->stats;
	uint64_t bad = s->tx_bad_chain + s->tx_short + s->tx_oversized + s->tx_bad_header +
		       s->tx_errors + s->rx_bad_chain + s->rx_truncated + s->ctrl_errors;

	if (bad)
		info("virtio-net %s: dropped tx_bad_chain=%llu tx_short=%llu tx_oversized=%llu "
		     "tx_bad_header=%llu tx_errors=%llu rx_bad_chain=%llu rx_truncated=%llu "
		     "ctrl_errors=%llu", n->tap->ifname, (unsigned long long)s->tx_bad_chain,
		     (unsigned long long)s->tx_short, (unsigned long long)s->tx_oversized,
		     (unsigned long long)s->tx_bad_header, (unsigned long long)s->tx_errors,
		     (unsigned long long)s->rx_bad_chain, (unsigned long long)s->rx_truncated,
		     (unsigned long long)s->ctrl_errors);
}

void virtio_net_destroy(struct virtio_dev *dev)
{
	struct vnet *n = dev->priv;

	if (!n)
		return;
	net_stop(dev);
	log_drops(n);
	tap_close(n->tap);
	free(n);
	dev->priv = NULL;
}

void virtio_net_get_stats(struct virtio_dev *dev, struct virtio_net_stats *out)
{
	struct vnet *n = dev->priv;

	if (dev->lock)
		pthread_mutex_lock(dev->lock);
	*out = n->stats;
	if (dev->lock)
		pthread_mutex_unlock(dev->lock);
}

void virtio_net_get_state(struct virtio_dev *dev, uint8_t mac[6], int *active_pairs,
			  uint64_t *features)
{
	struct vnet *n = dev->priv;

	if (dev->lock)
		pthread_mutex_lock(dev->lock);
	memcpy(mac, n->config.mac, 6);
	*active_pairs = n->active_pairs;
	*features = n->negotiated;
	if (dev->lock)
		pthread_mutex_unlock(dev->lock);
}

const struct tap *virtio_net_tap(struct virtio_dev *dev)
{
	return ((struct vnet *)dev->priv)->tap;
}

const struct virtio_device_ops virtio_net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = net_features,
	.config_size = sizeof(struct virtio_net_config),
	.read_config = net_read_config,
	.num_queues = net_num_queues,
	.queue_notify = net_queue_notify,
	.start = net_start,
	.stop = net_stop,
};
