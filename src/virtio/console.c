/* console.c: virtio-console (virtio 1.x, 5.3). Queues: 0/1 receive and
 * transmit of port 0, 2/3 the control pair (MULTIPORT), then 2+2N/3+2N for
 * port N. The driver says DEVICE_READY, we announce each port (PORT_ADD),
 * it answers PORT_READY and we tell what the port is (CONSOLE_PORT for
 * port 0 plus its size, PORT_NAME) and that the host side is open
 * (PORT_OPEN). Host input waits in a small per-port buffer until the
 * guest opens the port and posts buffers; the back end stops being read
 * while that buffer is full. Emergency writes (config emerg_wr) go to
 * port 0 at any time. */
#include "virtio/console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/console.h"
#include "util/log.h"
#include "virtio/iov.h"

#define F_SIZE 0
#define F_MULTIPORT 1
#define F_EMERG_WRITE 2

enum { EV_DEVICE_READY, EV_PORT_ADD, EV_PORT_REMOVE, EV_PORT_READY, EV_CONSOLE_PORT,
       EV_RESIZE, EV_PORT_OPEN, EV_PORT_NAME };

#define Q_CTRL_RX 2 /* device -> driver control messages */
#define Q_CTRL_TX 3 /* driver -> device */
#define PENDING_MAX 4096
#define READ_CHUNK 256 /* the most a console back end delivers at once */
#define CTRL_QUEUE 128

struct vcon_config {
	uint16_t cols, rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
};

struct vcon_control {
	uint32_t id;
	uint16_t event, value;
};

struct ctrl_msg {
	struct vcon_control hdr;
	uint32_t extra_len;
	uint8_t extra[VCON_NAME_MAX + 1];
};

struct vcon_port {
	struct vcon *vc;
	uint32_t id;
	bool used;         /* configured: the console, or a named port */
	bool is_console;
	bool owned;        /* we close the back end */
	bool guest_open;   /* the driver opened it (PORT_OPEN 1) */
	char name[VCON_NAME_MAX + 1];
	struct console *backend;
	uint8_t pending[PENDING_MAX];
	size_t npending;
};

struct vcon {
	struct virtio_dev *dev;
	uint32_t max_ports;
	uint32_t next_id;
	bool started;
	bool warned_chain, warned_control;
	struct vcon_port ports[VCON_MAX_PORTS];
	struct ctrl_msg ctrl[CTRL_QUEUE];
	unsigned ctrl_head, ctrl_count;
	struct vcon_stats stats;
	struct vq_elem elem;
};

static void lock(struct vcon *vc)
{
	if (vc->dev->lock)
		pthread_mutex_lock(vc->dev->lock);
}

static void unlock(struct vcon *vc)
{
	if (vc->dev->lock)
		pthread_mutex_unlock(vc->dev->lock);
}

static bool multiport(const struct vcon *vc)
{
	return virtio_has(vc->dev, F_MULTIPORT);
}

static int rx_queue(uint32_t id) { return id == 0 ? 0 : 2 + 2 * (int)id; }

static void bad_chain(struct vcon *vc, struct virtqueue *vq, const char *why)
{
	vc->stats.bad_chains++;
	if (!vc->warned_chain)
		warn("virtio-console: queue %u: %s; the buffer is returned unused (reported once)",
		     vq->index, why);
	vc->warned_chain = true;
}

static void bad_control(struct vcon *vc, const char *why, uint32_t v)
{
	vc->stats.bad_control++;
	if (!vc->warned_control)
		warn("virtio-console: control message refused: %s %u (reported once)", why, v);
	vc->warned_control = true;
}

/* A port that takes data now: the driver opened it (or, without
 * MULTIPORT, port 0 as soon as the device runs). */
static bool port_live(const struct vcon_port *p)
{
	if (!p->vc->started || !p->used)
		return false;
	return multiport(p->vc) ? p->guest_open : p->id == 0;
}

static void update_hold(struct vcon_port *p)
{
	console_hold_input(p->backend, PENDING_MAX - p->npending < READ_CHUNK);
}

/* Moves pending host input into the guest's receive buffers. */
static void deliver(struct vcon *vc, struct vcon_port *p)
{
	struct virtqueue *vq = &vc->dev->vqs[rx_queue(p->id)];
	bool pushed = false;
	int got;

	while (p->npending && port_live(p) && (got = vq_pop(vq, &vc->elem)) != 0) {
		size_t n;

		if (got < 0 || vc->elem.out_num || !vc->elem.in_num) {
			if (got > 0)
				bad_chain(vc, vq, "a receive buffer the device cannot write");
			vq_push(vq, vc->elem.head, 0);
			pushed = true;
			continue;
		}
		n = iov_from_buf(vc->elem.iov, vc->elem.in_num, 0, p->pending, p->npending);
		memmove(p->pending, p->pending + n, p->npending - n);
		p->npending -= n;
		vq_push(vq, vc->elem.head, (uint32_t)n);
		pushed = true;
	}
	if (pushed)
		virtio_notify_used(vc->dev, vq);
	update_hold(p);
}

/* Guest output of one port goes to its back end. */
static void transmit(struct vcon *vc, struct vcon_port *p, struct virtqueue *vq)
{
	bool pushed = false;
	int got;

	while ((got = vq_pop(vq, &vc->elem)) != 0) {
		if (got < 0 || vc->elem.in_num || !vc->elem.out_num) {
			if (got > 0)
				bad_chain(vc, vq, "a transmit buffer the device may write");
		} else if (p && p->used && p->backend) {
			for (int i = 0; i < vc->elem.out_num; i++)
				console_write(p->backend, vc->elem.iov[i].iov_base,
					      vc->elem.iov[i].iov_len);
		}
		vq_push(vq, vc->elem.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_notify_used(vc->dev, vq);
}

static void send_control(struct vcon *vc, uint32_t id, uint16_t event, uint16_t value,
			 const void *extra, uint32_t extra_len)
{
	struct ctrl_msg *m;

	if (vc->ctrl_count == CTRL_QUEUE || extra_len > sizeof(m->extra)) {
		vc->stats.dropped_control++;
		warn("virtio-console: control queue full; event %u for port %u lost", event, id);
		return;
	}
	m = &vc->ctrl[(vc->ctrl_head + vc->ctrl_count++) % CTRL_QUEUE];
	m->hdr = (struct vcon_control){ id, event, value };
	m->extra_len = extra_len;
	if (extra_len)
		memcpy(m->extra, extra, extra_len);
}

/* Hands queued control messages to the driver's control receive buffers. */
static void flush_control(struct vcon *vc)
{
	struct virtqueue *vq = &vc->dev->vqs[Q_CTRL_RX];
	bool pushed = false;
	int got;

	while (vc->ctrl_count && multiport(vc) && (got = vq_pop(vq, &vc->elem)) != 0) {
		struct ctrl_msg *m = &vc->ctrl[vc->ctrl_head];
		uint32_t len = (uint32_t)sizeof(m->hdr) + m->extra_len;

		pushed = true;
		if (got < 0 || vc->elem.out_num || vc->elem.in_len < len) {
			if (got > 0)
				bad_chain(vc, vq, "a control buffer the device cannot write or too small");
			vq_push(vq, vc->elem.head, 0);
			continue;
		}
		iov_from_buf(vc->elem.iov, vc->elem.in_num, 0, &m->hdr, sizeof(m->hdr));
		iov_from_buf(vc->elem.iov, vc->elem.in_num, sizeof(m->hdr), m->extra, m->extra_len);
		vq_push(vq, vc->elem.head, len);
		vc->ctrl_head = (vc->ctrl_head + 1) % CTRL_QUEUE;
		vc->ctrl_count--;
	}
	if (pushed)
		virtio_notify_used(vc->dev, vq);
}

static void send_size(struct vcon *vc)
{
	struct vcon_port *p = &vc->ports[0];
	uint16_t size[2]; /* cols, rows (virtio 1.x, 5.3.6.2) */

	if (p->used && p->is_console && console_window_size(p->backend, &size[0], &size[1]))
		send_control(vc, 0, EV_RESIZE, 0, size, sizeof(size));
}

static void port_ready(struct vcon *vc, struct vcon_port *p, uint16_t ok)
{
	if (!ok) {
		warn("virtio-console: the guest could not set up port %u", p->id);
		return;
	}
	if (p->is_console) {
		send_control(vc, p->id, EV_CONSOLE_PORT, 1, NULL, 0);
		send_size(vc);
	}
	if (p->name[0])
		send_control(vc, p->id, EV_PORT_NAME, 1, p->name, (uint32_t)strlen(p->name));
	send_control(vc, p->id, EV_PORT_OPEN, 1, NULL, 0); /* the host side is there */
}

static void handle_control(struct vcon *vc, const struct vcon_control *c)
{
	struct vcon_port *p = c->id < vc->max_ports ? &vc->ports[c->id] : NULL;

	if (c->event == EV_DEVICE_READY) {
		if (c->value != 1) {
			warn("virtio-console: the guest driver failed to set up the device");
			return;
		}
		for (uint32_t id = 0; id < vc->max_ports; id++)
			if (vc->ports[id].used)
				send_control(vc, id, EV_PORT_ADD, 0, NULL, 0);
		return;
	}
	if (!p || !p->used) {
		bad_control(vc, "no such port", c->id);
		return;
	}
	switch (c->event) {
	case EV_PORT_READY:
		port_ready(vc, p, c->value);
		break;
	case EV_PORT_OPEN:
		p->guest_open = c->value != 0;
		deliver(vc, p);
		break;
	default:
		bad_control(vc, "unknown event", c->event);
		break;
	}
}

static void control_messages(struct vcon *vc, struct virtqueue *vq)
{
	bool pushed = false;
	int got;

	while ((got = vq_pop(vq, &vc->elem)) != 0) {
		struct vcon_control c;

		pushed = true;
		if (got < 0 || vc->elem.in_num || vc->elem.out_len < sizeof(c)) {
			if (got > 0)
				bad_chain(vc, vq, "a control message that is short or device-writable");
			vq_push(vq, vc->elem.head, 0);
			continue;
		}
		iov_to_buf(vc->elem.iov, vc->elem.out_num, 0, &c, sizeof(c));
		vq_push(vq, vc->elem.head, 0);
		handle_control(vc, &c);
	}
	if (pushed)
		virtio_notify_used(vc->dev, vq);
	flush_control(vc);
}

static void vcon_queue_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct vcon *vc = dev->priv;
	uint32_t id;

	if (vq->index == Q_CTRL_TX || vq->index == Q_CTRL_RX) {
		if (!multiport(vc))
			return;
		if (vq->index == Q_CTRL_TX)
			control_messages(vc, vq);
		else
			flush_control(vc);
		return;
	}
	id = vq->index < 2 ? 0 : (vq->index - 2) / 2;
	if (id >= vc->max_ports || (id > 0 && !multiport(vc)))
		return;
	if (vq->index % 2 == 0)
		deliver(vc, &vc->ports[id]);
	else
		transmit(vc, &vc->ports[id], vq);
}

void virtio_console_input(struct virtio_dev *dev, uint32_t id, const uint8_t *buf, size_t len)
{
	struct vcon *vc = dev->priv;
	struct vcon_port *p;
	size_t n;

	if (id >= vc->max_ports)
		return;
	p = &vc->ports[id];
	lock(vc);
	n = len < PENDING_MAX - p->npending ? len : PENDING_MAX - p->npending;
	memcpy(p->pending + p->npending, buf, n);
	p->npending += n;
	if (n < len)
		warn("virtio-console: port %u: %zu input bytes lost", id, len - n);
	deliver(vc, p);
	unlock(vc);
}

/* The console sink of each port: input from its back end. */
static void port_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct vcon_port *p = opaque;

	virtio_console_input(p->vc->dev, p->id, buf, len);
}

/* The back end's peer left (a unix socket client): the port closes. */
static void port_hangup(void *opaque)
{
	struct vcon_port *p = opaque;
	struct vcon *vc = p->vc;

	lock(vc);
	if (vc->started && multiport(vc)) {
		send_control(vc, p->id, EV_PORT_OPEN, 0, NULL, 0);
		flush_control(vc);
	}
	unlock(vc);
}

void virtio_console_resized(struct virtio_dev *dev)
{
	struct vcon *vc = dev->priv;

	lock(vc);
	virtio_config_changed(dev);
	if (vc->started && multiport(vc) && vc->ports[0].guest_open) {
		send_size(vc);
		flush_control(vc);
	}
	unlock(vc);
}

static void on_resize(void *opaque)
{
	virtio_console_resized(opaque);
}

static uint64_t vcon_features(struct virtio_dev *dev)
{
	struct vcon *vc = dev->priv;
	uint16_t cols, rows;
	uint64_t f = (1ULL << F_MULTIPORT) | (1ULL << F_EMERG_WRITE);

	if (vc->ports[0].is_console && console_window_size(vc->ports[0].backend, &cols, &rows))
		f |= 1ULL << F_SIZE;
	return f;
}

static void vcon_read_config(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vcon *vc = dev->priv;
	struct vcon_config cfg = { .max_nr_ports = vc->max_ports };

	if (vc->ports[0].is_console)
		console_window_size(vc->ports[0].backend, &cfg.cols, &cfg.rows);
	memset(buf, 0, len);
	if (off < sizeof(cfg))
		memcpy(buf, (uint8_t *)&cfg + off, len < sizeof(cfg) - off ? len : sizeof(cfg) - off);
}

/* emerg_wr: one character for port 0, usable at any time. */
static void vcon_write_config(struct virtio_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
	struct vcon *vc = dev->priv;
	struct vcon_port *p = &vc->ports[0];

	if (off == offsetof(struct vcon_config, emerg_wr) && len >= 1 && p->used && p->backend)
		console_write(p->backend, buf, 1);
}

static int vcon_num_queues(struct virtio_dev *dev)
{
	return 2 + 2 * (int)((struct vcon *)dev->priv)->max_ports;
}

static int vcon_start(struct virtio_dev *dev)
{
	struct vcon *vc = dev->priv;

	vc->started = true;
	return 0;
}

/* The driver is gone: ports close, messages for it are dropped; host
 * input already taken waits for the next driver. */
static void vcon_stop(struct virtio_dev *dev)
{
	struct vcon *vc = dev->priv;

	vc->started = false;
	vc->ctrl_head = vc->ctrl_count = 0;
	for (uint32_t i = 0; i < vc->max_ports; i++)
		vc->ports[i].guest_open = false;
}

int virtio_console_init(struct virtio_dev *dev, uint32_t max_ports)
{
	struct vcon *vc;

	if (max_ports < 1 || max_ports > VCON_MAX_PORTS)
		return error("virtio-console: %u ports: use 1 to %d", max_ports, VCON_MAX_PORTS);
	vc = calloc(1, sizeof(*vc));
	if (!vc)
		return error("out of memory for virtio-console");
	vc->dev = dev;
	vc->max_ports = max_ports;
	vc->next_id = 1;
	for (uint32_t i = 0; i < VCON_MAX_PORTS; i++) {
		vc->ports[i].vc = vc;
		vc->ports[i].id = i;
	}
	dev->ops = &virtio_console_ops;
	dev->priv = vc;
	return 0;
}

int virtio_console_set_console(struct virtio_dev *dev, struct console *backend, bool owned)
{
	struct vcon *vc = dev->priv;
	struct vcon_port *p = &vc->ports[0];

	p->used = p->is_console = true;
	p->owned = owned;
	p->backend = backend;
	console_set_input(backend, port_input, port_hangup, p);
	return console_watch_resize(backend, on_resize, dev);
}

int virtio_console_add_port(struct virtio_dev *dev, const char *name, struct console *backend)
{
	struct vcon *vc = dev->priv;
	struct vcon_port *p;

	if (vc->next_id >= vc->max_ports)
		return error("virtio-console: no room for port '%s' (%u ports)", name, vc->max_ports);
	p = &vc->ports[vc->next_id++];
	p->used = p->owned = true;
	p->backend = backend;
	snprintf(p->name, sizeof(p->name), "%s", name);
	console_set_input(backend, port_input, port_hangup, p);
	update_hold(p);
	return 0;
}

void virtio_console_stats(struct virtio_dev *dev, struct vcon_stats *out)
{
	struct vcon *vc = dev->priv;

	lock(vc);
	*out = vc->stats;
	unlock(vc);
}

void virtio_console_destroy(struct virtio_dev *dev)
{
	struct vcon *vc = dev->priv;

	if (!vc)
		return;
	for (uint32_t i = 0; i < vc->max_ports; i++)
		if (vc->ports[i].owned)
			console_close(vc->ports[i].backend);
	free(vc);
	dev->priv = NULL;
}

const struct virtio_device_ops virtio_console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.features = vcon_features,
	.config_size = sizeof(struct vcon_config),
	.read_config = vcon_read_config,
	.write_config = vcon_write_config,
	.num_queues = vcon_num_queues,
	.queue_notify = vcon_queue_notify,
	.start = vcon_start,
	.stop = vcon_stop,
};
