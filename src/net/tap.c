/* tap.c: opening a TAP device for a virtio-net device: one non-blocking
 * file per queue pair, virtio-net headers on every frame, offloads set
 * from what the guest negotiated, queues attached and detached as the
 * driver changes the number of pairs it uses. */
#include "net/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/log.h"

#define DEFAULT_MTU 1500
#define ALL_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO)

/* One TUNSETIFF; returns the fd, or -1 with errno set (nothing logged). */
static int open_queue(const char *name, int flags, char actual[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK), err;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)flags;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	memcpy(actual, ifr.ifr_name, IFNAMSIZ);
	actual[IFNAMSIZ - 1] = '\0';
	return fd;
}

static int check_vnet_hdr_support(void)
{
	unsigned int features = 0;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return error_errno("cannot open /dev/net/tun (is the tun module loaded?)");
	if (ioctl(fd, TUNGETFEATURES, &features) < 0)
		features = 0;
	close(fd);
	if (!(features & IFF_VNET_HDR) || !(features & IFF_MULTI_QUEUE))
		return error("this kernel's TAP lacks virtio-net headers or multiqueue");
	return 0;
}

/* The first queue: decides the name (a created TAP gets kvminiN) and
 * whether the TAP is multiqueue (a named persistent TAP keeps its kind). */
static int open_first(struct tap *t, const struct net_options *o, int *flags)
{
	const char *name = o->ifname[0] ? o->ifname : "kvmini%d";
	int fd;

	*flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (o->queues > 1 ? IFF_MULTI_QUEUE : 0);
	t->created = !o->ifname[0] || link_get_index(o->ifname) < 0;
	fd = open_queue(name, *flags, t->ifname);
	if (fd < 0 && errno == EINVAL && o->queues == 1) {
		*flags |= IFF_MULTI_QUEUE; /* a persistent TAP made with multi_queue */
		fd = open_queue(name, *flags, t->ifname);
	}
	if (fd >= 0)
		return fd;
	if (errno == EINVAL && o->queues > 1)
		return error("TAP %s was made without multi_queue: recreate it (ip tuntap add "
			     "dev %s mode tap multi_queue) or use queues=1", name, name);
	if (errno == EPERM)
		return error("cannot %s TAP %s: kvmini needs CAP_NET_ADMIN, or a TAP made for "
			     "this user (ip tuntap add dev NAME mode tap user USER)",
			     t->created ? "create" : "attach to", name);
	return error_errno("cannot open TAP %s", name);
}

static void probe_ufo(struct tap *t)
{
	t->ufo = ioctl(t->fds[0], TUNSETOFFLOAD, (unsigned long)ALL_OFFLOADS) == 0;
	ioctl(t->fds[0], TUNSETOFFLOAD, 0UL);
}

/* Whether some interface already has an address in 10.47.x.0/24. */
static bool subnet_in_use(const struct ifaddrs *list, unsigned x)
{
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		uint32_t a;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ntohl(((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		if ((a >> 8) == ((10U << 16) | (47U << 8) | x))
			return true;
	}
	return false;
}

/* 10.47.X.1: X from the interface index, moved on past subnets other
 * links (other VMs' TAPs) already use. */
static struct in_addr default_host(int index)
{
	struct ifaddrs *list = NULL;
	unsigned x = (unsigned)index % 256;

	if (getifaddrs(&list) == 0) {
		for (unsigned tries = 0; tries < 256 && subnet_in_use(list, x); tries++)
			x = (x + 1) % 256;
		freeifaddrs(list);
	}
	return (struct in_addr){ htonl((10U << 24) | (47U << 16) | (x << 8) | 1) };
}

/* A TAP kvmini created gets an address, the MTU and is brought up. */
static int configure_created(struct tap *t, const struct net_options *o)
{
	struct in_addr host = o->host;
	int prefix = o->prefix ? o->prefix : 24;
	int index = link_get_index(t->ifname);

	if (index < 0)
		return -1;
	if (!host.s_addr)
		host = default_host(index);
	t->mtu = o->mtu ? o->mtu : DEFAULT_MTU;
	return link_configure(t->ifname, host, prefix, t->mtu);
}

/* The guest's suggested address: the host's plus one within the subnet. */
static void fill_link(struct tap *t)
{
	uint32_t h = ntohl(t->link.host.s_addr);
	uint32_t mask = t->link.prefix ? ~0U << (32 - t->link.prefix) : 0;
	uint32_t g = (h & mask) | (((h & ~mask) + 1) & ~mask);
	char host[INET_ADDRSTRLEN], guest[INET_ADDRSTRLEN];

	snprintf(t->link.ifname, IFNAMSIZ, "%s", t->ifname);
	t->link.guest.s_addr = htonl(g == h || g == (h | ~mask) ? (h & mask) | 2 : g);
	inet_ntop(AF_INET, &t->link.host, host, sizeof(host));
	inet_ntop(AF_INET, &t->link.guest, guest, sizeof(guest));
	if (t->created)
		info("net: created TAP %s: host %s/%d, guest %s, MTU %u", t->ifname, host,
		     t->link.prefix, guest, t->mtu);
}

struct tap *tap_open(const struct net_options *o)
{
	struct tap *t = calloc(1, sizeof(*t));
	int flags;

	if (!t) {
		error("out of memory for a TAP");
		return NULL;
	}
	for (int i = 0; i < TAP_MAX_QUEUES; i++)
		t->fds[i] = -1;
	if (o->queues < 1 || o->queues > TAP_MAX_QUEUES || check_vnet_hdr_support() ||
	    (t->fds[0] = open_first(t, o, &flags)) < 0)
		goto fail;
	t->nqueues = 1;
	t->multi = flags & IFF_MULTI_QUEUE;
	t->attached[0] = true;
	for (; t->nqueues < o->queues; t->nqueues++) {
		char name[IFNAMSIZ];

		t->fds[t->nqueues] = open_queue(t->ifname, flags, name);
		if (t->fds[t->nqueues] < 0) {
			error_errno("cannot open queue %d of TAP %s", t->nqueues, t->ifname);
			goto fail;
		}
		t->attached[t->nqueues] = true;
	}
	probe_ufo(t);
	if (t->created && configure_created(t, o))
		goto fail;
	if (!t->created && o->mtu && link_configure(t->ifname, (struct in_addr){ 0 }, 0, o->mtu))
		goto fail;
	if (!t->mtu && link_get_mtu(t->ifname, &t->mtu))
		goto fail;
	t->has_link = link_get_ipv4(t->ifname, &t->link.host, &t->link.prefix) == 0;
	if (t->has_link)
		fill_link(t);
	return t;
fail:
	tap_close(t);
	return NULL;
}

void tap_close(struct tap *t)
{
	if (!t)
		return;
	for (int i = 0; i < TAP_MAX_QUEUES; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
	free(t);
}

struct tap *tap_wrap_fds(const char *name, const int *fds, int n, unsigned mtu)
{
	struct tap *t = calloc(1, sizeof(*t));

	if (!t || n < 1 || n > TAP_MAX_QUEUES) {
		free(t);
		return NULL;
	}
	snprintf(t->ifname, IFNAMSIZ, "%s", name);
	for (int i = 0; i < TAP_MAX_QUEUES; i++) {
		t->fds[i] = i < n ? fds[i] : -1;
		t->attached[i] = i < n;
	}
	t->nqueues = n;
	t->mtu = mtu;
	t->plain = true;
	return t;
}

int tap_set_vnet_hdr_len(struct tap *t, int len)
{
	t->vnet_hdr_len = len;
	for (int i = 0; i < t->nqueues && !t->plain; i++)
		if (ioctl(t->fds[i], TUNSETVNETHDRSZ, &len) < 0)
			return error_errno("TAP %s: cannot set a %d-byte virtio-net header",
					   t->ifname, len);
	return 0;
}

int tap_set_offloads(struct tap *t, unsigned tun_flags)
{
	if (!t->ufo)
		tun_flags &= ~(unsigned)TUN_F_UFO;
	if (!(tun_flags & TUN_F_CSUM)) /* segmentation needs checksum offload */
		tun_flags = 0;
	t->offloads = tun_flags;
	/* The flags belong to the device: one file sets them for every queue. */
	if (!t->plain && ioctl(t->fds[0], TUNSETOFFLOAD, (unsigned long)tun_flags) < 0)
		return error_errno("TAP %s: cannot set offloads 0x%x", t->ifname, tun_flags);
	return 0;
}

int tap_set_active_queues(struct tap *t, int n)
{
	if (n < 1 || n > t->nqueues)
		return error("TAP %s: %d queues asked for, it has %d", t->ifname, n, t->nqueues);
	for (int i = 0; i < t->nqueues; i++) {
		struct ifreq ifr;
		bool want = i < n;

		if (t->attached[i] == want)
			continue;
		if (t->plain || !t->multi) {
			t->attached[i] = want;
			continue;
		}
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = want ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
		if (ioctl(t->fds[i], TUNSETQUEUE, &ifr) < 0)
			return error_errno("TAP %s: cannot %s queue %d", t->ifname,
					   want ? "attach" : "detach", i);
		t->attached[i] = want;
	}
	return 0;
}

int tap_link_info(const struct tap *t, struct tap_link *out)
{
	if (!t || !t->has_link)
		return -1;
	*out = t->link;
	return 0;
}
