/* link.c: host-side settings of a network interface through the classic
 * socket ioctls: IPv4 address and netmask, MTU, up, and reading them back.
 * Used on the TAP devices kvmini creates for its VMs' private links. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tap.h"
#include "util/log.h"

static int ifreq_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret, err;

	if (s < 0)
		return -1;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
	ret = ioctl(s, req, ifr);
	err = errno;
	close(s);
	errno = err;
	return ret;
}

static void set_sin(struct sockaddr *sa, struct in_addr a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };

	memcpy(sa, &sin, sizeof(sin));
}

static struct in_addr get_sin(const struct sockaddr *sa)
{
	struct sockaddr_in sin;

	memcpy(&sin, sa, sizeof(sin));
	return sin.sin_addr;
}

int link_get_index(const char *ifname)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ifreq_ioctl(ifname, SIOCGIFINDEX, &ifr) < 0)
		return -1;
	return ifr.ifr_ifindex;
}

int link_get_mtu(const char *ifname, unsigned *mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ifreq_ioctl(ifname, SIOCGIFMTU, &ifr) < 0)
		return error_errno("cannot read the MTU of %s", ifname);
	*mtu = (unsigned)ifr.ifr_mtu;
	return 0;
}

int link_get_ipv4(const char *ifname, struct in_addr *addr, int *prefix)
{
	struct ifreq ifr;
	uint32_t mask;

	memset(&ifr, 0, sizeof(ifr));
	if (ifreq_ioctl(ifname, SIOCGIFADDR, &ifr) < 0)
		return -1;
	*addr = get_sin(&ifr.ifr_addr);
	memset(&ifr, 0, sizeof(ifr));
	if (ifreq_ioctl(ifname, SIOCGIFNETMASK, &ifr) < 0)
		return -1;
	mask = ntohl(get_sin(&ifr.ifr_netmask).s_addr);
	*prefix = __builtin_popcount(mask);
	return 0;
}

/* Sets the address (when host is not 0.0.0.0), the MTU (when not 0) and
 * brings the interface up. */
int link_configure(const char *ifname, struct in_addr host, int prefix, unsigned mtu)
{
	struct ifreq ifr;
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &host, text, sizeof(text));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)mtu;
	if (mtu && ifreq_ioctl(ifname, SIOCSIFMTU, &ifr) < 0)
		return error_errno("cannot set the MTU of %s to %u", ifname, mtu);
	if (host.s_addr) {
		memset(&ifr, 0, sizeof(ifr));
		set_sin(&ifr.ifr_addr, host);
		if (ifreq_ioctl(ifname, SIOCSIFADDR, &ifr) < 0)
			return error_errno("cannot give %s the address %s", ifname, text);
		memset(&ifr, 0, sizeof(ifr));
		set_sin(&ifr.ifr_netmask,
			(struct in_addr){ htonl(prefix ? ~0U << (32 - prefix) : 0) });
		if (ifreq_ioctl(ifname, SIOCSIFNETMASK, &ifr) < 0)
			return error_errno("cannot set the netmask of %s to /%d", ifname, prefix);
	}
	memset(&ifr, 0, sizeof(ifr));
	if (ifreq_ioctl(ifname, SIOCGIFFLAGS, &ifr) < 0)
		return error_errno("cannot read the flags of %s", ifname);
	ifr.ifr_flags |= IFF_UP;
	if (ifreq_ioctl(ifname, SIOCSIFFLAGS, &ifr) < 0)
		return error_errno("cannot bring %s up", ifname);
	return 0;
}
