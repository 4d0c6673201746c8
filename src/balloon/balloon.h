/* balloon.h: the virtio-balloon device model, independent of transport
 * (virtio-pci in `kvmini run`, vhost-user in `kvmini vhost-user balloon`):
 * the target the host sets, the driver's inflate/deflate page lists, its
 * memory statistics, and free page reports. Memory the guest gives up
 * (inflated or reported pages) goes back to the host through the
 * transport's release callback (fallocate punch hole on the memfd). */
#ifndef KVMINI_BALLOON_H
#define KVMINI_BALLOON_H

#include <linux/virtio_balloon.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BALLOON_PAGE_SIZE (1ULL << VIRTIO_BALLOON_PFN_SHIFT)

/* Gives guest-physical [gpa, gpa + len) back to the host; -1 if the range
 * is not guest memory or could not be released. */
typedef int (*balloon_release_fn)(void *opaque, uint64_t gpa, uint64_t len);
/* Tells the driver that the configuration (num_pages) changed. */
typedef void (*balloon_notify_fn)(void *opaque);

struct balloon {
	pthread_mutex_t lock;
	uint64_t memory_size;  /* guest memory, for targets */
	uint32_t num_pages;    /* config: pages the host wants in the balloon */
	uint32_t actual;       /* config: pages the driver says it holds */
	uint64_t inflated, deflated;          /* pages, as listed by the driver */
	uint64_t reports, reported_bytes;     /* free page reporting */
	uint64_t released_bytes, release_errors;
	bool have_stats;
	uint64_t stats[VIRTIO_BALLOON_S_NR];
	uint64_t stats_updates;
	balloon_release_fn release;
	balloon_notify_fn notify;
	balloon_notify_fn want_stats; /* optional: asks the driver for fresh stats */
	void *opaque;
};

void balloon_init(struct balloon *b, uint64_t memory_size, balloon_release_fn release,
		  balloon_notify_fn notify, void *opaque);
void balloon_destroy(struct balloon *b);

/* The API's target: the memory the guest should keep (a multiple of 4 KiB,
 * at most its memory). -1 with *err set if refused. */
int balloon_set_target(struct balloon *b, uint64_t target, const char **err);
/* Inflate/deflate queue buffers: arrays of little-endian 32-bit PFNs. */
void balloon_inflate(struct balloon *b, const void *buf, size_t len);
void balloon_deflate(struct balloon *b, const void *buf, size_t len);
/* Stats queue buffer: packed {le16 tag; le64 val} entries; -1 if malformed. */
int balloon_update_stats(struct balloon *b, const void *buf, size_t len);
/* One reported free range (page-reporting queue). */
void balloon_free_page_report(struct balloon *b, uint64_t gpa, uint64_t len);
/* Config-space writes (actual); the device's config as the driver reads it. */
void balloon_config_write(struct balloon *b, uint64_t offset, const void *data, size_t len);
void balloon_config(struct balloon *b, struct virtio_balloon_config *cfg);
/* Feature bits this device offers. */
uint64_t balloon_features(void);

#endif
