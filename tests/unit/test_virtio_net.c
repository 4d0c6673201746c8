/* test_virtio_net.c: a fake driver sets up virtio-net's receive, transmit
 * and control rings in a buffer standing for guest memory, with a
 * SOCK_SEQPACKET socket pair in place of the TAP, and feeds the device
 * good and bad input: writable descriptors, frames shorter than their
 * headers, oversized frames, offloads that were not negotiated, chains
 * outside memory, receive chains too short for the virtio-net header,
 * malformed control requests. Each bad one is dropped and counted alone;
 * good frames still flow both ways, merged receive buffers carry the right
 * num_buffers, and the RX filter follows the control queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtio/net_priv.h"
#include "vm/event_loop.h"

#define QSIZE 16
#define MEM_SIZE (1 << 20)
#define GPA 0x100000ULL
#define RING_AREA 0x4000 /* per queue: desc, avail, used */
#define DATA_OFF 0x10000
#define BIG_OFF 0x80000  /* room for a frame over 64 KiB */
#define MAC0 0x52, 0x54, 0x00, 0x12, 0x34, 0x56

enum { RXQ, TXQ, CTRLQ, NQ };

struct fq {
	struct vring_desc *desc;
	uint16_t *avail;
	uint8_t *used;
	uint16_t avail_idx, last_used;
	int next_desc;
};

struct fake {
	uint8_t *ram;
	struct vmem_map map;
	struct event_loop loop;
	struct virtio_dev dev;
	struct fq q[NQ];
	int peer;       /* the host end of the TAP stand-in */
	int notifies;
};

static struct vnet *net(struct fake *f) { return f->dev.priv; }
static const struct virtio_net_stats *stats(struct fake *f) { return &net(f)->stats; }

static void count_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct fake *f = (struct fake *)((uint8_t *)dev - offsetof(struct fake, dev));

	f->notifies++;
}

static struct fake *fake_new(uint64_t features)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct net_options o = { .mac = { MAC0 }, .queues = 1, .offload = true };
	int sv[2];
	struct tap *tap;

	f->ram = calloc(1, MEM_SIZE);
	f->map.nregions = 1;
	f->map.r[0] = (struct vmem_region){ GPA, MEM_SIZE, GPA, f->ram };
	assert_int_equal(event_loop_init(&f->loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	f->peer = sv[1];
	tap = tap_wrap_fds("fake0", &sv[0], 1, 1500);
	assert_non_null(tap);
	assert_int_equal(virtio_net_init(&f->dev, tap, &o), 0);
	f->dev.mem = &f->map;
	f->dev.loop = &f->loop;
	f->dev.notify = count_notify;
	f->dev.nvqs = f->dev.ops->num_queues(&f->dev);
	assert_int_equal(f->dev.nvqs, NQ);
	assert_int_equal(features & ~(f->dev.ops->features(&f->dev) | VIRTIO_TRANSPORT_FEATURES), 0);
	f->dev.features = features;
	for (int i = 0; i < NQ; i++) {
		uint64_t base = (uint64_t)i * RING_AREA;

		f->q[i].desc = (struct vring_desc *)(f->ram + base);
		f->q[i].avail = (uint16_t *)(f->ram + base + 0x1000);
		f->q[i].used = f->ram + base + 0x2000;
		f->dev.vqs[i].index = (uint16_t)i;
		assert_int_equal(vq_setup(&f->dev.vqs[i], &f->map, QSIZE, GPA + base,
					  GPA + base + 0x1000, GPA + base + 0x2000), 0);
	}
	assert_int_equal(f->dev.ops->start(&f->dev), 0);
	return f;
}

static void fake_free(struct fake *f)
{
	virtio_net_destroy(&f->dev);
	close(f->peer);
	event_loop_destroy(&f->loop);
	free(f->ram);
	free(f);
}

/* Adds a chain of (gpa offset, len, flags) buffers and kicks the device. */
struct buf { uint64_t off; uint32_t len; uint16_t flags; };

static uint16_t add_chain(struct fake *f, int qi, const struct buf *b, int n)
{
	struct fq *q = &f->q[qi];
	uint16_t head = (uint16_t)q->next_desc;

	for (int i = 0; i < n; i++) {
		int d = q->next_desc++ % QSIZE;

		q->desc[d] = (struct vring_desc){ GPA + b[i].off, b[i].len,
						  (uint16_t)(b[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
						  (uint16_t)((d + 1) % QSIZE) };
	}
	q->next_desc %= QSIZE;
	q->avail[2 + q->avail_idx % QSIZE] = head;
	q->avail[1] = ++q->avail_idx;
	return head;
}

static void kick(struct fake *f, int qi)
{
	f->dev.ops->queue_notify(&f->dev, &f->dev.vqs[qi]);
}

static uint16_t used_idx(struct fake *f, int qi)
{
	uint16_t v;

	memcpy(&v, f->q[qi].used + 2, 2);
	return v;
}

/* The next used element of queue qi: returns its length, -1 if none. */
static int64_t take_used(struct fake *f, int qi, uint32_t *id)
{
	struct fq *q = &f->q[qi];
	uint32_t e[2];

	if (used_idx(f, qi) == q->last_used)
		return -1;
	memcpy(e, q->used + 4 + 8 * (q->last_used++ % QSIZE), 8);
	if (id)
		*id = e[0];
	return e[1];
}

static ssize_t peer_recv(struct fake *f, uint8_t *buf, size_t len)
{
	return recv(f->peer, buf, len, MSG_DONTWAIT);
}

/* A frame at DATA_OFF: virtio-net header `h`, Ethernet header, payload. */
static void put_frame(struct fake *f, uint64_t off, const struct virtio_net_hdr *h,
		      uint32_t frame_len)
{
	uint8_t *p = f->ram + off;

	memcpy(p, h, sizeof(*h));
	for (uint32_t i = 0; i < frame_len; i++)
		p[sizeof(*h) + i] = (uint8_t)i;
}

static const uint64_t BASIC = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MAC) |
			      (1ULL << VIRTIO_NET_F_MTU) | (1ULL << VIRTIO_NET_F_CSUM) |
			      (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_CTRL_VQ) |
			      (1ULL << VIRTIO_NET_F_CTRL_RX);

static void tx_bad_input_dropped_and_counted(void **state)
{
	struct fake *f = fake_new(BASIC);
	struct virtio_net_hdr h = { 0 };
	static uint8_t got[8192];

	/* good: 12-byte header + 60-byte frame reaches the TAP whole */
	put_frame(f, DATA_OFF, &h, 60);
	add_chain(f, TXQ, (struct buf[]){ { DATA_OFF, 72, 0 } }, 1);
	kick(f, TXQ);
	assert_int_equal(peer_recv(f, got, sizeof(got)), 72);
	assert_memory_equal(got, f->ram + DATA_OFF, 72);
	/* a writable descriptor on TX */
	add_chain(f, TXQ, (struct buf[]){ { DATA_OFF, 72, 0 }, { DATA_OFF + 0x1000, 64,
								 VRING_DESC_F_WRITE } }, 2);
	/* shorter than the virtio-net header plus an Ethernet header */
	add_chain(f, TXQ, (struct buf[]){ { DATA_OFF, 20, 0 } }, 1);
	/* over the MTU without segmentation offload */
	put_frame(f, DATA_OFF + 0x3000, &h, 1600);
	add_chain(f, TXQ, (struct buf[]){ { DATA_OFF + 0x3000, 12 + 1600, 0 } }, 1);
	/* over 64 KiB even with TSO */
	h = (struct virtio_net_hdr){ VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54,
				     1448, 34, 16, 0 };
	put_frame(f, BIG_OFF, &h, 70000);
	add_chain(f, TXQ, (struct buf[]){ { BIG_OFF, 12 + 70000, 0 } }, 1);
	/* TSO for IPv6, never negotiated */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	put_frame(f, DATA_OFF + 0x4000, &h, 1000);
	add_chain(f, TXQ, (struct buf[]){ { DATA_OFF + 0x4000, 12 + 1000, 0 } }, 1);
	/* checksum offsets past the end of the frame */
	h = (struct virtio_net_hdr){ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 50, 16, 0 };
	put_frame(f, DATA_OFF + 0x2000, &h, 60);
	add_chain(f, TXQ, (struct buf[]){ { DATA_OFF + 0x2000, 72, 0 } }, 1);
	/* a buffer outside guest memory */
	add_chain(f, TXQ, (struct buf[]){ { MEM_SIZE - 16, 72, 0 } }, 1);
	kick(f, TXQ);
	assert_int_equal(peer_recv(f, got, sizeof(got)), -1); /* nothing reached the TAP */
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(stats(f)->tx_bad_chain, 2);
	assert_int_equal(stats(f)->tx_short, 1);
	assert_int_equal(stats(f)->tx_oversized, 2);
	assert_int_equal(stats(f)->tx_bad_header, 2);
	assert_int_equal(used_idx(f, TXQ), 8); /* every chain went back to the driver */
	/* the queue still serves */
	h = (struct virtio_net_hdr){ VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54,
				     1448, 34, 16, 0 };
	put_frame(f, BIG_OFF, &h, 3000);
	add_chain(f, TXQ, (struct buf[]){ { BIG_OFF, 12 + 3000, 0 } }, 1);
	kick(f, TXQ);
	assert_int_equal(peer_recv(f, got, sizeof(got)), 12 + 3000);
	assert_int_equal(stats(f)->tx_packets, 2);
	assert_int_equal(stats(f)->tx_bytes, 60 + 3000);
	fake_free(f);
}

static void rx_short_chains_dropped_good_frames_delivered(void **state)
{
	struct fake *f = fake_new(BASIC);
	uint8_t frame[12 + 100] = { 0 };
	uint16_t num_buffers;
	uint32_t id;

	memcpy(frame + 12, (uint8_t[]){ MAC0 }, 6);
	frame[12 + 12] = 0x08;
	/* a readable descriptor on RX, then a chain shorter than the header */
	add_chain(f, RXQ, (struct buf[]){ { DATA_OFF, 2048, 0 } }, 1);
	add_chain(f, RXQ, (struct buf[]){ { DATA_OFF + 0x1000, 8, VRING_DESC_F_WRITE } }, 1);
	uint16_t good = add_chain(f, RXQ, (struct buf[]){ { DATA_OFF + 0x2000, 2048,
							    VRING_DESC_F_WRITE } }, 1);
	assert_int_equal(send(f->peer, frame, sizeof(frame), 0), sizeof(frame));
	kick(f, RXQ);
	assert_int_equal(stats(f)->rx_bad_chain, 2);
	assert_int_equal(take_used(f, RXQ, &id), 0);
	assert_int_equal(take_used(f, RXQ, &id), 0);
	assert_int_equal(take_used(f, RXQ, &id), sizeof(frame));
	assert_int_equal(id, good);
	assert_memory_equal(f->ram + DATA_OFF + 0x2000 + 12, frame + 12, 100);
	memcpy(&num_buffers, f->ram + DATA_OFF + 0x2000 + 10, 2);
	assert_int_equal(num_buffers, 1);
	assert_int_equal(stats(f)->rx_packets, 1);
	assert_true(f->notifies > 0);
	fake_free(f);
}

static void rx_merges_buffers(void **state)
{
	struct fake *f = fake_new(BASIC | (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	uint8_t frame[12 + 1400];
	uint16_t num_buffers;
	uint32_t id;

	memset(frame, 0, 12);
	for (int i = 12; i < (int)sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	memcpy(frame + 12, (uint8_t[]){ MAC0 }, 6);
	for (int i = 0; i < 4; i++) /* 4 x 512 bytes cover the largest frame (1530) */
		add_chain(f, RXQ, (struct buf[]){ { DATA_OFF + 0x1000ULL * (uint64_t)i, 512,
						    VRING_DESC_F_WRITE } }, 1);
	assert_int_equal(send(f->peer, frame, sizeof(frame), 0), sizeof(frame));
	kick(f, RXQ);
	assert_int_equal(take_used(f, RXQ, &id), 512);
	assert_int_equal(take_used(f, RXQ, &id), 512);
	assert_int_equal(take_used(f, RXQ, &id), sizeof(frame) - 1024);
	assert_int_equal(take_used(f, RXQ, &id), -1); /* the fourth went back to the ring */
	assert_int_equal(net(f)->dev->vqs[RXQ].last_avail, 3);
	memcpy(&num_buffers, f->ram + DATA_OFF + 10, 2);
	assert_int_equal(num_buffers, 3);
	assert_memory_equal(f->ram + DATA_OFF + 0x1000 + 0, frame + 512, 512);
	assert_memory_equal(f->ram + DATA_OFF + 0x2000, frame + 1024, sizeof(frame) - 1024);
	fake_free(f);
}

/* Sends a control request (class, cmd, data) and returns the ack, or -1. */
static int ctrl(struct fake *f, uint8_t class, uint8_t cmd, const void *data, uint32_t len)
{
	uint8_t *req = f->ram + DATA_OFF + 0x8000, *ack = req + 0x800;
	uint32_t id;

	req[0] = class;
	req[1] = cmd;
	if (len)
		memcpy(req + 2, data, len);
	*ack = 0xee;
	add_chain(f, CTRLQ, (struct buf[]){ { DATA_OFF + 0x8000, 2 + len, 0 },
					    { DATA_OFF + 0x8800, 1, VRING_DESC_F_WRITE } }, 2);
	kick(f, CTRLQ);
	return take_used(f, CTRLQ, &id) == 1 ? *ack : -1;
}

static void control_queue_and_rx_filter(void **state)
{
	struct fake *f = fake_new(BASIC);
	uint8_t off = 0, table[4 + 6 + 4] = { 1, 0, 0, 0, 0x52, 0x54, 0, 0, 0, 0x77, 0, 0, 0, 0 };
	uint8_t bad_table[8] = { 0xff, 0xff, 0, 0, 1, 2, 3, 4 };
	uint8_t frame[12 + 60] = { 0 };
	uint16_t pairs = 0;
	uint32_t id;

	assert_int_equal(ctrl(f, 99, 0, NULL, 0), 1);            /* unknown class */
	assert_int_equal(ctrl(f, 4, 0, &pairs, 2), 1);           /* MQ was not negotiated */
	assert_int_equal(ctrl(f, 1, 0, bad_table, 8), 1);        /* table longer than its data */
	assert_int_equal(ctrl(f, 0, 2, &off, 1), 1);             /* ALLUNI needs CTRL_RX_EXTRA */
	assert_int_equal(ctrl(f, 0, 0, &off, 1), 0);             /* promiscuous off */
	assert_int_equal(ctrl(f, 1, 0, table, sizeof(table)), 0); /* one extra unicast MAC */
	assert_int_equal(stats(f)->ctrl_errors, 4);
	assert_int_equal(stats(f)->ctrl_commands, 2);
	/* a request without the ack byte */
	add_chain(f, CTRLQ, (struct buf[]){ { DATA_OFF, 2, 0 } }, 1);
	kick(f, CTRLQ);
	assert_int_equal(take_used(f, CTRLQ, &id), 0);
	assert_int_equal(stats(f)->ctrl_errors, 5);
	/* RX: a frame for another host is filtered, ours and the table's pass */
	add_chain(f, RXQ, (struct buf[]){ { DATA_OFF, 2048, VRING_DESC_F_WRITE } }, 1);
	memcpy(frame + 12, (uint8_t[]){ 0x52, 0x54, 0, 0, 0, 0x78 }, 6);
	send(f->peer, frame, sizeof(frame), 0);
	memcpy(frame + 12, (uint8_t[]){ 0x52, 0x54, 0, 0, 0, 0x77 }, 6);
	send(f->peer, frame, sizeof(frame), 0);
	kick(f, RXQ);
	assert_int_equal(stats(f)->rx_filtered, 1);
	assert_int_equal(take_used(f, RXQ, &id), sizeof(frame));
	assert_int_equal(f->ram[DATA_OFF + 12 + 5], 0x77);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tx_bad_input_dropped_and_counted),
		cmocka_unit_test(rx_short_chains_dropped_good_frames_delivered),
		cmocka_unit_test(rx_merges_buffers),
		cmocka_unit_test(control_queue_and_rx_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
