"""dumpfile.py: a small reader of the crash dumps kvmini writes (ELF64 cores
and kdump-compressed files), for the tests: notes, memory ranges, pages."""
import ctypes
import struct
import zlib

PAGE = 4096
ZLIB, LZO, SNAPPY, ZSTD = 0x1, 0x2, 0x4, 0x20

_zstd = None


def zstd_decompress(data, size):
    global _zstd
    if _zstd is None:
        _zstd = ctypes.CDLL("libzstd.so.1")
        _zstd.ZSTD_decompress.restype = ctypes.c_size_t
        _zstd.ZSTD_decompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                          ctypes.c_char_p, ctypes.c_size_t]
    out = ctypes.create_string_buffer(size)
    n = _zstd.ZSTD_decompress(out, size, data, len(data))
    assert n == size, f"zstd page decompressed to {n} bytes"
    return out.raw


def parse_notes(buf):
    notes, off = [], 0
    while off + 12 <= len(buf):
        namesz, descsz, ntype = struct.unpack_from("<III", buf, off)
        off += 12
        name = buf[off:off + namesz].rstrip(b"\0").decode()
        off += (namesz + 3) & ~3
        notes.append((name, ntype, buf[off:off + descsz]))
        off += (descsz + 3) & ~3
    return notes


PRSTATUS_REGS = ["r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
                 "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
                 "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"]


def prstatus(desc):
    pid = struct.unpack_from("<i", desc, 32)[0]
    regs = dict(zip(PRSTATUS_REGS, struct.unpack_from("<27Q", desc, 112)))
    return pid, regs


def qemu_state(desc):
    version, size = struct.unpack_from("<II", desc, 0)
    gprs = struct.unpack_from("<18Q", desc, 8)
    cr = struct.unpack_from("<5Q", desc, 8 + 18 * 8 + 10 * 24)
    idt_limit, = struct.unpack_from("<I", desc, 8 + 18 * 8 + 9 * 24 + 4)
    idt_base, = struct.unpack_from("<Q", desc, 8 + 18 * 8 + 9 * 24 + 16)
    return {"version": version, "size": size, "rax": gprs[0], "rbx": gprs[1], "rip": gprs[16],
            "cr0": cr[0], "cr3": cr[3], "cr4": cr[4], "idt_base": idt_base,
            "idt_limit": idt_limit}


class ElfDump:
    def __init__(self, path):
        self.f = open(path, "rb")
        eh = self.f.read(64)
        assert eh[:4] == b"\x7fELF" and eh[4] == 2, "not an ELF64 file"
        self.e_type, self.e_machine = struct.unpack_from("<HH", eh, 16)
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        self.loads, self.notes = [], []
        for i in range(phnum):
            self.f.seek(phoff + i * phentsize)
            p_type, p_flags, off, vaddr, paddr, filesz, memsz, align = struct.unpack(
                "<IIQQQQQQ", self.f.read(56))
            if p_type == 4:
                self.f.seek(off)
                self.notes += parse_notes(self.f.read(filesz))
            elif p_type == 1:
                self.loads.append((paddr, vaddr, off, filesz, align))

    def read_phys(self, pa, n):
        for paddr, _, off, size, _ in self.loads:
            if paddr <= pa and pa + n <= paddr + size:
                self.f.seek(off + pa - paddr)
                return self.f.read(n)
        raise KeyError(f"0x{pa:x} is not in the dump")

    def ranges(self):
        return [(paddr, size) for paddr, _, _, size, _ in self.loads]

    def vmcoreinfo(self):
        for name, _, desc in self.notes:
            if name == "VMCOREINFO":
                return desc.decode()
        return None

    def close(self):
        self.f.close()


class KdumpDump:
    def __init__(self, path):
        self.f = open(path, "rb")
        h = self.f.read(PAGE)
        assert h[:8] == b"KDUMP   ", "not a kdump-compressed file"
        self.version, = struct.unpack_from("<i", h, 8)
        uts = [h[12 + 65 * i:12 + 65 * (i + 1)].split(b"\0")[0].decode() for i in range(6)]
        self.release, self.machine = uts[2], uts[4]
        (self.status, self.block_size, self.sub_hdr_size, self.bitmap_blocks,
         self.max_mapnr) = struct.unpack_from("<IiiII", h, 424)
        self.nr_cpus, = struct.unpack_from("<i", h, 460)
        sub = self.f.read(104)
        (self.phys_base, self.dump_level, _, _, _, off_vmci, size_vmci, off_note,
         size_note) = struct.unpack_from("<QiiQQQQQQ", sub, 0)
        self.max_mapnr_64, = struct.unpack_from("<Q", sub, 96)
        self.vmcoreinfo_text = (self._read(off_vmci, size_vmci).decode(errors="replace")
                                if size_vmci else None)
        self.notes = parse_notes(self._read(off_note, size_note))
        bm_len = self.bitmap_blocks * self.block_size // 2
        bm_off = (1 + self.sub_hdr_size) * self.block_size
        self.bitmap1 = self._read(bm_off, bm_len)
        self.bitmap2 = self._read(bm_off + bm_len, bm_len)
        self.desc_off = bm_off + 2 * bm_len
        self.rank = []  # index of each dumpable pfn among the dumped ones
        count = 0
        for pfn in range(self.max_mapnr_64):
            self.rank.append(count)
            if self.dumped(pfn):
                count += 1
        self.npages = count

    def _read(self, off, n):
        self.f.seek(off)
        return self.f.read(n)

    def dumped(self, pfn):
        return bool(self.bitmap2[pfn // 8] >> (pfn % 8) & 1)

    def desc(self, pfn):
        return struct.unpack("<QIIQ", self._read(self.desc_off + 24 * self.rank[pfn], 24))

    def read_page(self, pfn):
        off, size, flags, _ = self.desc(pfn)
        data = self._read(off, size)
        if flags & ZLIB:
            return zlib.decompress(data)
        if flags & ZSTD:
            return zstd_decompress(data, PAGE)
        assert flags == 0 and size == PAGE, f"page {pfn}: flags 0x{flags:x} size {size}"
        return data

    def vmcoreinfo(self):
        return self.vmcoreinfo_text

    def close(self):
        self.f.close()


def open_dump(path):
    with open(path, "rb") as f:
        magic = f.read(8)
    return ElfDump(path) if magic[:4] == b"\x7fELF" else KdumpDump(path)
