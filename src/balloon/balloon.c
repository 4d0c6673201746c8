/* balloon.c: virtio-balloon requests: targets, inflate/deflate PFN lists
 * (contiguous pages released as one range), statistics and free page
 * reports. Every buffer from the driver is parsed with its length checked. */
#include "balloon/balloon.h"

#include <endian.h>
#include <stddef.h>
#include <string.h>

/* Offset of `actual` in struct virtio_balloon_config. */
#define CONFIG_ACTUAL 4

void balloon_init(struct balloon *b, uint64_t memory_size, balloon_release_fn release,
		  balloon_notify_fn notify, void *opaque)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->memory_size = memory_size;
	b->release = release;
	b->notify = notify;
	b->opaque = opaque;
}

void balloon_destroy(struct balloon *b)
{
	pthread_mutex_destroy(&b->lock);
}

uint64_t balloon_features(void)
{
	return (1ULL << VIRTIO_BALLOON_F_STATS_VQ) | (1ULL << VIRTIO_BALLOON_F_REPORTING);
}

int balloon_set_target(struct balloon *b, uint64_t target, const char **err)
{
	uint64_t pages;

	if (target > b->memory_size) {
		*err = "target is larger than the guest's memory (see `balloon-stats`: memory)";
		return -1;
	}
	if (target % BALLOON_PAGE_SIZE) {
		*err = "target is not a multiple of the 4 KiB balloon page";
		return -1;
	}
	pages = (b->memory_size - target) / BALLOON_PAGE_SIZE;
	if (pages > UINT32_MAX) {
		*err = "target leaves more than 2^32 pages in the balloon";
		return -1;
	}
	pthread_mutex_lock(&b->lock);
	b->num_pages = (uint32_t)pages;
	pthread_mutex_unlock(&b->lock);
	if (b->notify)
		b->notify(b->opaque);
	return 0;
}

/* Caller holds b->lock. */
static void release_range(struct balloon *b, uint64_t gpa, uint64_t len)
{
	if (!len)
		return;
	if (b->release && b->release(b->opaque, gpa, len) == 0)
		b->released_bytes += len;
	else
		b->release_errors++;
}

void balloon_inflate(struct balloon *b, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t start = 0, run = 0;
	size_t n = len / sizeof(uint32_t);

	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < n; i++) {
		uint32_t pfn;
		uint64_t gpa;

		memcpy(&pfn, p + i * sizeof(pfn), sizeof(pfn));
		gpa = (uint64_t)le32toh(pfn) << VIRTIO_BALLOON_PFN_SHIFT;
		if (run && gpa == start + run) {
			run += BALLOON_PAGE_SIZE;
			continue;
		}
		release_range(b, start, run);
		start = gpa;
		run = BALLOON_PAGE_SIZE;
	}
	release_range(b, start, run);
	b->inflated += n;
	pthread_mutex_unlock(&b->lock);
}

void balloon_deflate(struct balloon *b, const void *buf, size_t len)
{
	/* Nothing to map back: the pages fault in again when the guest uses them. */
	pthread_mutex_lock(&b->lock);
	b->deflated += len / sizeof(uint32_t);
	pthread_mutex_unlock(&b->lock);
}

int balloon_update_stats(struct balloon *b, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	const size_t entry = sizeof(struct virtio_balloon_stat); /* 10 bytes, packed */

	if (len % entry)
		return -1;
	pthread_mutex_lock(&b->lock);
	for (size_t off = 0; off < len; off += entry) {
		uint16_t tag;
		uint64_t val;

		memcpy(&tag, p + off, sizeof(tag));
		memcpy(&val, p + off + sizeof(tag), sizeof(val));
		tag = le16toh(tag);
		if (tag < VIRTIO_BALLOON_S_NR) /* unknown tags are newer drivers' */
			b->stats[tag] = le64toh(val);
	}
	b->have_stats = true;
	b->stats_updates++;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

void balloon_free_page_report(struct balloon *b, uint64_t gpa, uint64_t len)
{
	pthread_mutex_lock(&b->lock);
	b->reports++;
	b->reported_bytes += len;
	release_range(b, gpa, len);
	pthread_mutex_unlock(&b->lock);
}

void balloon_config_write(struct balloon *b, uint64_t offset, const void *data, size_t len)
{
	uint32_t actual;

	if (offset != CONFIG_ACTUAL || len != sizeof(actual))
		return; /* only `actual` is writable */
	memcpy(&actual, data, sizeof(actual));
	pthread_mutex_lock(&b->lock);
	b->actual = le32toh(actual);
	pthread_mutex_unlock(&b->lock);
}

void balloon_config(struct balloon *b, struct virtio_balloon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	pthread_mutex_lock(&b->lock);
	cfg->num_pages = htole32(b->num_pages);
	cfg->actual = htole32(b->actual);
	pthread_mutex_unlock(&b->lock);
}
