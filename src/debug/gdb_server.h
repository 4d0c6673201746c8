/* gdb_server.h: `kvmini run --gdb`: a GDB remote-protocol stub serving one
 * debugger at a time over TCP or a unix socket. */
#ifndef KVMINI_GDB_SERVER_H
#define KVMINI_GDB_SERVER_H

#include <stdbool.h>

struct vm;
struct gdb_stub;

/* Listens on `spec` ("tcp:HOST:PORT" or "unix:PATH"; port 0 picks one, and
 * the address is printed on stderr) and starts the stub's thread. With
 * `wait_for_gdb` the vCPUs stay before their first instruction until gdb
 * continues. Call after the vCPUs exist and before vm_run(). */
struct gdb_stub *gdb_server_start(struct vm *vm, const char *spec, bool wait_for_gdb);
/* Tells an attached gdb that the VM ended, stops the thread and closes the
 * sockets (the stub's memory goes with the VM). */
void gdb_server_stop(struct gdb_stub *stub);

#endif
