/* virtio_net.c: a polling test guest for virtio-net on the in-monitor
 * virtio-pci transport: reads the config space (MAC, link status, MTU,
 * queue pairs), then over its receive and transmit queues asks for the
 * host's MAC (ARP) and pings it (ICMP echo), and reports on COM1.
 * Command line: "ip=A.B.C.D host=A.B.C.D" (the guest's and the host's
 * IPv4 addresses on the TAP link). */
#include "lib.h"
#include "vio.h"

#define VIRTIO_ID_NET 1
#define F_MTU (1ULL << 3)
#define F_MAC (1ULL << 5)
#define F_STATUS (1ULL << 16)
#define DESC_WRITE 2
#define HDR 12 /* virtio_net_hdr with num_buffers (VERSION_1) */
#define RX_BUFS 4
#define BUF_SIZE 2048
#define ETH_ARP 0x0806
#define ETH_IP 0x0800

static struct vio_queue rxq __attribute__((aligned(4096)));
static struct vio_queue txq __attribute__((aligned(4096)));
static uint8_t rx_buf[RX_BUFS][BUF_SIZE] __attribute__((aligned(64)));
static uint8_t tx_buf[BUF_SIZE] __attribute__((aligned(64)));
static uint8_t my_mac[6], host_mac[6];
static uint8_t my_ip[4], host_ip[4];

static void put16be(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t get16be(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static int parse_ip(const char *s, uint8_t ip[4])
{
	for (int i = 0; i < 4; i++) {
		uint32_t v = 0;
		int digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 3) {
			v = v * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (!digits || v > 255 || (i < 3 && *s++ != '.'))
			return -1;
		ip[i] = (uint8_t)v;
	}
	return 0;
}

/* Puts one buffer (descriptor `id`) on the queue and notifies. */
static void post(struct vio_queue *q, uint16_t id, void *buf, uint32_t len, uint16_t flags)
{
	q->desc[id] = (struct vring_desc){ (uint64_t)(uintptr_t)buf, len, flags, 0 };
	q->avail.ring[q->avail.idx % q->size] = id;
	__asm__ volatile("" ::: "memory");
	q->avail.idx++;
	__asm__ volatile("mfence" ::: "memory");
	*q->notify = q->index;
}

/* Polls for the next used buffer; returns its id, or -1 after `spins`. */
static int poll_used(struct vio_queue *q, uint32_t *len, uint32_t spins)
{
	volatile struct vring_used *used = &q->used;

	for (uint32_t i = 0; i < spins; i++) {
		if (used->idx != q->last_used) {
			struct vring_used_elem e = used->ring[q->last_used % q->size];

			q->last_used++;
			*len = e.len;
			return (int)e.id;
		}
		__asm__ volatile("pause" ::: "memory");
	}
	return -1;
}

static void send_frame(uint32_t len)
{
	uint32_t used;

	post(&txq, 0, tx_buf, HDR + len, 0);
	if (poll_used(&txq, &used, 2000000) < 0)
		report_str("net.tx", "timeout");
}

static uint8_t *eth_header(const uint8_t *dst, uint16_t type)
{
	uint8_t *f = tx_buf + HDR;

	memset(tx_buf, 0, HDR);
	memcpy(f, dst, 6);
	memcpy(f + 6, my_mac, 6);
	put16be(f + 12, type);
	return f + 14;
}

static void send_arp_request(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *a = eth_header(bcast, ETH_ARP);

	put16be(a, 1);        /* Ethernet */
	put16be(a + 2, ETH_IP);
	a[4] = 6;
	a[5] = 4;
	put16be(a + 6, 1);    /* request */
	memcpy(a + 8, my_mac, 6);
	memcpy(a + 14, my_ip, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, host_ip, 4);
	send_frame(14 + 28);
}

static uint16_t inet_csum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += get16be(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void send_ping(uint16_t seq)
{
	uint8_t *ip = eth_header(host_mac, ETH_IP), *icmp = ip + 20;
	const uint32_t payload = 32;

	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16be(ip + 2, (uint16_t)(20 + 8 + payload));
	ip[8] = 64;           /* TTL */
	ip[9] = 1;            /* ICMP */
	memcpy(ip + 12, my_ip, 4);
	memcpy(ip + 16, host_ip, 4);
	put16be(ip + 10, inet_csum(ip, 20));
	memset(icmp, 0, 8);
	icmp[0] = 8;          /* echo request */
	put16be(icmp + 4, 0x4b56);
	put16be(icmp + 6, seq);
	for (uint32_t i = 0; i < payload; i++)
		icmp[8 + i] = (uint8_t)('a' + i % 26);
	put16be(icmp + 2, inet_csum(icmp, 8 + payload));
	send_frame(14 + 20 + 8 + payload);
}

static int is_arp_reply(const uint8_t *f, uint32_t len)
{
	return len >= 14 + 28 && get16be(f + 12) == ETH_ARP && get16be(f + 14 + 6) == 2 &&
	       !memcmp(f + 14 + 14, host_ip, 4);
}

static int is_echo_reply(const uint8_t *f, uint32_t len, uint16_t seq)
{
	const uint8_t *ip = f + 14;

	return len >= 14 + 28 && get16be(f + 12) == ETH_IP && ip[9] == 1 &&
	       !memcmp(ip + 12, host_ip, 4) && ip[20] == 0 && get16be(ip + 20 + 6) == seq &&
	       inet_csum(ip + 20, get16be(ip + 2) - 20u) == 0;
}

/* Takes received frames (re-posting their buffers) until `want` matches. */
static int wait_frame(int kind, uint16_t seq)
{
	for (int n = 0; n < 32; n++) {
		uint32_t len;
		int id = poll_used(&rxq, &len, 2000000);
		const uint8_t *f;

		if (id < 0 || id >= RX_BUFS)
			return -1;
		f = rx_buf[id] + HDR;
		if (len >= HDR && (kind ? is_echo_reply(f, len - HDR, seq)
					: is_arp_reply(f, len - HDR))) {
			if (!kind)
				memcpy(host_mac, f + 14 + 8, 6);
			post(&rxq, (uint16_t)id, rx_buf[id], BUF_SIZE, DESC_WRITE);
			return 0;
		}
		report_dec("net.other_frame.len", len);
		post(&rxq, (uint16_t)id, rx_buf[id], BUF_SIZE, DESC_WRITE);
	}
	return -1;
}

static void report_mac(const char *key, const uint8_t *m)
{
	static const char hex[] = "0123456789abcdef";
	char s[18];

	for (int i = 0; i < 6; i++) {
		s[3 * i] = hex[m[i] >> 4];
		s[3 * i + 1] = hex[m[i] & 15];
		s[3 * i + 2] = i < 5 ? ':' : 0;
	}
	report_str(key, s);
}

static void read_config(struct vio_dev *d)
{
	uint16_t status, pairs, mtu;

	for (int i = 0; i < 6; i++)
		my_mac[i] = d->config[i];
	memcpy(&status, (const void *)(d->config + 6), 2);
	memcpy(&pairs, (const void *)(d->config + 8), 2);
	memcpy(&mtu, (const void *)(d->config + 10), 2);
	report_mac("net.mac", my_mac);
	report_dec("net.status", status);
	report_dec("net.max_pairs", pairs);
	report_dec("net.mtu", mtu);
	report_hex("net.offered", d->offered);
}

void guest_main(uint8_t *boot_params)
{
	const char *cmdline;
	char v[32];
	struct vio_dev d;
	uint32_t addr;

	memcpy(&addr, boot_params + 0x228, 4);
	cmdline = (const char *)(uintptr_t)addr;
	puts_serial("kvmini test guest: virtio_net\n");
	if (parse_ip(cmdline_get(cmdline, "ip", v, sizeof(v)), my_ip) ||
	    parse_ip(cmdline_get(cmdline, "host", v, sizeof(v)), host_ip)) {
		report_str("virtio_net", "give ip= and host= on the command line");
		guest_reset();
	}
	if (vio_find(VIRTIO_ID_NET, &d) || vio_init(&d, F_MAC | F_MTU | F_STATUS) ||
	    vio_queue_setup(&d, &rxq, 0) || vio_queue_setup(&d, &txq, 1)) {
		report_str("virtio_net", "no device");
		guest_reset();
	}
	read_config(&d);
	vio_driver_ok(&d);
	for (uint16_t i = 0; i < RX_BUFS; i++)
		post(&rxq, i, rx_buf[i], BUF_SIZE, DESC_WRITE);
	send_arp_request();
	if (wait_frame(0, 0)) {
		report_str("net.arp", "no reply");
		guest_reset();
	}
	report_mac("net.host_mac", host_mac);
	for (uint16_t seq = 1; seq <= 2; seq++) {
		send_ping(seq);
		report_str("net.ping", wait_frame(1, seq) ? "no reply" : "reply");
	}
	guest_reset();
}
