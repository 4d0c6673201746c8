/* nlm_table.h: the NLM lock table of one file, without I/O: the byte-range
 * locks each owner holds (POSIX semantics: an owner's locks merge, split and
 * change type; different owners conflict when they overlap and one is
 * exclusive), the FIFO of blocked requests, and DOS share reservations.
 *
 * The kernel's OFD locks on the host file are what really excludes; this
 * table mirrors what kvmini's NLM owners hold so the server can name a
 * holder in TEST replies, decide which queued request to retry first when
 * one of its own clients releases a range, and restore an owner's locks
 * when a grant is taken back. Owners are opaque pointers compared by
 * identity. Ranges are inclusive; NLM_OFFSET_MAX as the end means "to the
 * end of the file, however far it grows". */
#ifndef KVMINI_NFS_NLM_TABLE_H
#define KVMINI_NFS_NLM_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#define NLM_OFFSET_MAX ((uint64_t)INT64_MAX)

struct nlm_range {
	uint64_t start;
	uint64_t end;   /* inclusive, >= start, <= NLM_OFFSET_MAX */
	bool excl;
};

struct nlm_lock {
	struct nlm_lock *next;
	const void *owner;
	struct nlm_range r;
};

/* A request waiting for a conflicting lock to go away. */
struct nlm_block {
	struct nlm_block *next;
	const void *owner;
	struct nlm_range r;
	void *priv;     /* the server's request state */
};

struct nlm_share {
	struct nlm_share *next;
	const void *owner;
	uint32_t mode;    /* what others are denied: bit 0 read, bit 1 write */
	uint32_t access;  /* what this owner does: bit 0 read, bit 1 write */
};

struct nlm_table {
	struct nlm_lock *locks;
	struct nlm_block *queue;   /* oldest first */
	struct nlm_share *shares;
};

/* Converts an NLM offset and length (0: to end of file) to a range,
 * clamping at NLM_OFFSET_MAX as the Linux server does. */
struct nlm_range nlm_range_from_wire(uint64_t offset, uint64_t len, bool excl);
/* The wire length of a range (0 for "to end of file"). */
uint64_t nlm_range_wire_len(const struct nlm_range *r);

bool nlm_ranges_overlap(const struct nlm_range *a, const struct nlm_range *b);
bool nlm_ranges_conflict(const struct nlm_range *a, const struct nlm_range *b);

void nlm_table_init(struct nlm_table *t);
/* Frees locks and shares; queued blocks must have been removed. */
void nlm_table_free(struct nlm_table *t);
bool nlm_table_empty(const struct nlm_table *t);

/* The first lock of another owner that conflicts with `r`, or NULL. */
const struct nlm_lock *nlm_table_conflict(const struct nlm_table *t, const void *owner,
					  const struct nlm_range *r);
/* Records that `owner` now holds `r` (replacing what it held there).
 * Returns 0 or -ENOMEM (then the table is unchanged). */
int nlm_table_set(struct nlm_table *t, const void *owner, const struct nlm_range *r);
/* Releases `owner`'s locks within [start, end]. 0 or -ENOMEM (unchanged). */
int nlm_table_clear(struct nlm_table *t, const void *owner, uint64_t start, uint64_t end);
void nlm_table_clear_owner(struct nlm_table *t, const void *owner);
bool nlm_table_owner_holds(const struct nlm_table *t, const void *owner);
/* Copies into out[] (up to max) `owner`'s locks clipped to [start, end];
 * returns how many there are (may exceed max). */
unsigned nlm_table_owner_pieces(const struct nlm_table *t, const void *owner, uint64_t start,
				uint64_t end, struct nlm_range *out, unsigned max);

/* Blocked requests, kept in arrival order. */
void nlm_queue_append(struct nlm_table *t, struct nlm_block *b);
void nlm_queue_remove(struct nlm_table *t, struct nlm_block *b);
/* The queued request of `owner` for exactly range `r` (type included). */
struct nlm_block *nlm_queue_find(const struct nlm_table *t, const void *owner,
				 const struct nlm_range *r);
/* The oldest queued request after `after` (NULL: from the head) that no
 * lock in the table stands in the way of: the next one to try. */
struct nlm_block *nlm_queue_next_grantable(const struct nlm_table *t,
					   const struct nlm_block *after);
unsigned nlm_queue_length(const struct nlm_table *t);

/* Share reservations: 0, -EAGAIN on a conflict with another owner, or
 * -ENOMEM. A second SHARE by the same owner replaces its first. */
int nlm_share_add(struct nlm_table *t, const void *owner, uint32_t mode, uint32_t access);
void nlm_share_remove(struct nlm_table *t, const void *owner);

#endif
