#!/usr/bin/env python3
"""mkbzimage.py: wraps a test guest's flat binary (linked at 1 MiB, 64-bit
entry at +0x200) in a bzImage setup header, boot protocol 2.15, so the
monitor's bzImage path is tested with the same guest.
usage: mkbzimage.py FLAT.bin MEMSZ OUT.bzImage"""
import struct
import sys


def main():
    flat = open(sys.argv[1], "rb").read()
    memsz = int(sys.argv[2], 0)
    setup_sects = 1
    setup = bytearray(512 * (setup_sects + 1))

    def put(off, fmt, val):
        struct.pack_into("<" + fmt, setup, off, val)

    put(0x1F1, "B", setup_sects)
    put(0x1F4, "I", (len(flat) + 15) // 16)  # syssize
    put(0x1FE, "H", 0xAA55)
    put(0x200, "B", 0xEB)                    # jmp short past the header
    put(0x201, "B", 0x26C - 0x202)
    put(0x202, "I", 0x53726448)              # "HdrS"
    put(0x206, "H", 0x020F)
    put(0x211, "B", 0x01)                    # LOADED_HIGH
    put(0x214, "I", 0x100000)                # code32_start
    put(0x22C, "I", 0x7FFFFFFF)              # initrd_addr_max
    put(0x230, "I", 0x200000)                # kernel_alignment
    put(0x236, "H", 0x3)                     # XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G
    put(0x238, "I", 2047)                    # cmdline_size
    put(0x258, "Q", 0x100000)                # pref_address
    put(0x260, "I", max(memsz, len(flat)))   # init_size
    open(sys.argv[3], "wb").write(bytes(setup) + flat)


if __name__ == "__main__":
    main()
