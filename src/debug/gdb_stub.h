/* gdb_stub.h: the GDB stub's state, shared by its files (server thread and
 * run control, command dispatcher, breakpoints, monitor commands). */
#ifndef KVMINI_GDB_STUB_H
#define KVMINI_GDB_STUB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "debug/gdb_packet.h"

struct vm;
struct vcpu;

#define GDB_MAX_SW_BP 256
#define GDB_HW_SLOTS  4

/* gdb's signal numbers in stop replies. */
#define GDB_SIGINT  2
#define GDB_SIGTRAP 5
#define GDB_SIGABRT 6
#define GDB_SIGSEGV 11

/* Z packet types. */
enum { Z_SW_BREAK, Z_HW_BREAK, Z_WRITE_WATCH, Z_READ_WATCH, Z_ACCESS_WATCH };

enum gdb_stop_kind { STOP_SIGNAL, STOP_SWBREAK, STOP_HWBREAK, STOP_WATCH };

struct gdb_stop {
	int vcpu;
	int signal;
	enum gdb_stop_kind kind;
	int watch_type;   /* Z type of the watchpoint hit */
	uint64_t addr;    /* watched address */
};

/* What a vCPU does when gdb resumes. */
enum gdb_action { ACT_STOP, ACT_CONTINUE, ACT_STEP };

/* How a vCPU is single-stepped: not, for gdb, or only to check watchpoints
 * in software (KVMs that do not report data breakpoints). */
enum gdb_step_mode { STEP_NONE, STEP_USER, STEP_WATCH };

struct gdb_sw_bp {
	bool used;
	uint64_t addr;     /* guest-virtual, as gdb gave it */
	uint64_t gpa;
	uint8_t saved;     /* the byte int3 replaced */
};

struct gdb_hw_bp {
	bool used;
	int type;          /* Z_HW_BREAK, Z_WRITE_WATCH or Z_ACCESS_WATCH */
	uint64_t addr;
	unsigned len;
	uint8_t old[8];    /* last value seen, for software watching */
};

struct gdb_stub {
	struct vm *vm;
	int listen_fd;
	int client_fd;
	int wake_fd;                /* eventfd: a vCPU stopped, or shutdown */
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t thread;
	bool thread_started;
	uint32_t guestdbg_flags;    /* KVM_GUESTDBG_* this KVM supports */
	bool soft_watch;            /* KVM misses data breakpoints: step and compare */

	/* Server-thread state. */
	struct gdb_rx rx;
	bool no_ack;
	bool gdb_waiting;           /* gdb resumed and waits for a stop reply */
	bool client_lost;
	int g_vcpu;                 /* Hg: registers and memory */
	int c_vcpu;                 /* Hc: legacy c/s (-1: all) */
	enum gdb_action *actions;   /* per vCPU, for the next resume */
	char out[GDB_PACKET_MAX + 1];
	size_t out_len;
	bool out_binary;
	bool out_none;              /* resumed: the reply is the later stop reply */
	char tx[2 * GDB_PACKET_MAX + 8]; /* last framed packet, for `-` */
	int tx_len;

	/* Shared with vCPU threads, under lock. */
	pthread_mutex_t lock;
	bool attached;
	bool stopped;               /* the stub holds the VM paused */
	int held_pauses;            /* vm_pause() calls to undo on resume */
	bool stop_unreported;
	struct gdb_stop stop;
	bool shutting_down;
	enum gdb_step_mode *stepping; /* per vCPU */
	struct gdb_sw_bp sw[GDB_MAX_SW_BP];
	struct gdb_hw_bp hw[GDB_HW_SLOTS];
};

/* Run control (gdb_control.c). */
/* Hooks the vCPUs' debug exits and the VM's guest events. */
int gdb_control_init(struct gdb_stub *s);
void gdb_stop_all(struct gdb_stub *s, int signal);
void gdb_resume(struct gdb_stub *s);
/* Detach or client gone: breakpoints out, vCPUs released. */
void gdb_release(struct gdb_stub *s);
int gdb_format_stop(struct gdb_stub *s, char *buf, size_t size);

/* Command dispatch (gdb_commands.c): fills s->out (or sets out_none). */
void gdb_handle_packet(struct gdb_stub *s, char *pkt, size_t len);
void gdb_reply(struct gdb_stub *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gdb_reply_hex(struct gdb_stub *s, const void *data, size_t len);

/* Breakpoints (gdb_breakpoints.c); call with the VM stopped. Insert and
 * remove return 0, -1 on error, or 1 if the type is not supported. */
int gdb_bp_insert(struct gdb_stub *s, int type, uint64_t addr, uint64_t kind);
int gdb_bp_remove(struct gdb_stub *s, int type, uint64_t addr, uint64_t kind);
void gdb_bp_remove_all(struct gdb_stub *s);
bool gdb_bp_is_ours(struct gdb_stub *s, uint64_t pc);
/* The hardware slot DR6 says was hit, or -1. */
int gdb_bp_hw_hit(struct gdb_stub *s, uint64_t dr6);
/* KVM_SET_GUEST_DEBUG for one vCPU: breakpoints, single-step, injection. */
int gdb_debug_apply(struct gdb_stub *s, struct vcpu *vcpu, enum gdb_step_mode step,
		    uint32_t inject);
/* Software watchpoints: whether any is active (needs soft_watch), taking
 * the values to compare against, and the slot whose value changed (-1). */
bool gdb_soft_watch_active(struct gdb_stub *s);
void gdb_soft_watch_snapshot(struct gdb_stub *s, struct vcpu *vcpu);
int gdb_soft_watch_changed(struct gdb_stub *s, struct vcpu *vcpu);

/* Whether KVM delivers #DB for DR7 data breakpoints (gdb_probe.c). */
bool gdb_probe_data_breakpoints(int kvm_fd);

/* Monitor commands (gdb_monitor.c): the reply to qRcmd. */
void gdb_monitor(struct gdb_stub *s, const char *cmd);

#endif
