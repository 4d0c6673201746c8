/* nettool.c: the one ethtool request the network tests need inside UML
 * guests (busybox has no ethtool): set the number of combined channels,
 * i.e. virtio-net queue pairs, which the driver passes on through the
 * control queue (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET).
 *   nettool channels IFNAME N     prints "CHANNELS max=M combined=C" */
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int channels(int s, const char *ifname, struct ethtool_channels *ch)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_data = (void *)ch;
	return ioctl(s, SIOCETHTOOL, &ifr);
}

int main(int argc, char **argv)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (argc != 4 || strcmp(argv[1], "channels")) {
		fprintf(stderr, "usage: nettool channels IFNAME N\n");
		return 2;
	}
	if (channels(s, argv[2], &ch) < 0) {
		perror("nettool: ETHTOOL_GCHANNELS");
		return 1;
	}
	ch.cmd = ETHTOOL_SCHANNELS;
	ch.combined_count = (unsigned)atoi(argv[3]);
	if (channels(s, argv[2], &ch) < 0) {
		perror("nettool: ETHTOOL_SCHANNELS");
		return 1;
	}
	ch.cmd = ETHTOOL_GCHANNELS;
	if (channels(s, argv[2], &ch) < 0)
		return 1;
	printf("CHANNELS max=%u combined=%u\n", ch.max_combined, ch.combined_count);
	close(s);
	return 0;
}
