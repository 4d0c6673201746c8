/* tap.h: the host side of a VM's network link: a TAP device opened with
 * one file per queue (IFF_MULTI_QUEUE), virtio-net headers on every frame
 * (IFF_VNET_HDR) and the offloads the guest can take (TUNSETOFFLOAD).
 * Either a TAP the user made (`tap=NAME`), or one kvmini creates itself
 * (root only) with a private host address: the VM's own link, which other
 * host services (the NFS server of `kvmini run --share`) listen on. */
#ifndef KVMINI_NET_TAP_H
#define KVMINI_NET_TAP_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define TAP_MAX_QUEUES 8

/* What `--net` / `--tap` asked for (see net/net_options.c). */
struct net_options {
	char ifname[IFNAMSIZ];  /* empty: kvmini creates a TAP named kvminiN */
	uint8_t mac[6];         /* the guest's MAC (random 52:54:00:xx:xx:xx unless given) */
	unsigned mtu;           /* 0: the TAP's own (named) or 1500 (created) */
	int queues;             /* queue pairs, 1..TAP_MAX_QUEUES */
	bool queues_set;        /* given (else `kvmini run` uses one per vCPU) */
	bool offload;           /* offer checksum and segmentation offloads (default) */
	struct in_addr host;    /* host address of a created TAP (0: picked) */
	int prefix;
};

/* The addresses of the private link (a TAP kvmini created, or a named one
 * that has an IPv4 address): the host's, and the one suggested to the guest. */
struct tap_link {
	char ifname[IFNAMSIZ];
	struct in_addr host, guest;
	int prefix;
};

struct tap {
	char ifname[IFNAMSIZ];
	int nqueues;
	int fds[TAP_MAX_QUEUES];
	bool created;       /* kvmini made it: it goes away when kvmini closes it */
	bool multi;         /* IFF_MULTI_QUEUE: queues can be attached and detached */
	bool attached[TAP_MAX_QUEUES];
	bool ufo;           /* the kernel takes TUN_F_UFO (UDP fragmentation offload) */
	unsigned mtu;
	bool has_link;
	struct tap_link link;
	int vnet_hdr_len;   /* as last set */
	unsigned offloads;  /* TUN_F_* as last set */
	bool plain;         /* packet sockets standing in for a TAP: no TAP ioctls */
};

/* Opens (or creates and configures) the TAP for `o`: o->queues files,
 * non-blocking, with virtio-net headers. Returns NULL with the reason logged. */
struct tap *tap_open(const struct net_options *o);
void tap_close(struct tap *t);
/* A TAP stand-in over n packet sockets (SOCK_SEQPACKET: one frame per
 * read or write, virtio-net header first), which it then owns: for tests
 * of the device without a TAP. */
struct tap *tap_wrap_fds(const char *name, const int *fds, int n, unsigned mtu);

/* Size of the virtio-net header on every frame (10, or 12 with num_buffers). */
int tap_set_vnet_hdr_len(struct tap *t, int len);
/* TUN_F_* offloads the TAP may hand us (what the guest negotiated to
 * receive: checksums left to it, TSO4/6, ECN, UFO). TUN_F_UFO is left
 * out where the kernel refuses it. */
int tap_set_offloads(struct tap *t, unsigned tun_flags);
/* Enables queues [0, n) and disables the rest (multiqueue TAPs). */
int tap_set_active_queues(struct tap *t, int n);

/* The private link's addresses; -1 if the TAP has no IPv4 address. */
int tap_link_info(const struct tap *t, struct tap_link *out);

/* Host side configuration of a TAP kvmini created (net/link.c). */
int link_configure(const char *ifname, struct in_addr host, int prefix, unsigned mtu);
int link_get_ipv4(const char *ifname, struct in_addr *addr, int *prefix);
int link_get_mtu(const char *ifname, unsigned *mtu);
int link_get_index(const char *ifname);

/* Parses "tap[=NAME][,mac=52:54:00:12:34:56][,mtu=N][,queues=N][,offload=on|off]
 * [,host=A.B.C.D/N]" (net/net_options.c). */
int net_options_parse(const char *spec, struct net_options *o);
/* The same for `kvmini vhost-user net --tap NAME,...` (the name first). */
int net_options_parse_tap(const char *spec, struct net_options *o);

#endif
