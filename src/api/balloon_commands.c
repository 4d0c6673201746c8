/* balloon_commands.c: the control socket's balloon commands: `balloon
 * target=SIZE` (the memory the guest should keep) and `balloon-stats`
 * (the driver's last statistics and what the host got back). Used by
 * `kvmini run` and by the vhost-user balloon backend alike. */
#include "api/api.h"

#include "balloon/balloon.h"

static const char *const stat_names[VIRTIO_BALLOON_S_NR] = VIRTIO_BALLOON_S_NAMES;

static json_t *cmd_balloon(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	struct balloon *b = opaque;
	unsigned long long target;

	if (api_get_size(req, "target", &target, err) || balloon_set_target(b, target, err))
		return NULL;
	return json_pack("{s:I, s:I}", "target", (json_int_t)target, "num_pages",
			 (json_int_t)((b->memory_size - target) / BALLOON_PAGE_SIZE));
}

static json_t *stats_object(struct balloon *b)
{
	json_t *stats = json_object();

	for (int i = 0; b->have_stats && i < VIRTIO_BALLOON_S_NR; i++)
		json_object_set_new(stats, stat_names[i], json_integer((json_int_t)b->stats[i]));
	return stats;
}

static json_t *cmd_balloon_stats(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	struct balloon *b = opaque;
	json_t *reply;

	pthread_mutex_lock(&b->lock);
	reply = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
			  "memory", (json_int_t)b->memory_size,
			  "num_pages", (json_int_t)b->num_pages,
			  "actual", (json_int_t)b->actual,
			  "balloon_size", (json_int_t)((uint64_t)b->actual * BALLOON_PAGE_SIZE),
			  "inflated_pages", (json_int_t)b->inflated,
			  "deflated_pages", (json_int_t)b->deflated,
			  "free_page_reports", (json_int_t)b->reports,
			  "reported_bytes", (json_int_t)b->reported_bytes,
			  "released_bytes", (json_int_t)b->released_bytes,
			  "release_errors", (json_int_t)b->release_errors,
			  "stats_updates", (json_int_t)b->stats_updates,
			  "stats", stats_object(b));
	pthread_mutex_unlock(&b->lock);
	if (b->want_stats)
		b->want_stats(b->opaque); /* fresh numbers for the next call */
	return reply;
}

int api_register_balloon_commands(struct api *api, struct balloon *b)
{
	return api_register(api, "balloon", "target=SIZE: memory the guest should keep; the "
			    "balloon takes the rest", cmd_balloon, b) ||
	       api_register(api, "balloon-stats", "balloon size, guest statistics, free page "
			    "reports and memory released to the host", cmd_balloon_stats, b);
}
