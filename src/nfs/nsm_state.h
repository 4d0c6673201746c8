/* nsm_state.h: what the status monitor keeps across restarts, in the
 * state directory: the NSM state number (odd while running, bumped at
 * every start, so clients can tell a restart happened) and the clients
 * that held locks, who are sent SM_NOTIFY after a restart so they reclaim
 * their locks during the grace period. */
#ifndef KVMINI_NFS_NSM_STATE_H
#define KVMINI_NFS_NSM_STATE_H

#include <stdbool.h>
#include <stdint.h>

#define NSM_ADDR_LEN 64
#define NSM_NAME_LEN 1024

struct nsm_client {
	struct nsm_client *next;
	char addr[NSM_ADDR_LEN];        /* numeric IPv4 or IPv6 address */
	char name[NSM_NAME_LEN + 1];    /* its caller_name */
	bool to_notify;                 /* from the previous run, not notified yet */
	bool active;                    /* took a lock in this run */
	bool busy;                      /* a notification is under way */
	unsigned tries;
	long next_try_ms;
};

struct nsm_state {
	char *dir;                      /* NULL: nothing persisted */
	uint32_t state;
	struct nsm_client *clients;
	unsigned nclients;
};

/* Reads the state number and client list from `dir` (created if needed),
 * bumps the number to the next odd value and writes it back. dir NULL:
 * state 1, no clients, nothing written. Returns 0 or -1. */
int nsm_state_open(struct nsm_state *s, const char *dir);
void nsm_state_close(struct nsm_state *s);
/* Records an active client (writes the list if it is new). */
int nsm_state_add_client(struct nsm_state *s, const char *addr, const char *name);
struct nsm_client *nsm_state_find(struct nsm_state *s, const char *addr);
/* Drops a client from the list and writes it. */
int nsm_state_remove(struct nsm_state *s, struct nsm_client *c);
/* Number of clients still to notify. */
unsigned nsm_state_pending(const struct nsm_state *s);

#endif
