/* token_bucket.h: a byte-rate limiter (token bucket). Time is passed in by
 * the caller (CLOCK_MONOTONIC nanoseconds), so the logic is testable. */
#ifndef KVMINI_TOKEN_BUCKET_H
#define KVMINI_TOKEN_BUCKET_H

#include <stdint.h>

struct token_bucket {
	uint64_t rate;    /* tokens (bytes) added per second, > 0 */
	uint64_t burst;   /* most tokens held at once, > 0 */
	uint64_t tokens;
	uint64_t last_ns; /* time the tokens were last brought up to date */
};

/* Starts full (a burst may go out at once). */
void tb_init(struct token_bucket *tb, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* Takes up to `want` tokens; returns how many were taken (0 if empty). */
uint64_t tb_take(struct token_bucket *tb, uint64_t want, uint64_t now_ns);
/* Nanoseconds until the bucket holds min(want, burst) tokens (0: now). */
uint64_t tb_delay_ns(struct token_bucket *tb, uint64_t want, uint64_t now_ns);
/* "RATE[,burst=SIZE]" (sizes like 64K, 1M): rate in bytes per second;
 * the burst defaults to min(RATE, 64K). 0 on success. */
int tb_parse(const char *spec, uint64_t *rate, uint64_t *burst);

#endif
