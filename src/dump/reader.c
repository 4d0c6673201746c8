/* reader.c: opens kvmini's dumps (and makedumpfile's or QEMU's) for
 * `kvmini dump-info`: ELF64 cores and kdump-compressed files. */
#include "dump/reader.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "util/log.h"

#define NOTES_MAX (16U << 20)
#define MAPNR_MAX (1ULL << 30) /* 4 TiB of 4 KiB pages */

static int pread_all(struct dump_reader *r, void *buf, uint64_t len, uint64_t off)
{
	if (off > r->file_size || len > r->file_size - off)
		return -1;
	return pread(r->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

static int read_blob(struct dump_reader *r, uint64_t off, uint64_t len, size_t max,
		     uint8_t **out)
{
	if (len > max)
		return -1;
	*out = calloc(1, len + 1);
	if (!*out)
		return -1;
	return pread_all(r, *out, len, off);
}

bool dump_reader_next_note(const struct dump_reader *r, size_t *pos, struct dump_note *n)
{
	Elf64_Nhdr h;
	size_t name_len, desc_len;

	if (*pos + sizeof(h) > r->notes_len)
		return false;
	memcpy(&h, r->notes + *pos, sizeof(h));
	name_len = (h.n_namesz + 3ULL) & ~3ULL;
	desc_len = (h.n_descsz + 3ULL) & ~3ULL;
	if (h.n_namesz == 0 || name_len > r->notes_len - *pos - sizeof(h) ||
	    h.n_descsz > r->notes_len - *pos - sizeof(h) - name_len)
		return false;
	n->name = (const char *)r->notes + *pos + sizeof(h);
	if (n->name[h.n_namesz - 1] != 0)
		return false;
	n->type = h.n_type;
	n->desc = r->notes + *pos + sizeof(h) + name_len;
	n->desc_len = h.n_descsz;
	*pos += sizeof(h) + name_len + (desc_len < r->notes_len - *pos - sizeof(h) - name_len ?
					 desc_len : r->notes_len - *pos - sizeof(h) - name_len);
	return true;
}

static void find_vmcoreinfo_note(struct dump_reader *r)
{
	struct dump_note n;
	size_t pos = 0;

	while (!r->vmcoreinfo && dump_reader_next_note(r, &pos, &n)) {
		if (strcmp(n.name, "VMCOREINFO"))
			continue;
		r->vmcoreinfo = calloc(1, n.desc_len + 1);
		if (r->vmcoreinfo)
			memcpy(r->vmcoreinfo, n.desc, n.desc_len);
	}
}

static int open_elf(struct dump_reader *r, const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (pread_all(r, &eh, sizeof(eh), 0) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_type != ET_CORE || eh.e_phentsize != sizeof(ph) || eh.e_phnum > 1024)
		return error("%s: not an ELF64 core file", path);
	r->kind = DUMP_KIND_ELF;
	for (int i = 0; i < eh.e_phnum; i++) {
		if (pread_all(r, &ph, sizeof(ph), eh.e_phoff + (uint64_t)i * sizeof(ph)))
			return error("%s: program header %d is beyond the end of the file", path, i);
		if (ph.p_type == PT_NOTE && !r->notes) {
			if (read_blob(r, ph.p_offset, ph.p_filesz, NOTES_MAX, &r->notes))
				return error("%s: PT_NOTE is not within the file", path);
			r->notes_len = ph.p_filesz;
		} else if (ph.p_type == PT_LOAD && r->nranges < READER_MAX_RANGES) {
			if (ph.p_offset > r->file_size || ph.p_filesz > r->file_size - ph.p_offset)
				return error("%s: a PT_LOAD lies beyond the end of the file (truncated?)",
					     path);
			r->ranges[r->nranges++] = (struct dump_range){ ph.p_paddr, ph.p_filesz,
								       ph.p_offset };
		}
	}
	find_vmcoreinfo_note(r);
	return 0;
}

static uint64_t bitmap_word(const struct dump_reader *r, uint64_t w)
{
	uint64_t bits = 0, avail = r->bitmap_len - w * 8;

	memcpy(&bits, r->bitmap2 + w * 8, avail < 8 ? avail : 8);
	return bits;
}

static int load_bitmap(struct dump_reader *r, const char *path)
{
	uint64_t bm_len = (uint64_t)r->header.bitmap_blocks * KDUMP_BLOCK_SIZE / 2;
	uint64_t bm_off = (1 + (uint64_t)r->header.sub_hdr_size) * KDUMP_BLOCK_SIZE;
	uint64_t words = (r->max_mapnr + 63) / 64, count = 0;

	if (bm_len < (r->max_mapnr + 7) / 8 ||
	    read_blob(r, bm_off + bm_len, bm_len, (size_t)(MAPNR_MAX / 8 + KDUMP_BLOCK_SIZE),
		      &r->bitmap2))
		return error("%s: the page bitmaps do not fit the file", path);
	r->rank = calloc(words + 1, sizeof(*r->rank));
	if (!r->rank)
		return error("out of memory for the page index of %s", path);
	r->bitmap_len = bm_len;
	for (uint64_t w = 0; w < words; w++) {
		r->rank[w] = count;
		count += (uint64_t)__builtin_popcountll(bitmap_word(r, w));
	}
	r->desc_off = bm_off + 2 * bm_len;
	return 0;
}

static void kdump_ranges(struct dump_reader *r)
{
	for (uint64_t pfn = 0; pfn < r->max_mapnr; pfn++) {
		struct dump_range *last = r->nranges ? &r->ranges[r->nranges - 1] : NULL;

		if (!(r->bitmap2[pfn / 8] >> (pfn % 8) & 1))
			continue;
		if (last && last->paddr + last->size == pfn * KDUMP_BLOCK_SIZE)
			last->size += KDUMP_BLOCK_SIZE;
		else if (r->nranges < READER_MAX_RANGES)
			r->ranges[r->nranges++] = (struct dump_range){ pfn * KDUMP_BLOCK_SIZE,
								       KDUMP_BLOCK_SIZE, 0 };
	}
}

static int open_kdump(struct dump_reader *r, const char *path)
{
	struct disk_dump_header *h = &r->header;

	if (pread_all(r, h, sizeof(*h), 0) || memcmp(h->signature, KDUMP_SIGNATURE, 8))
		return error("%s: neither an ELF core nor a kdump-compressed file", path);
	r->kind = DUMP_KIND_KDUMP;
	if (h->block_size != KDUMP_BLOCK_SIZE || h->sub_hdr_size < 1 || h->header_version < 1 ||
	    pread_all(r, &r->sub, sizeof(r->sub), KDUMP_BLOCK_SIZE))
		return error("%s: unsupported kdump header (version %d, block size %d)", path,
			     h->header_version, h->block_size);
	r->max_mapnr = h->header_version >= 6 ? r->sub.max_mapnr_64 : h->max_mapnr;
	if (r->max_mapnr == 0 || r->max_mapnr > MAPNR_MAX)
		return error("%s: implausible page count %llu", path,
			     (unsigned long long)r->max_mapnr);
	if (h->header_version >= 3 && r->sub.size_vmcoreinfo &&
	    read_blob(r, r->sub.offset_vmcoreinfo, r->sub.size_vmcoreinfo, NOTES_MAX,
		      (uint8_t **)&r->vmcoreinfo))
		return error("%s: VMCOREINFO is not within the file", path);
	if (h->header_version >= 4 && r->sub.size_note) {
		if (read_blob(r, r->sub.offset_note, r->sub.size_note, NOTES_MAX, &r->notes))
			return error("%s: the notes are not within the file", path);
		r->notes_len = r->sub.size_note;
	}
	if (r->vmcoreinfo && !r->vmcoreinfo[0]) { /* empty: look for the note instead */
		free(r->vmcoreinfo);
		r->vmcoreinfo = NULL;
	}
	if (!r->vmcoreinfo)
		find_vmcoreinfo_note(r);
	if (load_bitmap(r, path))
		return -1;
	kdump_ranges(r);
	r->zstd = ZSTD_createDCtx();
	return r->zstd ? 0 : error("cannot set up zstd");
}

int dump_reader_open(struct dump_reader *r, const char *path)
{
	struct stat st;
	char magic[8];

	memset(r, 0, sizeof(*r));
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return error_errno("cannot open dump %s", path);
	if (fstat(r->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return error("%s is not a regular file", path);
	r->file_size = (uint64_t)st.st_size;
	if (pread_all(r, magic, sizeof(magic), 0))
		return error("%s is too short to be a dump", path);
	if (!memcmp(magic, ELFMAG, SELFMAG))
		return open_elf(r, path);
	return open_kdump(r, path);
}

void dump_reader_close(struct dump_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->notes);
	free(r->vmcoreinfo);
	free(r->bitmap2);
	free(r->rank);
	ZSTD_freeDCtx(r->zstd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

static int read_kdump_page(struct dump_reader *r, uint64_t pfn, uint8_t *page)
{
	struct kdump_page_desc d;
	uint8_t cbuf[KDUMP_BLOCK_SIZE];
	uint64_t rank;

	if (pfn >= r->max_mapnr || !(r->bitmap2[pfn / 8] >> (pfn % 8) & 1))
		return -1;
	rank = r->rank[pfn / 64] + (uint64_t)__builtin_popcountll(bitmap_word(r, pfn / 64) &
								   ((1ULL << (pfn % 64)) - 1));
	if (pread_all(r, &d, sizeof(d), r->desc_off + rank * sizeof(d)) || d.size > KDUMP_BLOCK_SIZE)
		return -1;
	if (d.flags == 0)
		return d.size == KDUMP_BLOCK_SIZE ? pread_all(r, page, d.size, d.offset) : -1;
	if (pread_all(r, cbuf, d.size, d.offset))
		return -1;
	if (d.flags & DUMP_DH_COMPRESSED_ZLIB) {
		uLongf len = KDUMP_BLOCK_SIZE;

		return uncompress(page, &len, cbuf, d.size) == Z_OK && len == KDUMP_BLOCK_SIZE ? 0 : -1;
	}
	if (d.flags & DUMP_DH_COMPRESSED_ZSTD)
		return ZSTD_decompressDCtx(r->zstd, page, KDUMP_BLOCK_SIZE, cbuf, d.size) ==
		       KDUMP_BLOCK_SIZE ? 0 : -1;
	return -1; /* lzo, snappy: not read here */
}

static int read_elf(struct dump_reader *r, uint64_t pa, void *buf, uint64_t len)
{
	for (int i = 0; i < r->nranges; i++) {
		const struct dump_range *g = &r->ranges[i];

		if (pa >= g->paddr && pa - g->paddr < g->size && len <= g->size - (pa - g->paddr))
			return pread_all(r, buf, len, g->offset + (pa - g->paddr));
	}
	return -1;
}

int dump_reader_read(struct dump_reader *r, uint64_t pa, void *buf, uint64_t len)
{
	uint8_t page[KDUMP_BLOCK_SIZE], *out = buf;

	if (r->kind == DUMP_KIND_ELF)
		return read_elf(r, pa, buf, len);
	while (len) {
		uint64_t off = pa % KDUMP_BLOCK_SIZE;
		uint64_t n = KDUMP_BLOCK_SIZE - off < len ? KDUMP_BLOCK_SIZE - off : len;

		if (read_kdump_page(r, pa / KDUMP_BLOCK_SIZE, page))
			return -1;
		memcpy(out, page + off, n);
		out += n;
		pa += n;
		len -= n;
	}
	return 0;
}
