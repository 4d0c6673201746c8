/* net_priv.h: the virtio-net device's state, shared by its data path
 * (net.c) and its control queue (net_ctrl.c). */
#ifndef KVMINI_VIRTIO_NET_PRIV_H
#define KVMINI_VIRTIO_NET_PRIV_H

#include "virtio/net.h"

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_RX_EXTRA 20
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23

#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

#define ETH_HEADER 14
#define ETH_VLAN_HEADER 18
#define MAX_GSO_FRAME 65550 /* 64 KiB of IP plus Ethernet and VLAN headers */
#define RX_MAX_IOV 1024     /* what one readv() takes */
#define MAC_TABLE_MAX 64

struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* with VERSION_1 or MRG_RXBUF */
} __attribute__((packed));

struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

/* Receive buffers taken from the ring while frames are read into them. */
struct rx_chain {
	uint16_t head;
	uint16_t niov;
	uint32_t len;
};

struct vnet;

struct net_pair {
	struct vnet *n;
	int index;
	int fd;                 /* the TAP queue */
	bool watched;           /* on the event loop */
	struct rx_chain chains[VQ_MAX_SIZE];
	int nchains;
	struct iovec iov[RX_MAX_IOV];
	int niov;
	uint64_t bytes;         /* room in the chains held */
};

/* The driver's RX mode (VIRTIO_NET_CTRL_RX) and MAC tables. */
struct rx_filter {
	bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
	int nuni, nmulti;
	bool uni_overflow, multi_overflow;
	uint8_t uni[MAC_TABLE_MAX][6];
	uint8_t multi[MAC_TABLE_MAX][6];
};

struct vnet {
	struct virtio_dev *dev;
	struct tap *tap;
	struct net_options opts;
	struct virtio_net_config config;
	int pairs;              /* queue pairs offered */
	int active_pairs;       /* in use (VIRTIO_NET_CTRL_MQ) */
	int hdr_len;            /* 12 (VERSION_1 / MRG_RXBUF) or 10 */
	bool started;
	uint64_t negotiated;    /* features at the last start */
	struct rx_filter filter;
	struct virtio_net_stats stats;
	struct vq_elem elem;    /* scratch for chains taken from the rings */
	struct net_pair pair[TAP_MAX_QUEUES];
};

/* Counts a drop and logs its kind the first time. */
void vnet_count(uint64_t *counter, const char *what);
/* Serves the control queue (net_ctrl.c). */
void vnet_ctrl(struct vnet *n, struct virtqueue *vq);
/* Whether the RX filter lets a frame for `dst` through. */
bool vnet_rx_accept(const struct vnet *n, const uint8_t dst[6]);
void vnet_filter_reset(struct vnet *n);
/* TUN_F_* flags for a set of negotiated guest offload features. */
unsigned vnet_tun_offloads(uint64_t features);

#endif
