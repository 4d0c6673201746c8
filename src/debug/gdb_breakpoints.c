/* gdb_breakpoints.c: Z0 software breakpoints (int3 written into guest RAM,
 * KVM_GUESTDBG_USE_SW_BP), Z1 hardware breakpoints and Z2/Z4 watchpoints in
 * DR0-DR3 (KVM_GUESTDBG_USE_HW_BP), and the per-vCPU KVM_SET_GUEST_DEBUG.
 * x86 has no read-only watchpoint, so Z3 is reported unsupported. Where KVM
 * does not report data breakpoints (gdb_probe.c), watchpoints are checked
 * in software: continuing vCPUs single-step and the watched bytes are
 * compared after each instruction (writes only; slow but exact). */
#include <string.h>
#include <sys/ioctl.h>

#include "debug/gdb_stub.h"
#include "debug/guest_translate.h"
#include "util/log.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

#define INT3 0xcc
#define DR7_FIXED 0x600        /* GE and the always-one bit 10, as QEMU sets */
#define DR6_HIT_MASK 0xf

static struct vcpu *mem_vcpu(struct gdb_stub *s)
{
	return &s->vm->vcpus[s->g_vcpu >= 0 ? s->g_vcpu : 0];
}

static struct gdb_sw_bp *find_sw(struct gdb_stub *s, uint64_t addr)
{
	for (int i = 0; i < GDB_MAX_SW_BP; i++)
		if (s->sw[i].used && s->sw[i].addr == addr)
			return &s->sw[i];
	return NULL;
}

static int insert_sw(struct gdb_stub *s, uint64_t addr)
{
	struct gdb_sw_bp *bp = find_sw(s, addr);
	uint8_t *host;
	uint64_t gpa;

	if (bp)
		return 0;
	for (int i = 0; i < GDB_MAX_SW_BP && !bp; i++)
		if (!s->sw[i].used)
			bp = &s->sw[i];
	if (!bp)
		return -1;
	if (guest_translate(mem_vcpu(s), addr, &gpa))
		return -1;
	host = gpa_to_hva(&s->vm->mem, gpa, 1);
	if (!host)
		return -1;
	*bp = (struct gdb_sw_bp){ .used = true, .addr = addr, .gpa = gpa, .saved = *host };
	*host = INT3;
	return 0;
}

static void restore_sw(struct gdb_stub *s, struct gdb_sw_bp *bp)
{
	uint8_t *host = gpa_to_hva(&s->vm->mem, bp->gpa, 1);

	if (host && *host == INT3)
		*host = bp->saved;
	bp->used = false;
}

static bool hw_len_ok(int type, uint64_t addr, uint64_t len)
{
	if (type == Z_HW_BREAK)
		return true; /* execution breakpoints are always 1 byte */
	return (len == 1 || len == 2 || len == 4 || len == 8) && addr % len == 0;
}

static int insert_hw(struct gdb_stub *s, int type, uint64_t addr, uint64_t len)
{
	if (!hw_len_ok(type, addr, len))
		return -1;
	for (int i = 0; i < GDB_HW_SLOTS; i++) {
		if (!s->hw[i].used) {
			s->hw[i] = (struct gdb_hw_bp){ .used = true, .type = type, .addr = addr,
						       .len = type == Z_HW_BREAK ? 1 : (unsigned)len };
			if (type != Z_HW_BREAK)
				guest_virt_read(mem_vcpu(s), addr, s->hw[i].old, s->hw[i].len);
			return 0;
		}
	}
	return -1; /* all four debug registers are taken */
}

static int remove_hw(struct gdb_stub *s, int type, uint64_t addr)
{
	for (int i = 0; i < GDB_HW_SLOTS; i++) {
		if (s->hw[i].used && s->hw[i].type == type && s->hw[i].addr == addr) {
			s->hw[i].used = false;
			return 0;
		}
	}
	return -1;
}

int gdb_bp_insert(struct gdb_stub *s, int type, uint64_t addr, uint64_t kind)
{
	int ret;

	if (type == Z_READ_WATCH || type < 0 || type > Z_ACCESS_WATCH)
		return 1;
	pthread_mutex_lock(&s->lock);
	ret = type == Z_SW_BREAK ? insert_sw(s, addr) : insert_hw(s, type, addr, kind);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int gdb_bp_remove(struct gdb_stub *s, int type, uint64_t addr, uint64_t kind)
{
	struct gdb_sw_bp *bp;
	int ret = -1;

	if (type == Z_READ_WATCH || type < 0 || type > Z_ACCESS_WATCH)
		return 1;
	pthread_mutex_lock(&s->lock);
	if (type != Z_SW_BREAK) {
		ret = remove_hw(s, type, addr);
	} else if ((bp = find_sw(s, addr))) {
		restore_sw(s, bp);
		ret = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void gdb_bp_remove_all(struct gdb_stub *s)
{
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < GDB_MAX_SW_BP; i++)
		if (s->sw[i].used)
			restore_sw(s, &s->sw[i]);
	memset(s->hw, 0, sizeof(s->hw));
	pthread_mutex_unlock(&s->lock);
}

bool gdb_bp_is_ours(struct gdb_stub *s, uint64_t pc)
{
	return find_sw(s, pc) != NULL;
}

int gdb_bp_hw_hit(struct gdb_stub *s, uint64_t dr6)
{
	for (int i = 0; i < GDB_HW_SLOTS; i++)
		if (s->hw[i].used && (dr6 & DR6_HIT_MASK & (1ULL << i)))
			return i;
	return -1;
}

static uint64_t dr7_bits(const struct gdb_hw_bp *bp, int slot)
{
	uint64_t rw = bp->type == Z_HW_BREAK ? 0 : bp->type == Z_WRITE_WATCH ? 1 : 3;
	uint64_t len = bp->len == 1 ? 0 : bp->len == 2 ? 1 : bp->len == 8 ? 2 : 3;

	return (2ULL << (slot * 2)) | ((rw | (len << 2)) << (16 + slot * 4));
}

static bool is_watch(const struct gdb_hw_bp *bp)
{
	return bp->used && bp->type != Z_HW_BREAK;
}

bool gdb_soft_watch_active(struct gdb_stub *s)
{
	bool active = false;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < GDB_HW_SLOTS && s->soft_watch; i++)
		active = active || is_watch(&s->hw[i]);
	pthread_mutex_unlock(&s->lock);
	return active;
}

void gdb_soft_watch_snapshot(struct gdb_stub *s, struct vcpu *vcpu)
{
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < GDB_HW_SLOTS; i++)
		if (is_watch(&s->hw[i]))
			guest_virt_read(vcpu, s->hw[i].addr, s->hw[i].old, s->hw[i].len);
	pthread_mutex_unlock(&s->lock);
}

/* Called from a vCPU thread with s->lock held. */
int gdb_soft_watch_changed(struct gdb_stub *s, struct vcpu *vcpu)
{
	for (int i = 0; i < GDB_HW_SLOTS && s->soft_watch; i++) {
		struct gdb_hw_bp *bp = &s->hw[i];
		uint8_t now[8];

		if (!is_watch(bp) || guest_virt_read(vcpu, bp->addr, now, bp->len) != bp->len)
			continue;
		if (memcmp(now, bp->old, bp->len)) {
			memcpy(bp->old, now, bp->len);
			return i;
		}
	}
	return -1;
}

int gdb_debug_apply(struct gdb_stub *s, struct vcpu *vcpu, enum gdb_step_mode step,
		    uint32_t inject)
{
	struct kvm_guest_debug dbg = { 0 };
	bool any_sw = false, any_hw = false;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < GDB_MAX_SW_BP && !any_sw; i++)
		any_sw = s->sw[i].used;
	dbg.arch.debugreg[7] = DR7_FIXED;
	for (int i = 0; i < GDB_HW_SLOTS; i++) {
		if (!s->hw[i].used)
			continue;
		any_hw = true;
		dbg.arch.debugreg[i] = s->hw[i].addr;
		dbg.arch.debugreg[7] |= dr7_bits(&s->hw[i], i);
	}
	s->stepping[vcpu->id] = step;
	pthread_mutex_unlock(&s->lock);
	if (any_sw)
		dbg.control |= KVM_GUESTDBG_USE_SW_BP;
	if (any_hw)
		dbg.control |= KVM_GUESTDBG_USE_HW_BP;
	if (step)
		dbg.control |= KVM_GUESTDBG_SINGLESTEP | (s->guestdbg_flags & KVM_GUESTDBG_BLOCKIRQ);
	dbg.control |= inject;
	if (dbg.control)
		dbg.control |= KVM_GUESTDBG_ENABLE;
	if (ioctl(vcpu->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		return error_errno("vCPU %d: KVM_SET_GUEST_DEBUG 0x%x", vcpu->id, dbg.control);
	return 0;
}
