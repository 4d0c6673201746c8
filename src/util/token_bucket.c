/* token_bucket.c: the token bucket behind rate limits (see token_bucket.h).
 * Fractions of a token are never lost: the clock mark advances only by the
 * time the whole tokens added took to accrue. */
#include "util/token_bucket.h"

#include <stdio.h>
#include <string.h>

#include "util/parse.h"

#define NS_PER_SEC 1000000000ULL
#define DEFAULT_BURST_MAX (64ULL << 10)

void tb_init(struct token_bucket *tb, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	tb->rate = rate ? rate : 1;
	tb->burst = burst ? burst : 1;
	tb->tokens = tb->burst;
	tb->last_ns = now_ns;
}

static void refill(struct token_bucket *tb, uint64_t now_ns)
{
	uint64_t elapsed, added;
	unsigned __int128 t;

	if (now_ns <= tb->last_ns)
		return; /* a clock that went backwards adds nothing */
	if (tb->tokens >= tb->burst) {
		tb->last_ns = now_ns;
		return;
	}
	elapsed = now_ns - tb->last_ns;
	t = (unsigned __int128)elapsed * tb->rate / NS_PER_SEC;
	if (t >= tb->burst - tb->tokens) {
		tb->tokens = tb->burst;
		tb->last_ns = now_ns;
		return;
	}
	added = (uint64_t)t;
	tb->tokens += added;
	tb->last_ns += (uint64_t)((unsigned __int128)added * NS_PER_SEC / tb->rate);
}

uint64_t tb_take(struct token_bucket *tb, uint64_t want, uint64_t now_ns)
{
	uint64_t n;

	refill(tb, now_ns);
	n = want < tb->tokens ? want : tb->tokens;
	tb->tokens -= n;
	return n;
}

uint64_t tb_delay_ns(struct token_bucket *tb, uint64_t want, uint64_t now_ns)
{
	uint64_t target = want < tb->burst ? want : tb->burst;
	unsigned __int128 need_ns;
	uint64_t ready_at;

	refill(tb, now_ns);
	if (tb->tokens >= target)
		return 0;
	/* ceil((target - tokens) / rate) seconds after the clock mark */
	need_ns = ((unsigned __int128)(target - tb->tokens) * NS_PER_SEC + tb->rate - 1) / tb->rate;
	ready_at = tb->last_ns + (uint64_t)need_ns;
	return ready_at > now_ns ? ready_at - now_ns : 1;
}

int tb_parse(const char *spec, uint64_t *rate, uint64_t *burst)
{
	char buf[128], *rest = buf, *field;
	bool have_burst = false;

	if (!spec || strlen(spec) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", spec);
	field = next_field(&rest);
	if (!field)
		return -1;
	if (strlen(field) > 2 && !strcmp(field + strlen(field) - 2, "/s"))
		field[strlen(field) - 2] = '\0';
	if (parse_size(field, rate) || *rate == 0)
		return -1;
	while ((field = next_field(&rest))) {
		if (!str_starts_with(field, "burst=") || parse_size(field + 6, burst) || !*burst)
			return -1;
		have_burst = true;
	}
	if (!have_burst)
		*burst = *rate < DEFAULT_BURST_MAX ? *rate : DEFAULT_BURST_MAX;
	return 0;
}
