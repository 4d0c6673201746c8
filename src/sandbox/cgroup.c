/* cgroup.c: per-VM cgroup v2 limits. Finds the cgroup2 mount, enables the
 * memory and cpu controllers down to the VM's group, writes memory.max and
 * cpu.max, and moves the whole process (every thread) into it. */
#include "sandbox/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define CPU_PERIOD_US 100000

struct vm_cgroup {
	char dir[PATH_MAX];
	char previous[PATH_MAX]; /* the cgroup this process came from */
	int created;
};

static int find_cgroup2_mount(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[1024], mnt[512], fstype[64];
	int found = 0;

	if (!f)
		return error_errno("cannot read /proc/self/mountinfo");
	while (!found && fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(dash + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(out, size, "%s", mnt);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : error("--cgroup: no cgroup v2 file system is mounted; mount one "
				 "(mount -t cgroup2 none /sys/fs/cgroup) or drop --cgroup");
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int write_file(const char *dir, const char *name, const char *value)
{
	char path[PATH_MAX + 64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno("--cgroup: cannot open %s", path);
	n = write(fd, value, strlen(value));
	close(fd);
	if (n < 0)
		return error_errno("--cgroup: cannot write '%s' to %s", value, path);
	return 0;
}

static int has_controllers(const char *dir)
{
	char path[PATH_MAX + 32], buf[512];

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	if (read_file(path, buf, sizeof(buf)))
		return 0;
	return strstr(buf, "memory") && strstr(buf, "cpu");
}

/* Makes each directory of `rel` under `root`, enabling memory and cpu for
 * the children at every level on the way down. */
static int make_path(struct vm_cgroup *cg, const char *root, const char *rel)
{
	char cur[PATH_MAX], *copy = strdup(rel), *save = NULL;

	if (!copy)
		return error("out of memory");
	snprintf(cur, sizeof(cur), "%s", root);
	for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		if (!strcmp(part, "..") || !strcmp(part, ".")) {
			free(copy);
			return error("--cgroup '%s': '.' and '..' are not allowed", rel);
		}
		if (write_file(cur, "cgroup.subtree_control", "+memory +cpu")) {
			free(copy);
			return -1;
		}
		if (strlen(cur) + strlen(part) + 2 > sizeof(cur)) {
			free(copy);
			return error("--cgroup path too long");
		}
		strcat(cur, "/");
		strcat(cur, part);
		if (mkdir(cur, 0755) == 0)
			cg->created = 1;
		else if (errno != EEXIST) {
			free(copy);
			return error_errno("--cgroup: cannot create %s", cur);
		}
	}
	free(copy);
	snprintf(cg->dir, sizeof(cg->dir), "%s", cur);
	return 0;
}

static void remember_current(struct vm_cgroup *cg, const char *root)
{
	char buf[PATH_MAX], *line, *nl;

	if (read_file("/proc/self/cgroup", buf, sizeof(buf)))
		return;
	/* The v2 entry is the line "0::/path". */
	line = !strncmp(buf, "0::", 3) ? buf : strstr(buf, "\n0::");
	if (!line)
		return;
	line += line == buf ? 3 : 4;
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	snprintf(cg->previous, sizeof(cg->previous), "%s%s", root, line);
}

struct vm_cgroup *cgroup_enter(const char *path, uint64_t guest_ram, int ncpus)
{
	struct vm_cgroup *cg = calloc(1, sizeof(*cg));
	char root[512], value[64];

	if (!cg || find_cgroup2_mount(root, sizeof(root)))
		goto fail;
	if (!has_controllers(root)) {
		error("--cgroup: cgroup v2 at %s has no memory and cpu controllers (on this host "
		      "they are bound to cgroup v1); boot the host with cgroup v2 only or drop --cgroup",
		      root);
		goto fail;
	}
	remember_current(cg, root);
	if (make_path(cg, root, path))
		goto fail;
	snprintf(value, sizeof(value), "%llu",
		 (unsigned long long)(guest_ram + CGROUP_MONITOR_ALLOWANCE));
	if (write_file(cg->dir, "memory.max", value))
		goto fail;
	snprintf(value, sizeof(value), "%d %d", ncpus * CPU_PERIOD_US, CPU_PERIOD_US);
	if (write_file(cg->dir, "cpu.max", value))
		goto fail;
	snprintf(value, sizeof(value), "%d", (int)getpid());
	if (write_file(cg->dir, "cgroup.procs", value))
		goto fail;
	return cg;
fail:
	if (cg && cg->created)
		rmdir(cg->dir);
	free(cg);
	return NULL;
}

void cgroup_leave(struct vm_cgroup *cg)
{
	char pid[32];

	if (!cg)
		return;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (cg->previous[0] && write_file(cg->previous, "cgroup.procs", pid) == 0 && cg->created)
		rmdir(cg->dir);
	free(cg);
}
