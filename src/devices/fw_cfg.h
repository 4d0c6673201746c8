/* fw_cfg.h: QEMU's firmware configuration interface, reduced to what a Linux
 * guest needs to hand over its VMCOREINFO: the `etc/vmcoreinfo` file. */
#ifndef KVMINI_FW_CFG_H
#define KVMINI_FW_CFG_H

#include <stdint.h>

struct vm;

#define FW_CFG_PORT 0x510
#define FW_CFG_PORT_LEN 12 /* selector 0x510, data 0x511, DMA address 0x514-0x51b */
#define FW_CFG_VMCOREINFO_FORMAT_ELF 1

/* Where the guest said its VMCOREINFO ELF note lies; -1 if it has not. */
int fw_cfg_vmcoreinfo(struct vm *vm, uint64_t *paddr, uint32_t *size);

#endif
