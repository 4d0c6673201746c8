/* rng.c: virtio-rng (virtio 1.x, 5.4): one request queue of device-writable
 * buffers, filled from getrandom(). A token bucket limits the rate: a
 * request the bucket cannot serve yet is held (one at a time, in order)
 * and a timerfd on the event loop wakes the device when enough tokens have
 * accrued; requests wait, none is dropped. A buffer the device could not
 * write (device-readable, malformed) is returned unused and counted. */
#include "virtio/rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/token_bucket.h"
#include "vm/event_loop.h"

#define MAX_REQUEST (64U << 10) /* bytes given per buffer at most */

struct rng {
	struct virtio_dev *dev;
	struct token_bucket tb;
	int timer_fd;
	bool timer_watched;
	bool held;               /* elem is a popped request waiting for tokens */
	bool warned;
	struct rng_stats stats;
	struct vq_elem elem;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void arm_timer(struct rng *r, uint64_t delay_ns)
{
	struct itimerspec its = { .it_value = { (time_t)(delay_ns / 1000000000ULL),
						(long)(delay_ns % 1000000000ULL) } };

	if (timerfd_settime(r->timer_fd, 0, &its, NULL) < 0)
		warn("virtio-rng: timerfd_settime: %s", strerror(errno));
}

/* Fills the first `len` bytes of the writable buffers; returns bytes written. */
static uint32_t fill(struct rng *r, uint32_t len)
{
	uint32_t done = 0;

	for (int i = 0; i < r->elem.in_num && done < len; i++) {
		uint8_t *p = r->elem.iov[i].iov_base;
		size_t want = r->elem.iov[i].iov_len < len - done ? r->elem.iov[i].iov_len
								  : len - done;

		while (want) {
			ssize_t n = getrandom(p, want, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				warn("virtio-rng: getrandom: %s", strerror(errno));
				return done;
			}
			p += n;
			want -= (size_t)n;
			done += (uint32_t)n;
		}
	}
	return done;
}

static void fail_chain(struct rng *r, struct virtqueue *vq)
{
	r->stats.bad_chains++;
	if (!r->warned)
		warn("virtio-rng: a request without device-writable buffers (or with readable "
		     "ones) fails; reported once");
	r->warned = true;
	vq_push(vq, r->elem.head, 0);
}

/* Serves requests in order until the queue is empty or the bucket is. */
static void serve(struct rng *r)
{
	struct virtqueue *vq = &r->dev->vqs[0];
	bool pushed = false;

	for (;;) {
		uint64_t want, delay, granted;
		int got;

		if (!r->held) {
			got = vq_pop(vq, &r->elem);
			if (got == 0)
				break;
			if (got < 0 || r->elem.out_num || !r->elem.in_num) {
				if (got > 0)
					fail_chain(r, vq);
				else
					vq_push(vq, r->elem.head, 0);
				pushed = true;
				continue;
			}
			r->held = true;
		}
		want = r->elem.in_len < MAX_REQUEST ? r->elem.in_len : MAX_REQUEST;
		delay = tb_delay_ns(&r->tb, want, now_ns());
		if (delay) {
			r->stats.waits++;
			arm_timer(r, delay);
			break;
		}
		granted = tb_take(&r->tb, want, now_ns());
		granted = fill(r, (uint32_t)granted);
		vq_push(vq, r->elem.head, (uint32_t)granted);
		r->held = false;
		r->stats.bytes += granted;
		r->stats.requests++;
		pushed = true;
	}
	if (pushed)
		virtio_notify_used(r->dev, vq);
}

static void rng_queue_notify(struct virtio_dev *dev, struct virtqueue *vq)
{
	if (vq->index == 0)
		serve(dev->priv);
}

static void on_timer(void *opaque, uint32_t events)
{
	struct rng *r = opaque;
	uint64_t expirations;

	if (read(r->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	if (r->dev->lock)
		pthread_mutex_lock(r->dev->lock);
	if (r->dev->vqs[0].ready)
		serve(r);
	if (r->dev->lock)
		pthread_mutex_unlock(r->dev->lock);
}

static uint64_t rng_features(struct virtio_dev *dev)
{
	return 0;
}

static void rng_read_config(struct virtio_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	memset(buf, 0, len);
}

static int rng_num_queues(struct virtio_dev *dev)
{
	return 1;
}

static int rng_start(struct virtio_dev *dev)
{
	struct rng *r = dev->priv;

	if (r->timer_watched)
		return 0;
	if (event_loop_add(dev->loop, r->timer_fd, EPOLLIN, on_timer, r))
		return error("virtio-rng: cannot watch the rate-limit timer");
	r->timer_watched = true;
	return 0;
}

/* The queue goes away: a request held for the rate limit completes empty
 * (the driver asks again), the timer stops. */
static void rng_stop(struct virtio_dev *dev)
{
	struct rng *r = dev->priv;

	if (r->held) {
		vq_push(&dev->vqs[0], r->elem.head, 0);
		virtio_notify_used(dev, &dev->vqs[0]);
		r->held = false;
	}
	arm_timer(r, 0);
	if (r->timer_watched)
		event_loop_del(dev->loop, r->timer_fd);
	r->timer_watched = false;
}

int virtio_rng_init(struct virtio_dev *dev, uint64_t rate, uint64_t burst)
{
	struct rng *r;

	if (!rate || !burst)
		return error("virtio-rng: the rate and burst must be above 0");
	r = calloc(1, sizeof(*r));
	if (!r)
		return error("out of memory for virtio-rng");
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (r->timer_fd < 0) {
		free(r);
		return error_errno("virtio-rng: timerfd_create");
	}
	r->dev = dev;
	tb_init(&r->tb, rate, burst, now_ns());
	dev->ops = &virtio_rng_ops;
	dev->priv = r;
	return 0;
}

void virtio_rng_destroy(struct virtio_dev *dev)
{
	struct rng *r = dev->priv;

	if (!r)
		return;
	info("virtio-rng: %llu bytes in %llu requests, %llu waits for the rate limit, "
	     "%llu bad requests", (unsigned long long)r->stats.bytes,
	     (unsigned long long)r->stats.requests, (unsigned long long)r->stats.waits,
	     (unsigned long long)r->stats.bad_chains);
	if (r->timer_watched)
		event_loop_del(dev->loop, r->timer_fd);
	close(r->timer_fd);
	free(r);
	dev->priv = NULL;
}

void virtio_rng_stats(struct virtio_dev *dev, struct rng_stats *out)
{
	struct rng *r = dev->priv;

	if (dev->lock)
		pthread_mutex_lock(dev->lock);
	*out = r->stats;
	if (dev->lock)
		pthread_mutex_unlock(dev->lock);
}

const struct virtio_device_ops virtio_rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.features = rng_features,
	.config_size = 0,
	.read_config = rng_read_config,
	.num_queues = rng_num_queues,
	.queue_notify = rng_queue_notify,
	.start = rng_start,
	.stop = rng_stop,
};
