/* nsm_state.c: the NSM state number and client list in the state
 * directory ("nsm_state": the number; "nsm_clients": one "ADDR NAME" line
 * per client), each replaced atomically (write, fsync, rename). */
#include "nfs/nsm_state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define NSM_MAX_CLIENTS 4096

static int write_atomically(const char *dir, const char *name, const char *text, size_t len)
{
	char path[4096], tmp[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_errno("nsm: cannot write %s", tmp);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		error_errno("nsm: cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		error_errno("nsm: cannot replace %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static bool valid_addr(const char *a)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1;
}

/* Names go on one line after a space: printable, no blanks. */
static void sanitize_name(char *dst, const char *src)
{
	size_t i = 0;

	for (; src[i] && i < NSM_NAME_LEN; i++)
		dst[i] = (src[i] > ' ' && src[i] < 0x7f) ? src[i] : '_';
	dst[i] = 0;
	if (!i)
		strcpy(dst, "-");
}

static struct nsm_client *add(struct nsm_state *s, const char *addr, const char *name)
{
	struct nsm_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	sanitize_name(c->name, name);
	c->next = s->clients;
	s->clients = c;
	s->nclients++;
	return c;
}

static int read_state_number(struct nsm_state *s)
{
	char path[4096];
	FILE *f;
	unsigned long v = 0;

	snprintf(path, sizeof(path), "%s/nsm_state", s->dir);
	f = fopen(path, "re");
	if (!f) {
		if (errno != ENOENT)
			return error_errno("nsm: cannot read %s", path);
		s->state = 0;
		return 0;
	}
	if (fscanf(f, "%lu", &v) != 1 || v > UINT32_MAX) {
		warn("nsm: %s is damaged; starting the state number again", path);
		v = 0;
	}
	fclose(f);
	s->state = (uint32_t)v;
	return 0;
}

static int read_clients(struct nsm_state *s)
{
	char path[4096], line[NSM_ADDR_LEN + NSM_NAME_LEN + 8];
	FILE *f;

	snprintf(path, sizeof(path), "%s/nsm_clients", s->dir);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : error_errno("nsm: cannot read %s", path);
	while (fgets(line, sizeof(line), f) && s->nclients < NSM_MAX_CLIENTS) {
		char addr[NSM_ADDR_LEN], name[NSM_NAME_LEN + 1];
		struct nsm_client *c;

		if (sscanf(line, "%63s %1024s", addr, name) != 2 || !valid_addr(addr) ||
		    nsm_state_find(s, addr))
			continue;
		c = add(s, addr, name);
		if (!c)
			break;
		c->to_notify = true;
	}
	fclose(f);
	return 0;
}

static int save_clients(struct nsm_state *s)
{
	size_t cap = 1 + (size_t)s->nclients * (NSM_ADDR_LEN + NSM_NAME_LEN + 2), len = 0;
	char *text;
	int rc;

	if (!s->dir)
		return 0;
	text = malloc(cap);
	if (!text)
		return error("nsm: out of memory writing the client list");
	for (struct nsm_client *c = s->clients; c; c = c->next)
		len += (size_t)snprintf(text + len, cap - len, "%s %s\n", c->addr, c->name);
	rc = write_atomically(s->dir, "nsm_clients", text, len);
	free(text);
	return rc;
}

int nsm_state_open(struct nsm_state *s, const char *dir)
{
	char text[32];
	int n;

	memset(s, 0, sizeof(*s));
	s->state = 1;
	if (!dir)
		return 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return error_errno("nsm: cannot create the state directory %s", dir);
	s->dir = strdup(dir);
	if (!s->dir || read_state_number(s) || read_clients(s))
		return -1;
	/* Odd while up: the next odd number after the previous run's. */
	s->state = (s->state | 1) + 2;
	if (s->state < 3)
		s->state = 3;
	n = snprintf(text, sizeof(text), "%u\n", s->state);
	return write_atomically(dir, "nsm_state", text, (size_t)n);
}

void nsm_state_close(struct nsm_state *s)
{
	while (s->clients) {
		struct nsm_client *c = s->clients;

		s->clients = c->next;
		free(c);
	}
	free(s->dir);
	s->dir = NULL;
	s->nclients = 0;
}

struct nsm_client *nsm_state_find(struct nsm_state *s, const char *addr)
{
	for (struct nsm_client *c = s->clients; c; c = c->next)
		if (!strcmp(c->addr, addr))
			return c;
	return NULL;
}

int nsm_state_add_client(struct nsm_state *s, const char *addr, const char *name)
{
	struct nsm_client *c = nsm_state_find(s, addr);
	char clean[NSM_NAME_LEN + 1];

	if (c) {
		sanitize_name(clean, name);
		c->active = true;
		if (!strcmp(clean, c->name))
			return 0;
		strcpy(c->name, clean);
		return save_clients(s);
	}
	if (s->nclients >= NSM_MAX_CLIENTS)
		return error("nsm: more than %d clients; %s is not recorded", NSM_MAX_CLIENTS, addr);
	c = add(s, addr, name);
	if (!c)
		return error("nsm: out of memory recording a client");
	c->active = true;
	return save_clients(s);
}

int nsm_state_remove(struct nsm_state *s, struct nsm_client *c)
{
	for (struct nsm_client **pp = &s->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			free(c);
			s->nclients--;
			return save_clients(s);
		}
	}
	return 0;
}

unsigned nsm_state_pending(const struct nsm_state *s)
{
	unsigned n = 0;

	for (const struct nsm_client *c = s->clients; c; c = c->next)
		n += c->to_notify;
	return n;
}
