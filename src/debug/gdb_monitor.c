/* gdb_monitor.c: `monitor` commands (qRcmd) of the GDB stub: help, info
 * registers (with segment and control registers), info cpus, info
 * breakpoints. The output is the hex-encoded reply gdb prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/gdb_stub.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

static const char monitor_help[] =
	"kvmini monitor commands:\n"
	"  help              this list\n"
	"  info registers    all registers of the selected vCPU, incl. segments and CRs\n"
	"  info cpus         the vCPUs and which one gdb has selected\n"
	"  info breakpoints  software and hardware breakpoints the stub holds\n";

static void reply_text(struct gdb_stub *s, const char *text, size_t len)
{
	if (!len) {
		gdb_reply(s, "OK");
		return;
	}
	gdb_reply_hex(s, text, len);
}

static void info_cpus(struct gdb_stub *s, FILE *out)
{
	for (int i = 0; i < s->vm->ncpus; i++)
		fprintf(out, "%c vCPU %d (thread %d)%s\n", i == s->g_vcpu ? '*' : ' ', i, i + 1,
			s->vm->vcpus[i].held ? " held" : "");
}

static void info_breakpoints(struct gdb_stub *s, FILE *out)
{
	static const char *const kinds[] = { "sw", "hw", "write", "read", "access" };

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < GDB_MAX_SW_BP; i++)
		if (s->sw[i].used)
			fprintf(out, "sw     0x%llx (phys 0x%llx)\n", (unsigned long long)s->sw[i].addr,
				(unsigned long long)s->sw[i].gpa);
	for (int i = 0; i < GDB_HW_SLOTS; i++)
		if (s->hw[i].used)
			fprintf(out, "DR%d    %-6s 0x%llx len %u\n", i, kinds[s->hw[i].type],
				(unsigned long long)s->hw[i].addr, s->hw[i].len);
	pthread_mutex_unlock(&s->lock);
}

void gdb_monitor(struct gdb_stub *s, const char *cmd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out) {
		gdb_reply(s, "E12");
		return;
	}
	if (!strcmp(cmd, "help") || !*cmd)
		fputs(monitor_help, out);
	else if (!strcmp(cmd, "info registers"))
		vcpu_dump_registers(&s->vm->vcpus[s->g_vcpu >= 0 ? s->g_vcpu : 0], out);
	else if (!strcmp(cmd, "info cpus"))
		info_cpus(s, out);
	else if (!strcmp(cmd, "info breakpoints"))
		info_breakpoints(s, out);
	else
		fprintf(out, "unknown monitor command '%s'; try 'monitor help'\n", cmd);
	fclose(out);
	reply_text(s, text, len);
	free(text);
}
