/* dump_commands.c: the control socket's crash-dump commands: `dump` takes
 * a dump of the running guest now (written by a worker thread; the guest
 * pauses for the capture and resumes), `dump-status` says whether one is
 * being written and how the last one ended. Needs `--dump-dir`. */
#include <stdio.h>
#include <unistd.h>

#include "api/api.h"
#include "dump/dump.h"

static json_t *file_names(const char *dir, unsigned formats, unsigned seq)
{
	static const struct { unsigned format; const char *ext; } kinds[] = {
		{ DUMP_FORMAT_ELF, "elf" }, { DUMP_FORMAT_KDUMP, "kdump" },
	};
	json_t *files = json_array();
	char path[4096];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!(formats & kinds[i].format))
			continue;
		snprintf(path, sizeof(path), "%s/vmcore-%d-%u-request.%s", dir, (int)getpid(), seq,
			 kinds[i].ext);
		json_array_append_new(files, json_string(path));
	}
	return files;
}

static json_t *cmd_dump(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	struct dumper *d = opaque;
	struct dumper_state st;
	unsigned seq;

	if (dumper_request(d, &seq)) {
		*err = "a dump is being written; ask again when dump-status says it is done";
		return NULL;
	}
	dumper_status(d, &st);
	return json_pack("{s:s, s:I, s:o}", "state", "writing", "seq", (json_int_t)seq, "files",
			 file_names(st.dir, st.formats, seq));
}

static json_t *cmd_dump_status(struct vm *vm, json_t *req, const char **err, void *opaque)
{
	struct dumper_state st;
	json_t *reply;

	dumper_status(opaque, &st);
	reply = json_pack("{s:b}", "busy", st.busy);
	if (st.have_last)
		json_object_update_new(reply, json_pack("{s:I, s:b, s:o}", "last_seq",
						       (json_int_t)st.last_seq, "last_ok", st.last_ok,
						       "last_files",
						       file_names(st.dir, st.formats, st.last_seq)));
	return reply;
}

int api_register_dump_commands(struct api *api, struct dumper *d)
{
	return api_register(api, "dump", "write a crash dump of the running guest now "
			    "(into --dump-dir); the guest resumes", cmd_dump, d) ||
	       api_register(api, "dump-status", "whether a dump is being written, and the "
			    "last on-demand dump's files and result", cmd_dump_status, d);
}
