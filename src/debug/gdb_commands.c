/* gdb_commands.c: the GDB stub's packet dispatcher: queries (qSupported,
 * qXfer target.xml, threads, qRcmd), registers (g/G/p/P), memory (m/M/X
 * through the vCPU's page tables), breakpoints (Z/z), thread selection
 * (H/T), resumption (c/s/C/S/vCont) and the end of a session (D/k).
 * Unknown packets get the empty reply the protocol asks for. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "debug/gdb_regs.h"
#include "debug/gdb_stub.h"
#include "debug/gdb_tdesc.h"
#include "debug/guest_translate.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

#define MAX_MEM_XFER (GDB_PACKET_MAX / 2 - 1)

void gdb_reply(struct gdb_stub *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->out, sizeof(s->out), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s->out))
		n = snprintf(s->out, sizeof(s->out), "E01");
	s->out_len = (size_t)n;
}

void gdb_reply_hex(struct gdb_stub *s, const void *data, size_t len)
{
	if (2 * len >= sizeof(s->out))
		len = (sizeof(s->out) - 1) / 2;
	gdb_hex_encode(data, len, s->out);
	s->out_len = 2 * len;
}

static struct vcpu *g_vcpu(struct gdb_stub *s)
{
	return &s->vm->vcpus[s->g_vcpu >= 0 ? s->g_vcpu : 0];
}

static bool vm_stopped(struct gdb_stub *s)
{
	bool stopped;

	pthread_mutex_lock(&s->lock);
	stopped = s->stopped;
	pthread_mutex_unlock(&s->lock);
	return stopped;
}

/* Thread ids are vCPU index + 1; "-1" is all, "0" any. Returns the vCPU
 * index, -1 for all, or -2 if invalid. */
static int parse_thread(struct gdb_stub *s, const char *p)
{
	uint64_t tid;

	if (!strcmp(p, "-1"))
		return -1;
	if (gdb_parse_hex(&p, "", &tid) || *p)
		return -2;
	if (tid == 0)
		return 0;
	return tid <= (uint64_t)s->vm->ncpus ? (int)tid - 1 : -2;
}

/* "ADDR,LEN" then `end` (':' or the string's end). */
static int parse_addr_len(const char **p, char end, uint64_t *addr, uint64_t *len)
{
	char stops[2] = { end, 0 };

	if (gdb_parse_hex(p, ",", addr) || **p != ',')
		return -1;
	(*p)++;
	if (gdb_parse_hex(p, stops, len) || **p != end)
		return -1;
	return 0;
}

static void cmd_read_registers(struct gdb_stub *s)
{
	struct x86_cpu_state st;
	uint8_t buf[1024];
	size_t off = 0;

	if (x86_state_get(g_vcpu(s), &st)) {
		gdb_reply(s, "E01");
		return;
	}
	for (int i = 0; i < gdb_reg_count; i++) {
		gdb_reg_read(&st, i, buf + off);
		off += gdb_reg_table[i].bits / 8;
	}
	gdb_reply_hex(s, buf, off);
}

static void cmd_write_registers(struct gdb_stub *s, const char *hex)
{
	struct x86_cpu_state st;
	uint8_t buf[1024];
	size_t size = gdb_regs_size(), off = 0;

	if (strlen(hex) != 2 * size || gdb_hex_decode(hex, buf, size) ||
	    x86_state_get(g_vcpu(s), &st)) {
		gdb_reply(s, "E01");
		return;
	}
	for (int i = 0; i < gdb_reg_count; i++) {
		gdb_reg_write(&st, i, buf + off);
		off += gdb_reg_table[i].bits / 8;
	}
	gdb_reply(s, x86_state_set(g_vcpu(s), &st) ? "E01" : "OK");
}

static void cmd_read_register(struct gdb_stub *s, const char *p)
{
	struct x86_cpu_state st;
	uint8_t buf[16];
	uint64_t n;

	if (gdb_parse_hex(&p, "", &n) || n >= (uint64_t)gdb_reg_count) {
		gdb_reply(s, "E01");
		return;
	}
	if (x86_state_get(g_vcpu(s), &st)) {
		gdb_reply(s, "E01");
		return;
	}
	gdb_reg_read(&st, (int)n, buf);
	gdb_reply_hex(s, buf, gdb_reg_table[n].bits / 8);
}

static void cmd_write_register(struct gdb_stub *s, const char *p)
{
	struct x86_cpu_state st;
	uint8_t buf[16];
	uint64_t n;
	size_t size;

	if (gdb_parse_hex(&p, "=", &n) || *p != '=' || n >= (uint64_t)gdb_reg_count) {
		gdb_reply(s, "E01");
		return;
	}
	size = gdb_reg_table[n].bits / 8;
	p++;
	if (strlen(p) != 2 * size || gdb_hex_decode(p, buf, size) ||
	    x86_state_get(g_vcpu(s), &st)) {
		gdb_reply(s, "E01");
		return;
	}
	gdb_reg_write(&st, (int)n, buf);
	gdb_reply(s, x86_state_set(g_vcpu(s), &st) ? "E01" : "OK");
}

static void cmd_read_memory(struct gdb_stub *s, const char *p)
{
	uint8_t buf[MAX_MEM_XFER];
	uint64_t addr, len;
	size_t n;

	if (parse_addr_len(&p, '\0', &addr, &len)) {
		gdb_reply(s, "E01");
		return;
	}
	if (len > MAX_MEM_XFER)
		len = MAX_MEM_XFER; /* gdb accepts a short read */
	n = guest_virt_read(g_vcpu(s), addr, buf, len);
	if (!n && len) {
		gdb_reply(s, "E14"); /* EFAULT: not mapped, or not RAM */
		return;
	}
	gdb_reply_hex(s, buf, n);
}

static void write_memory(struct gdb_stub *s, uint64_t addr, const uint8_t *buf, uint64_t len)
{
	if (guest_virt_write(g_vcpu(s), addr, buf, len) != len)
		gdb_reply(s, "E14");
	else
		gdb_reply(s, "OK");
}

static void cmd_write_memory_hex(struct gdb_stub *s, const char *p)
{
	uint8_t buf[MAX_MEM_XFER];
	uint64_t addr, len;

	if (parse_addr_len(&p, ':', &addr, &len) || len > MAX_MEM_XFER ||
	    strlen(p + 1) != 2 * len || gdb_hex_decode(p + 1, buf, len)) {
		gdb_reply(s, "E01");
		return;
	}
	write_memory(s, addr, buf, len);
}

static void cmd_write_memory_binary(struct gdb_stub *s, char *pkt, size_t pkt_len)
{
	const char *p = pkt + 1;
	uint64_t addr, len;
	size_t data_len;
	char *data;

	if (parse_addr_len(&p, ':', &addr, &len) || len > MAX_MEM_XFER) {
		gdb_reply(s, "E01");
		return;
	}
	data = (char *)p + 1;
	data_len = gdb_unescape(data, pkt_len - (size_t)(data - pkt));
	if (data_len != len) {
		gdb_reply(s, "E01");
		return;
	}
	write_memory(s, addr, (const uint8_t *)data, len);
}

static void cmd_breakpoint(struct gdb_stub *s, const char *p, bool insert)
{
	uint64_t type, addr, kind;
	int ret;

	if (gdb_parse_hex(&p, ",", &type) || *p++ != ',' || gdb_parse_hex(&p, ",", &addr) ||
	    *p++ != ',' || gdb_parse_hex(&p, ";", &kind)) {
		gdb_reply(s, "E01");
		return;
	}
	if (type > Z_ACCESS_WATCH)
		return; /* unsupported: empty reply */
	ret = insert ? gdb_bp_insert(s, (int)type, addr, kind) : gdb_bp_remove(s, (int)type, addr, kind);
	if (ret == 1)
		return;
	gdb_reply(s, ret ? "E22" : "OK");
}

static void cmd_set_thread(struct gdb_stub *s, const char *p)
{
	int v = parse_thread(s, p + 1);

	if (v == -2 || (p[0] != 'g' && p[0] != 'c')) {
		gdb_reply(s, "E22");
		return;
	}
	if (p[0] == 'g')
		s->g_vcpu = v < 0 ? 0 : v;
	else
		s->c_vcpu = v;
	gdb_reply(s, "OK");
}

static void cmd_thread_alive(struct gdb_stub *s, const char *p)
{
	gdb_reply(s, parse_thread(s, p) >= 0 ? "OK" : "E22");
}

/* c/s/C/S [sig;][addr]: the Hc thread steps; every vCPU runs. */
static void cmd_legacy_resume(struct gdb_stub *s, const char *p, bool step, bool has_signal)
{
	int target = s->c_vcpu >= 0 ? s->c_vcpu : s->g_vcpu;
	uint64_t addr, sig;

	if (has_signal && (gdb_parse_hex(&p, ";", &sig) || (*p && *p++ != ';'))) {
		gdb_reply(s, "E01");
		return;
	}
	if (*p) {
		struct x86_cpu_state st;

		if (gdb_parse_hex(&p, "", &addr) || x86_state_get(&s->vm->vcpus[target], &st)) {
			gdb_reply(s, "E01");
			return;
		}
		st.regs.rip = addr;
		x86_state_set(&s->vm->vcpus[target], &st);
	}
	for (int i = 0; i < s->vm->ncpus; i++)
		s->actions[i] = ACT_CONTINUE;
	if (step)
		s->actions[target] = ACT_STEP;
	s->out_none = true;
	gdb_resume(s);
}

/* One vCont action "c", "s", "Cxx", "Sxx" with an optional ":tid". */
static int parse_vcont_action(struct gdb_stub *s, char *act, bool *assigned)
{
	char *colon = strchr(act, ':');
	enum gdb_action a;
	int target = -1;

	if (act[0] == 'c' || act[0] == 'C')
		a = ACT_CONTINUE;
	else if (act[0] == 's' || act[0] == 'S')
		a = ACT_STEP;
	else
		return -1;
	if (colon) {
		*colon = '\0';
		target = parse_thread(s, colon + 1);
		if (target == -2)
			return -1;
	}
	for (int i = 0; i < s->vm->ncpus; i++) {
		if ((target < 0 || target == i) && !assigned[i]) {
			s->actions[i] = a;
			assigned[i] = true;
		}
	}
	return 0;
}

static void cmd_vcont(struct gdb_stub *s, char *p)
{
	bool assigned[VM_MAX_CPUS] = { false };
	char *save = NULL;

	for (int i = 0; i < s->vm->ncpus; i++)
		s->actions[i] = ACT_STOP; /* threads without an action stay stopped */
	for (char *act = strtok_r(p, ";", &save); act; act = strtok_r(NULL, ";", &save)) {
		if (parse_vcont_action(s, act, assigned)) {
			gdb_reply(s, "E22");
			return;
		}
	}
	s->out_none = true;
	gdb_resume(s);
}

static void cmd_xfer_features(struct gdb_stub *s, const char *p)
{
	static const char prefix[] = "target.xml:";
	char xml[GDB_PACKET_MAX * 2];
	int len = gdb_tdesc_xml(xml, sizeof(xml));
	uint64_t off, n;

	if (strncmp(p, prefix, sizeof(prefix) - 1)) {
		gdb_reply(s, "E00");
		return;
	}
	p += sizeof(prefix) - 1;
	if (len < 0 || parse_addr_len(&p, '\0', &off, &n)) {
		gdb_reply(s, "E01");
		return;
	}
	if (off >= (uint64_t)len) {
		gdb_reply(s, "l");
		return;
	}
	if (n > GDB_PACKET_MAX / 2)
		n = GDB_PACKET_MAX / 2; /* leaves room for escapes */
	if (n > (uint64_t)len - off)
		n = (uint64_t)len - off;
	s->out[0] = off + n < (uint64_t)len ? 'm' : 'l';
	memcpy(s->out + 1, xml + off, n);
	s->out_len = n + 1;
	s->out_binary = true;
}

static void cmd_thread_list(struct gdb_stub *s)
{
	size_t n = 0;

	s->out[n++] = 'm';
	for (int i = 0; i < s->vm->ncpus; i++)
		n += (size_t)snprintf(s->out + n, sizeof(s->out) - n, "%s%x", i ? "," : "", i + 1);
	s->out_len = n;
}

static const char *mp_state_name(struct vcpu *v)
{
	struct kvm_mp_state mp;

	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0)
		return "unknown";
	switch (mp.mp_state) {
	case KVM_MP_STATE_RUNNABLE: return "running";
	case KVM_MP_STATE_UNINITIALIZED: return "uninitialized";
	case KVM_MP_STATE_INIT_RECEIVED: return "wait-for-SIPI";
	case KVM_MP_STATE_HALTED: return "halted";
	case KVM_MP_STATE_SIPI_RECEIVED: return "SIPI received";
	default: return "other";
	}
}

static void cmd_thread_extra(struct gdb_stub *s, const char *p)
{
	char text[64];
	int v = parse_thread(s, p);

	if (v < 0) {
		gdb_reply(s, "E22");
		return;
	}
	snprintf(text, sizeof(text), "vCPU %d [%s]", v, mp_state_name(&s->vm->vcpus[v]));
	gdb_reply_hex(s, text, strlen(text));
}

static void cmd_monitor(struct gdb_stub *s, const char *hex)
{
	char cmd[256];
	size_t n = strlen(hex) / 2;

	if (strlen(hex) % 2 || n >= sizeof(cmd) || gdb_hex_decode(hex, (uint8_t *)cmd, n)) {
		gdb_reply(s, "E01");
		return;
	}
	cmd[n] = '\0';
	gdb_monitor(s, cmd);
}

static void cmd_query(struct gdb_stub *s, const char *p)
{
	if (!strncmp(p, "qSupported", 10))
		gdb_reply(s, "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;"
			  "vContSupported+;QStartNoAckMode+", GDB_PACKET_MAX);
	else if (!strncmp(p, "qXfer:features:read:", 20))
		cmd_xfer_features(s, p + 20);
	else if (!strcmp(p, "qC"))
		gdb_reply(s, "QC%x", s->g_vcpu + 1);
	else if (!strcmp(p, "qfThreadInfo"))
		cmd_thread_list(s);
	else if (!strcmp(p, "qsThreadInfo"))
		gdb_reply(s, "l");
	else if (!strncmp(p, "qThreadExtraInfo,", 17))
		cmd_thread_extra(s, p + 17);
	else if (!strncmp(p, "qAttached", 9))
		gdb_reply(s, "1");
	else if (!strncmp(p, "qRcmd,", 6))
		cmd_monitor(s, p + 6);
	else if (!strcmp(p, "QStartNoAckMode")) {
		gdb_reply(s, "OK");
		s->no_ack = true;
	}
}

static void cmd_kill(struct gdb_stub *s)
{
	gdb_reply(s, "OK");
	vm_request_exit(s->vm, EXIT_SHUTDOWN);
}

/* Packets that touch vCPU state need the VM stopped. */
static bool needs_stop(char c)
{
	return strchr("gGpPmMXZzcsCS", c) != NULL;
}

static void dispatch_v(struct gdb_stub *s, char *pkt)
{
	if (!strcmp(pkt, "vCont?"))
		gdb_reply(s, "vCont;c;C;s;S");
	else if (!strncmp(pkt, "vCont;", 6) && !vm_stopped(s))
		gdb_reply(s, "E16");
	else if (!strncmp(pkt, "vCont;", 6))
		cmd_vcont(s, pkt + 6);
	else if (!strncmp(pkt, "vKill", 5))
		cmd_kill(s);
}

void gdb_handle_packet(struct gdb_stub *s, char *pkt, size_t len)
{
	if (!len)
		return;
	if (needs_stop(pkt[0]) && !vm_stopped(s)) {
		gdb_reply(s, "E16"); /* EBUSY: interrupt first */
		return;
	}
	switch (pkt[0]) {
	case '?':
		s->out_len = (size_t)gdb_format_stop(s, s->out, sizeof(s->out));
		break;
	case 'g': cmd_read_registers(s); break;
	case 'G': cmd_write_registers(s, pkt + 1); break;
	case 'p': cmd_read_register(s, pkt + 1); break;
	case 'P': cmd_write_register(s, pkt + 1); break;
	case 'm': cmd_read_memory(s, pkt + 1); break;
	case 'M': cmd_write_memory_hex(s, pkt + 1); break;
	case 'X': cmd_write_memory_binary(s, pkt, len); break;
	case 'Z': cmd_breakpoint(s, pkt + 1, true); break;
	case 'z': cmd_breakpoint(s, pkt + 1, false); break;
	case 'H': cmd_set_thread(s, pkt + 1); break;
	case 'T': cmd_thread_alive(s, pkt + 1); break;
	case 'c': cmd_legacy_resume(s, pkt + 1, false, false); break;
	case 's': cmd_legacy_resume(s, pkt + 1, true, false); break;
	case 'C': cmd_legacy_resume(s, pkt + 1, false, true); break;
	case 'S': cmd_legacy_resume(s, pkt + 1, true, true); break;
	case 'v': dispatch_v(s, pkt); break;
	case 'q':
	case 'Q': cmd_query(s, pkt); break;
	case 'D':
		gdb_release(s);
		gdb_reply(s, "OK");
		break;
	case 'k': cmd_kill(s); break;
	default: break; /* unknown: empty reply */
	}
}
