/* api.h: the control socket: newline-delimited JSON requests and replies
 * on a unix socket (`kvmini run --api unix:PATH`), served by the device
 * event loop. Subsystems add their own commands with api_register(). */
#ifndef KVMINI_API_H
#define KVMINI_API_H

#include <jansson.h>

struct vm;
struct api;

/* Handles one request. Returns a reply object to merge into {"ok": true},
 * or NULL with *err set to a one-line reason ({"ok": false, "error": ...}). */
typedef json_t *(*api_handler_fn)(struct vm *vm, json_t *request, const char **err,
				  void *opaque);

struct api *api_open(struct vm *vm, const char *spec);
/* A control socket served by `loop` without a VM (e.g. a vhost-user
 * backend): only the commands registered on it; handlers get vm == NULL. */
struct event_loop;
struct api *api_open_loop(struct event_loop *loop, const char *spec);
int api_register(struct api *api, const char *cmd, const char *help, api_handler_fn fn,
		 void *opaque);
void api_close(struct api *api);

/* Built-in commands: status, pause, resume, quit, help. */
int api_register_vm_commands(struct api *api);

/* memory, mem-resize (virtio-mem). */
int api_register_mem_commands(struct api *api);

/* balloon, balloon-stats, served by `b` (run or vhost-user backend). */
struct balloon;
int api_register_balloon_commands(struct api *api, struct balloon *b);

/* dump, dump-status (VMs run with --dump-dir). */
struct dumper;
int api_register_dump_commands(struct api *api, struct dumper *d);

/* net: the virtio-net device's TAP, link addresses, MAC, queues and
 * counters (run --net, and the vhost-user net backend). */
struct virtio_dev;
int api_register_net_commands(struct api *api, struct virtio_dev *net);

/* Reads an unsigned size from request[key]: a JSON integer or a string
 * such as "512M". Returns -1 with *err set when absent or malformed. */
int api_get_size(json_t *request, const char *key, unsigned long long *out, const char **err);

#endif
