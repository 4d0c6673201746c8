/* nlm_table.c: per-file NLM lock bookkeeping (see nlm_table.h). */
#include "nfs/nlm_table.h"

#include <errno.h>
#include <stdlib.h>

struct nlm_range nlm_range_from_wire(uint64_t offset, uint64_t len, bool excl)
{
	struct nlm_range r = { .excl = excl };

	r.start = offset > NLM_OFFSET_MAX ? NLM_OFFSET_MAX : offset;
	if (len == 0 || len - 1 > NLM_OFFSET_MAX - r.start)
		r.end = NLM_OFFSET_MAX;
	else
		r.end = r.start + len - 1;
	return r;
}

uint64_t nlm_range_wire_len(const struct nlm_range *r)
{
	return r->end == NLM_OFFSET_MAX ? 0 : r->end - r->start + 1;
}

bool nlm_ranges_overlap(const struct nlm_range *a, const struct nlm_range *b)
{
	return a->start <= b->end && b->start <= a->end;
}

bool nlm_ranges_conflict(const struct nlm_range *a, const struct nlm_range *b)
{
	return (a->excl || b->excl) && nlm_ranges_overlap(a, b);
}

/* Overlapping or touching end to end (so same-type locks merge). */
static bool ranges_touch(const struct nlm_range *a, const struct nlm_range *b)
{
	if (nlm_ranges_overlap(a, b))
		return true;
	return (a->end != NLM_OFFSET_MAX && a->end + 1 == b->start) ||
	       (b->end != NLM_OFFSET_MAX && b->end + 1 == a->start);
}

void nlm_table_init(struct nlm_table *t)
{
	t->locks = NULL;
	t->queue = NULL;
	t->shares = NULL;
}

void nlm_table_free(struct nlm_table *t)
{
	while (t->locks) {
		struct nlm_lock *l = t->locks;

		t->locks = l->next;
		free(l);
	}
	while (t->shares) {
		struct nlm_share *s = t->shares;

		t->shares = s->next;
		free(s);
	}
}

bool nlm_table_empty(const struct nlm_table *t)
{
	return !t->locks && !t->queue && !t->shares;
}

const struct nlm_lock *nlm_table_conflict(const struct nlm_table *t, const void *owner,
					  const struct nlm_range *r)
{
	for (const struct nlm_lock *l = t->locks; l; l = l->next)
		if (l->owner != owner && nlm_ranges_conflict(&l->r, r))
			return l;
	return NULL;
}

static struct nlm_lock *new_lock(const void *owner, uint64_t start, uint64_t end, bool excl)
{
	struct nlm_lock *l = malloc(sizeof(*l));

	if (l) {
		l->next = NULL;
		l->owner = owner;
		l->r = (struct nlm_range){ .start = start, .end = end, .excl = excl };
	}
	return l;
}

static void push(struct nlm_table *t, struct nlm_lock *l)
{
	l->next = t->locks;
	t->locks = l;
}

/* Cuts [start, end] out of the owner's locks. A lock that covers both sides
 * splits in two, using *spare for the right part (set to NULL when used). */
static void cut(struct nlm_table *t, const void *owner, uint64_t start, uint64_t end,
		struct nlm_lock **spare)
{
	struct nlm_range hole = { .start = start, .end = end };
	struct nlm_lock **pp = &t->locks;

	while (*pp) {
		struct nlm_lock *l = *pp;

		if (l->owner != owner || !nlm_ranges_overlap(&l->r, &hole)) {
			pp = &l->next;
			continue;
		}
		bool left = l->r.start < start, right = l->r.end > end;

		if (left && right) {
			struct nlm_lock *r = *spare;

			*spare = NULL;
			*r = (struct nlm_lock){ .owner = owner,
						.r = { end + 1, l->r.end, l->r.excl } };
			l->r.end = start - 1;
			r->next = l->next;
			l->next = r;
			pp = &r->next;
		} else if (left) {
			l->r.end = start - 1;
			pp = &l->next;
		} else if (right) {
			l->r.start = end + 1;
			pp = &l->next;
		} else {
			*pp = l->next;
			free(l);
		}
	}
}

int nlm_table_set(struct nlm_table *t, const void *owner, const struct nlm_range *r)
{
	struct nlm_lock *nl = new_lock(owner, r->start, r->end, r->excl);
	struct nlm_lock *spare = malloc(sizeof(*spare));

	if (!nl || !spare) {
		free(nl);
		free(spare);
		return -ENOMEM;
	}
	/* Same-type locks touching the new one merge into it. */
	for (struct nlm_lock **pp = &t->locks; *pp;) {
		struct nlm_lock *l = *pp;

		if (l->owner == owner && l->r.excl == r->excl && ranges_touch(&l->r, &nl->r)) {
			if (l->r.start < nl->r.start)
				nl->r.start = l->r.start;
			if (l->r.end > nl->r.end)
				nl->r.end = l->r.end;
			*pp = l->next;
			free(l);
		} else {
			pp = &l->next;
		}
	}
	cut(t, owner, nl->r.start, nl->r.end, &spare);
	push(t, nl);
	free(spare);
	return 0;
}

int nlm_table_clear(struct nlm_table *t, const void *owner, uint64_t start, uint64_t end)
{
	struct nlm_lock *spare = malloc(sizeof(*spare));

	if (!spare)
		return -ENOMEM;
	cut(t, owner, start, end, &spare);
	free(spare);
	return 0;
}

void nlm_table_clear_owner(struct nlm_table *t, const void *owner)
{
	for (struct nlm_lock **pp = &t->locks; *pp;) {
		struct nlm_lock *l = *pp;

		if (l->owner == owner) {
			*pp = l->next;
			free(l);
		} else {
			pp = &l->next;
		}
	}
}

bool nlm_table_owner_holds(const struct nlm_table *t, const void *owner)
{
	for (const struct nlm_lock *l = t->locks; l; l = l->next)
		if (l->owner == owner)
			return true;
	return false;
}

unsigned nlm_table_owner_pieces(const struct nlm_table *t, const void *owner, uint64_t start,
				uint64_t end, struct nlm_range *out, unsigned max)
{
	struct nlm_range win = { .start = start, .end = end };
	unsigned n = 0;

	for (const struct nlm_lock *l = t->locks; l; l = l->next) {
		if (l->owner != owner || !nlm_ranges_overlap(&l->r, &win))
			continue;
		if (n < max) {
			out[n] = l->r;
			if (out[n].start < start)
				out[n].start = start;
			if (out[n].end > end)
				out[n].end = end;
		}
		n++;
	}
	return n;
}

void nlm_queue_append(struct nlm_table *t, struct nlm_block *b)
{
	struct nlm_block **pp = &t->queue;

	while (*pp)
		pp = &(*pp)->next;
	b->next = NULL;
	*pp = b;
}

void nlm_queue_remove(struct nlm_table *t, struct nlm_block *b)
{
	for (struct nlm_block **pp = &t->queue; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			b->next = NULL;
			return;
		}
	}
}

struct nlm_block *nlm_queue_find(const struct nlm_table *t, const void *owner,
				 const struct nlm_range *r)
{
	for (struct nlm_block *b = t->queue; b; b = b->next)
		if (b->owner == owner && b->r.start == r->start && b->r.end == r->end &&
		    b->r.excl == r->excl)
			return b;
	return NULL;
}

struct nlm_block *nlm_queue_next_grantable(const struct nlm_table *t,
					   const struct nlm_block *after)
{
	for (struct nlm_block *b = after ? after->next : t->queue; b; b = b->next)
		if (!nlm_table_conflict(t, b->owner, &b->r))
			return b;
	return NULL;
}

unsigned nlm_queue_length(const struct nlm_table *t)
{
	unsigned n = 0;

	for (const struct nlm_block *b = t->queue; b; b = b->next)
		n++;
	return n;
}

static bool shares_conflict(const struct nlm_share *s, uint32_t mode, uint32_t access)
{
	return (s->mode & access) || (mode & s->access);
}

int nlm_share_add(struct nlm_table *t, const void *owner, uint32_t mode, uint32_t access)
{
	struct nlm_share *mine = NULL;

	for (struct nlm_share *s = t->shares; s; s = s->next) {
		if (s->owner == owner)
			mine = s;
		else if (shares_conflict(s, mode, access))
			return -EAGAIN;
	}
	if (!mine) {
		mine = malloc(sizeof(*mine));
		if (!mine)
			return -ENOMEM;
		mine->owner = owner;
		mine->next = t->shares;
		t->shares = mine;
	}
	mine->mode = mode;
	mine->access = access;
	return 0;
}

void nlm_share_remove(struct nlm_table *t, const void *owner)
{
	for (struct nlm_share **pp = &t->shares; *pp;) {
		struct nlm_share *s = *pp;

		if (s->owner == owner) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
}
