/* seccomp.h: the system-call filter `kvmini run` installs once the VM is
 * built, so a guest that subverts a device model cannot exec, load
 * modules, trace other processes or change mounts. */
#ifndef KVMINI_SECCOMP_H
#define KVMINI_SECCOMP_H

enum seccomp_mode {
	SECCOMP_OFF,
	SECCOMP_ERRNO, /* default: a call outside the list fails with EPERM */
	SECCOMP_KILL,  /* a call outside the list kills kvmini */
};

/* Parses "on", "off" or "kill". */
int seccomp_parse_mode(const char *s, enum seccomp_mode *mode);
/* Installs the allow-list for every thread of the process. */
int seccomp_install(enum seccomp_mode mode);

#endif
