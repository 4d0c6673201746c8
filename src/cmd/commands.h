/* commands.h: kvmini's subcommands, one file each under cmd/. */
#ifndef KVMINI_COMMANDS_H
#define KVMINI_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_vhost_user(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_memd(int argc, char **argv);
int cmd_dump_info(int argc, char **argv);
int cmd_nfsd(int argc, char **argv);

#endif
