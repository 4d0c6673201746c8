/* backend.c: the vhost-user backend side of the protocol. Every message
 * is checked before use: its size against the request's payload, the
 * descriptors that came with it, queue indexes, ring sizes, memory regions
 * (sizes, offsets, overflow) and ring addresses (inside those regions).
 * A frontend that breaks the protocol is disconnected; the backend waits
 * for the next. */
#include "vhost_user/backend.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "util/unix_socket.h"
#include "vhost_user/protocol.h"
#include "vm/event_loop.h"

#define MAX_FDS 8

struct vu_vring {
	struct vu_backend *vu;
	int index;
	int kick_fd, call_fd, err_fd;
	uint16_t num;
	uint16_t base;
	bool enabled;
	bool started;
	struct vhost_user_vring_addr addr;
};

struct vu_backend {
	struct virtio_dev *dev;
	struct event_loop *loop;
	char path[128];
	int listen_fd, conn_fd;
	int backend_req_fd;     /* our channel to the frontend */
	uint64_t protocol_features;
	bool device_started;
	struct vmem_map mem;
	void *map_base[VMEM_MAX_REGIONS];
	size_t map_len[VMEM_MAX_REGIONS];
	struct vu_vring vrings[VIRTIO_MAX_QUEUES];
};

struct vu_request {
	struct vhost_user_header hdr;
	union vhost_user_payload payload;
	int fds[MAX_FDS];
	int nfds;
};

static uint64_t offered_features(struct vu_backend *vu)
{
	return vu->dev->ops->features(vu->dev) | VIRTIO_TRANSPORT_FEATURES |
	       (1ULL << VHOST_USER_F_PROTOCOL_FEATURES);
}

/* BACKEND_REQ: the backend-to-frontend channel (config change notices).
 * UML's virtio_uml also needs it offered to set up its interrupts right. */
static const uint64_t offered_protocol = (1ULL << VHOST_USER_PROTOCOL_F_MQ) |
					 (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
					 (1ULL << VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
					 (1ULL << VHOST_USER_PROTOCOL_F_CONFIG);

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void on_kick(void *opaque, uint32_t events);

static void stop_vring(struct vu_backend *vu, int i)
{
	struct vu_vring *r = &vu->vrings[i];

	if (r->kick_fd >= 0)
		event_loop_del(vu->loop, r->kick_fd);
	if (r->started)
		r->base = vu->dev->vqs[i].last_avail;
	r->started = false;
	vu->dev->vqs[i].ready = false;
}

static void stop_device(struct vu_backend *vu)
{
	for (int i = 0; i < vu->dev->nvqs; i++)
		stop_vring(vu, i);
	if (vu->device_started && vu->dev->ops->stop)
		vu->dev->ops->stop(vu->dev);
	vu->device_started = false;
}

static void unmap_memory(struct vu_backend *vu)
{
	for (int i = 0; i < vu->mem.nregions; i++)
		munmap(vu->map_base[i], vu->map_len[i]);
	memset(&vu->mem, 0, sizeof(vu->mem));
}

static void reset_state(struct vu_backend *vu)
{
	stop_device(vu);
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct vu_vring *r = &vu->vrings[i];

		close_fd(&r->kick_fd);
		close_fd(&r->call_fd);
		close_fd(&r->err_fd);
		memset(r, 0, sizeof(*r));
		r->vu = vu;
		r->index = i;
		r->kick_fd = r->call_fd = r->err_fd = -1;
		vq_reset(&vu->dev->vqs[i]);
		vu->dev->vqs[i].index = (uint16_t)i;
	}
	unmap_memory(vu);
	close_fd(&vu->backend_req_fd);
	vu->dev->features = 0;
	vu->protocol_features = 0;
}

static void disconnect(struct vu_backend *vu, const char *why)
{
	if (why)
		warn("vhost-user %s: frontend dropped: %s", vu->path, why);
	reset_state(vu);
	if (vu->conn_fd >= 0) {
		event_loop_del(vu->loop, vu->conn_fd);
		close_fd(&vu->conn_fd);
	}
}

static void notify_call(struct virtio_dev *dev, struct virtqueue *vq)
{
	struct vu_backend *vu = dev->transport;
	uint64_t one = 1;
	int fd = vu->vrings[vq->index].call_fd;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		warn("vhost-user: call eventfd of queue %u: %s", vq->index, strerror(errno));
}

/* Sends CONFIG_CHANGE_MSG on the backend channel (no reply asked for). */
static void notify_config(struct virtio_dev *dev)
{
	struct vu_backend *vu = dev->transport;
	struct vhost_user_header h = { .request = VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
				       .flags = VHOST_USER_VERSION, .size = 0 };

	if (vu->backend_req_fd < 0) {
		warn("vhost-user: the frontend has no backend channel: config change not sent");
		return;
	}
	if (send(vu->backend_req_fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h))
		warn("vhost-user: config change notice lost: %s", strerror(errno));
}

/* A ring runs once it has a size, addresses, a kick descriptor, memory,
 * and (with protocol features) has been enabled. */
static int try_start_vring(struct vu_backend *vu, int i)
{
	struct vu_vring *r = &vu->vrings[i];
	struct virtqueue *vq = &vu->dev->vqs[i];
	const struct vhost_user_vring_addr *a = &r->addr;

	if (r->started || r->kick_fd < 0 || !r->num || !r->enabled || !vu->mem.nregions)
		return 0;
	if (vq_setup_mapped(vq, &vu->mem, r->num,
			    vmem_translate_uaddr(&vu->mem, a->desc_user_addr, 16ULL * r->num),
			    vmem_translate_uaddr(&vu->mem, a->avail_user_addr, 6 + 2ULL * r->num),
			    vmem_translate_uaddr(&vu->mem, a->used_user_addr, 6 + 8ULL * r->num)))
		return -1;
	vq->last_avail = r->base;
	vq->event_idx = virtio_has(vu->dev, VIRTIO_F_EVENT_IDX);
	if (!vu->device_started && vu->dev->ops->start && vu->dev->ops->start(vu->dev))
		return -1;
	vu->device_started = true;
	r->started = true;
	if (event_loop_add(vu->loop, r->kick_fd, EPOLLIN, on_kick, r))
		return -1;
	vu->dev->ops->queue_notify(vu->dev, vq); /* buffers made available before the kick fd */
	return 0;
}

static void on_kick(void *opaque, uint32_t events)
{
	struct vu_vring *r = opaque;
	struct virtio_dev *dev = r->vu->dev;
	struct virtqueue *vq = &dev->vqs[r->index];
	uint64_t n;

	if (read(r->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	if (vq->ready)
		dev->ops->queue_notify(dev, vq);
}

static int map_memory(struct vu_backend *vu, struct vu_request *req)
{
	const struct vhost_user_memory *m = &req->payload.memory;
	struct vmem_map map = { 0 };
	void *base[VMEM_MAX_REGIONS];
	size_t len[VMEM_MAX_REGIONS];

	if (req->hdr.size < 8 || m->nregions == 0 || m->nregions > VHOST_USER_MAX_REGIONS ||
	    req->hdr.size < 8 + m->nregions * sizeof(m->regions[0]) ||
	    (int)m->nregions != req->nfds)
		return error("vhost-user: SET_MEM_TABLE with %u regions and %d descriptors",
			     m->nregions, req->nfds);
	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vhost_user_region *r = &m->regions[i];

		if (!r->memory_size || r->mmap_offset + r->memory_size < r->mmap_offset ||
		    r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
		    r->userspace_addr + r->memory_size < r->userspace_addr)
			goto bad;
		for (uint32_t j = 0; j < i; j++) {
			const struct vhost_user_region *o = &m->regions[j];

			if (r->guest_phys_addr < o->guest_phys_addr + o->memory_size &&
			    o->guest_phys_addr < r->guest_phys_addr + r->memory_size) {
				error("vhost-user: SET_MEM_TABLE regions %u and %u overlap", j, i);
				goto unmap;
			}
		}
		len[i] = r->mmap_offset + r->memory_size;
		base[i] = mmap(NULL, len[i], PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
			       req->fds[i], 0);
		if (base[i] == MAP_FAILED) {
			error_errno("vhost-user: cannot map memory region %u", i);
			goto unmap;
		}
		map.r[i] = (struct vmem_region){ r->guest_phys_addr, r->memory_size,
						 r->userspace_addr, (uint8_t *)base[i] + r->mmap_offset };
		map.nregions = (int)i + 1;
	}
	unmap_memory(vu);
	vu->mem = map;
	memcpy(vu->map_base, base, sizeof(base));
	memcpy(vu->map_len, len, sizeof(len));
	return 0;
bad:
	error("vhost-user: SET_MEM_TABLE region overflows or is empty");
unmap:
	for (int i = 0; i < map.nregions; i++)
		munmap(base[i], len[i]);
	return -1;
}

static int vring_index(struct vu_backend *vu, uint32_t index)
{
	if (index >= (uint32_t)vu->dev->nvqs)
		return error("vhost-user: queue %u does not exist (the device has %d)", index,
			     vu->dev->nvqs);
	return (int)index;
}

/* SET_VRING_KICK / CALL / ERR: index in the low byte, NOFD flag, one fd. */
static int set_vring_fd(struct vu_backend *vu, struct vu_request *req, int which)
{
	uint64_t v = req->payload.u64;
	int i = vring_index(vu, (uint32_t)(v & VHOST_USER_VRING_IDX_MASK));
	int *slot, fd = -1;

	if (i < 0)
		return -1;
	if (!(v & VHOST_USER_VRING_NOFD)) {
		if (req->nfds != 1)
			return error("vhost-user: vring descriptor message without a descriptor");
		fd = req->fds[0];
		req->fds[0] = -1;
		req->nfds = 0;
	} else if (which == VHOST_USER_SET_VRING_KICK) {
		return error("vhost-user: polling rings (no kick descriptor) are not supported");
	}
	if (which == VHOST_USER_SET_VRING_KICK) {
		stop_vring(vu, i);
		slot = &vu->vrings[i].kick_fd;
	} else {
		slot = which == VHOST_USER_SET_VRING_CALL ? &vu->vrings[i].call_fd
							  : &vu->vrings[i].err_fd;
	}
	close_fd(slot);
	*slot = fd;
	if (which == VHOST_USER_SET_VRING_KICK) {
		/* Without protocol features a ring is enabled by its kick. */
		if (!virtio_has(vu->dev, VHOST_USER_F_PROTOCOL_FEATURES))
			vu->vrings[i].enabled = true;
		return try_start_vring(vu, i);
	}
	return 0;
}

static int expect_size(const struct vu_request *req, size_t size)
{
	if (req->hdr.size != size)
		return error("vhost-user: request %u carries %u bytes, expected %zu",
			     req->hdr.request, req->hdr.size, size);
	return 0;
}

static int reply(struct vu_backend *vu, struct vu_request *req, const void *payload, uint32_t size)
{
	uint8_t out[sizeof(struct vhost_user_header) + sizeof(union vhost_user_payload)];
	struct vhost_user_header h = { req->hdr.request, VHOST_USER_VERSION | VHOST_USER_REPLY,
				       size };

	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), payload, size);
	if (send(vu->conn_fd, out, sizeof(h) + size, MSG_NOSIGNAL) < 0)
		return error_errno("vhost-user: cannot reply");
	return 1; /* replied */
}

static int reply_u64(struct vu_backend *vu, struct vu_request *req, uint64_t v)
{
	return reply(vu, req, &v, sizeof(v));
}

static int get_config(struct vu_backend *vu, struct vu_request *req)
{
	struct vhost_user_config c = req->payload.config;
	const struct virtio_device_ops *ops = vu->dev->ops;

	if (req->hdr.size < 12 || c.size > VHOST_USER_MAX_CONFIG ||
	    req->hdr.size != 12 + c.size || c.offset > ops->config_size ||
	    c.size > ops->config_size - c.offset)
		return error("vhost-user: GET_CONFIG of %u bytes at %u is outside the %u-byte "
			     "config space", c.size, c.offset, ops->config_size);
	ops->read_config(vu->dev, c.offset, c.region, c.size);
	return reply(vu, req, &c, 12 + c.size);
}

static int set_config(struct vu_backend *vu, struct vu_request *req)
{
	const struct vhost_user_config *c = &req->payload.config;
	const struct virtio_device_ops *ops = vu->dev->ops;

	if (req->hdr.size < 12 || c->size > VHOST_USER_MAX_CONFIG ||
	    req->hdr.size != 12 + c->size || c->offset > ops->config_size ||
	    c->size > ops->config_size - c->offset || !ops->write_config)
		return error("vhost-user: SET_CONFIG refused");
	ops->write_config(vu->dev, c->offset, c->region, c->size);
	return 0;
}

static int vring_state(struct vu_backend *vu, struct vu_request *req, int *i)
{
	if (expect_size(req, sizeof(struct vhost_user_vring_state)))
		return -1;
	*i = vring_index(vu, req->payload.state.index);
	return *i < 0 ? -1 : 0;
}

/* Returns <0 on a protocol error, 0 when done, 1 if a reply was sent. */
static int handle(struct vu_backend *vu, struct vu_request *req)
{
	union vhost_user_payload *p = &req->payload;
	int i;

	switch (req->hdr.request) {
	case VHOST_USER_GET_FEATURES:
		return reply_u64(vu, req, offered_features(vu));
	case VHOST_USER_SET_FEATURES:
		if (expect_size(req, 8))
			return -1;
		if (p->u64 & ~offered_features(vu))
			return error("vhost-user: frontend set features we never offered");
		vu->dev->features = p->u64;
		return 0;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		return reply_u64(vu, req, offered_protocol);
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (expect_size(req, 8))
			return -1;
		vu->protocol_features = p->u64 & offered_protocol;
		return 0;
	case VHOST_USER_SET_OWNER:
		return 0;
	case VHOST_USER_RESET_OWNER:
		reset_state(vu);
		return 0;
	case VHOST_USER_GET_QUEUE_NUM:
		return reply_u64(vu, req, (uint64_t)vu->dev->nvqs);
	case VHOST_USER_SET_MEM_TABLE:
		stop_device(vu);
		if (map_memory(vu, req))
			return -1;
		for (i = 0; i < vu->dev->nvqs; i++)
			if (try_start_vring(vu, i))
				return -1;
		return 0;
	case VHOST_USER_SET_VRING_NUM:
		if (vring_state(vu, req, &i))
			return -1;
		if (!p->state.num || p->state.num > VQ_MAX_SIZE || (p->state.num & (p->state.num - 1)))
			return error("vhost-user: ring size %u is not a power of two up to %d",
				     p->state.num, VQ_MAX_SIZE);
		vu->vrings[i].num = (uint16_t)p->state.num;
		return 0;
	case VHOST_USER_SET_VRING_ADDR:
		if (expect_size(req, sizeof(p->addr)) || (i = vring_index(vu, p->addr.index)) < 0)
			return -1;
		vu->vrings[i].addr = p->addr;
		return 0;
	case VHOST_USER_SET_VRING_BASE:
		if (vring_state(vu, req, &i))
			return -1;
		vu->vrings[i].base = (uint16_t)p->state.num;
		return 0;
	case VHOST_USER_GET_VRING_BASE:
		if (vring_state(vu, req, &i))
			return -1;
		stop_vring(vu, i);
		if (vu->device_started && vu->dev->ops->stop) {
			/* Complete what is in flight before telling where the ring stands. */
			vu->dev->ops->stop(vu->dev);
			vu->device_started = false;
			for (int j = 0; j < vu->dev->nvqs; j++)
				if (vu->vrings[j].started) {
					stop_vring(vu, j);
					try_start_vring(vu, j);
				}
		}
		p->state.num = vu->vrings[i].base;
		close_fd(&vu->vrings[i].kick_fd);
		return reply(vu, req, &p->state, sizeof(p->state));
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		if (expect_size(req, 8))
			return -1;
		return set_vring_fd(vu, req, (int)req->hdr.request);
	case VHOST_USER_SET_VRING_ENABLE:
		if (vring_state(vu, req, &i))
			return -1;
		vu->vrings[i].enabled = p->state.num != 0;
		if (!vu->vrings[i].enabled) {
			stop_vring(vu, i);
			return 0;
		}
		return try_start_vring(vu, i);
	case VHOST_USER_SET_BACKEND_REQ_FD:
		if (req->nfds != 1)
			return error("vhost-user: SET_BACKEND_REQ_FD without a descriptor");
		close_fd(&vu->backend_req_fd);
		vu->backend_req_fd = req->fds[0];
		req->fds[0] = -1;
		return 0;
	case VHOST_USER_GET_CONFIG:
		return get_config(vu, req);
	case VHOST_USER_SET_CONFIG:
		return set_config(vu, req);
	default:
		return error("vhost-user: unsupported request %u", req->hdr.request);
	}
}

/* Reads one message and the descriptors that came with it. */
static int receive(struct vu_backend *vu, struct vu_request *req)
{
	char control[CMSG_SPACE(MAX_FDS * sizeof(int))];
	struct iovec iov = { &req->hdr, sizeof(req->hdr) };

	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	ssize_t n = recvmsg(vu->conn_fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);

	req->nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		req->nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(req->fds, CMSG_DATA(c), (size_t)req->nfds * sizeof(int));
	}
	if (n == 0)
		return 0;
	if (n != sizeof(req->hdr) || (mh.msg_flags & MSG_CTRUNC))
		return error("vhost-user: truncated message header");
	if ((req->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		return error("vhost-user: protocol version %u, expected 1",
			     req->hdr.flags & VHOST_USER_VERSION_MASK);
	if (req->hdr.size > sizeof(req->payload))
		return error("vhost-user: request %u carries %u bytes, more than any request",
			     req->hdr.request, req->hdr.size);
	if (req->hdr.size &&
	    recv(vu->conn_fd, &req->payload, req->hdr.size, MSG_WAITALL) !=
		    (ssize_t)req->hdr.size)
		return error("vhost-user: truncated message payload");
	return 1;
}

static void on_message(void *opaque, uint32_t events)
{
	struct vu_backend *vu = opaque;
	struct vu_request req;
	int got = receive(vu, &req), ret = -1;

	if (got > 0) {
		ret = handle(vu, &req);
		if (ret == 0 && (req.hdr.flags & VHOST_USER_NEED_REPLY) &&
		    (vu->protocol_features & (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK)))
			ret = reply_u64(vu, &req, 0);
		else if (ret < 0 && (req.hdr.flags & VHOST_USER_NEED_REPLY))
			reply_u64(vu, &req, 1);
	}
	for (int i = 0; i < req.nfds && got >= 0; i++)
		if (req.fds[i] >= 0 && req.hdr.request != VHOST_USER_SET_MEM_TABLE)
			close(req.fds[i]);
	if (got > 0 && req.hdr.request == VHOST_USER_SET_MEM_TABLE)
		for (int i = 0; i < req.nfds; i++)
			close(req.fds[i]); /* mapped (or refused): no longer needed */
	if (got == 0)
		disconnect(vu, NULL);
	else if (got < 0 || ret < 0)
		disconnect(vu, "protocol error");
}

static void on_accept(void *opaque, uint32_t events)
{
	struct vu_backend *vu = opaque;
	int fd = accept4(vu->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (vu->conn_fd >= 0) {
		warn("vhost-user %s: a frontend is already connected; refusing another", vu->path);
		close(fd);
		return;
	}
	vu->conn_fd = fd;
	if (event_loop_add(vu->loop, fd, EPOLLIN, on_message, vu))
		disconnect(vu, "cannot watch the connection");
}

struct vu_backend *vu_backend_open(struct virtio_dev *dev, struct event_loop *loop,
				   const char *path)
{
	struct vu_backend *vu = calloc(1, sizeof(*vu));

	if (!vu) {
		error("out of memory for the vhost-user backend");
		return NULL;
	}
	vu->dev = dev;
	vu->loop = loop;
	vu->conn_fd = -1;
	vu->backend_req_fd = -1;
	snprintf(vu->path, sizeof(vu->path), "%s", path);
	dev->transport = vu;
	dev->notify = notify_call;
	dev->config_changed = notify_config;
	dev->mem = &vu->mem; /* the frontend's memory as mapped here (devices release pages) */
	dev->loop = loop;
	dev->nvqs = dev->ops->num_queues(dev);
	if (dev->nvqs < 1 || dev->nvqs > VIRTIO_MAX_QUEUES) {
		error("vhost-user: device has %d queues", dev->nvqs);
		free(vu);
		return NULL;
	}
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vu->vrings[i].kick_fd = vu->vrings[i].call_fd = vu->vrings[i].err_fd = -1;
	reset_state(vu);
	vu->listen_fd = unix_listen(path, 1, SOCK_NONBLOCK, "vhost-user socket");
	if (vu->listen_fd < 0 || event_loop_add(loop, vu->listen_fd, EPOLLIN, on_accept, vu)) {
		vu_backend_close(vu);
		return NULL;
	}
	return vu;
}

void vu_backend_close(struct vu_backend *vu)
{
	if (!vu)
		return;
	disconnect(vu, NULL);
	if (vu->listen_fd >= 0) {
		event_loop_del(vu->loop, vu->listen_fd);
		close(vu->listen_fd);
		unlink(vu->path);
	}
	free(vu);
}
