/* kdump.c: the kdump-compressed (diskdump, header version 6) writer: header,
 * sub-header with phys_base, VMCOREINFO and the notes, two page bitmaps, one
 * descriptor per RAM page, then the page data: every zero page shares one
 * block, the others are compressed one by one (zstd or zlib) on every CPU. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/compress_pool.h"
#include "dump/kdump_format.h"
#include "dump/ram_walk.h"
#include "dump/writers.h"
#include "util/log.h"

#define RUN_MAX (4ULL << 20)
#define DESC_BATCH 4096

struct kdump_ctx {
	const struct dump_source *src;
	struct dump_file *f;
	struct dump_progress *progress;
	struct compress_pool pool;
	struct kdump_page_desc zero_desc;
	struct dump_stream descs, data;
};

struct kdump_layout {
	uint64_t max_mapnr, npages, bitmap_len;
	uint64_t sub_hdr_blocks, bitmap_off, desc_off, data_off;
	size_t notes_len;
};

static uint64_t round_block(uint64_t v)
{
	return (v + KDUMP_BLOCK_SIZE - 1) / KDUMP_BLOCK_SIZE * KDUMP_BLOCK_SIZE;
}

static void plan_layout(const struct dump_source *src, size_t notes_len, struct kdump_layout *l)
{
	const struct guest_memory *mem = src->mem;
	const struct mem_region *last = &mem->regions[mem->nregions - 1];

	memset(l, 0, sizeof(*l));
	l->notes_len = notes_len;
	l->max_mapnr = (last->gpa + last->size) / KDUMP_BLOCK_SIZE;
	l->npages = mem->size / KDUMP_BLOCK_SIZE;
	l->bitmap_len = round_block((l->max_mapnr + 7) / 8);
	l->sub_hdr_blocks = round_block(sizeof(struct kdump_sub_header) + notes_len) /
			    KDUMP_BLOCK_SIZE;
	l->bitmap_off = (1 + l->sub_hdr_blocks) * KDUMP_BLOCK_SIZE;
	l->desc_off = l->bitmap_off + 2 * l->bitmap_len;
	l->data_off = l->desc_off + l->npages * sizeof(struct kdump_page_desc);
}

static uint32_t compression_flag(enum dump_compression c)
{
	return c == DUMP_COMPRESS_ZLIB ? DUMP_DH_COMPRESSED_ZLIB : DUMP_DH_COMPRESSED_ZSTD;
}

static void write_header(struct kdump_ctx *c, const struct kdump_layout *l)
{
	const struct dump_source *src = c->src;
	uint8_t block[KDUMP_BLOCK_SIZE] = { 0 };
	struct disk_dump_header h = { 0 };

	memcpy(h.signature, KDUMP_SIGNATURE, 8);
	h.header_version = KDUMP_HEADER_VERSION;
	strcpy(h.utsname.sysname, "Linux");
	strcpy(h.utsname.nodename, "kvmini");
	snprintf(h.utsname.release, sizeof(h.utsname.release), "%s",
		 src->osrelease[0] ? src->osrelease : "unknown");
	strcpy(h.utsname.version, "unknown");
	strcpy(h.utsname.machine, "x86_64");
	strcpy(h.utsname.domainname, "(none)");
	h.timestamp_sec = (int64_t)src->time;
	h.status = compression_flag(src->compression);
	h.block_size = KDUMP_BLOCK_SIZE;
	h.sub_hdr_size = (int32_t)l->sub_hdr_blocks;
	h.bitmap_blocks = (uint32_t)(2 * l->bitmap_len / KDUMP_BLOCK_SIZE);
	h.max_mapnr = l->max_mapnr > UINT32_MAX ? UINT32_MAX : (uint32_t)l->max_mapnr;
	h.total_ram_blocks = (uint32_t)l->npages;
	h.current_cpu = src->crashing_cpu > 0 ? (uint32_t)src->crashing_cpu : 0;
	h.nr_cpus = src->ncpus;
	memcpy(block, &h, sizeof(h)); /* the task pointers that follow stay 0 */
	dump_file_pwrite(c->f, block, sizeof(block), 0);
}

/* Offset of the VMCOREINFO text inside the notes (0 if there is none). */
static size_t vmcoreinfo_in_notes(const uint8_t *notes, size_t len)
{
	size_t pos = 0;

	while (pos + sizeof(Elf64_Nhdr) <= len) {
		Elf64_Nhdr h;
		size_t name;

		memcpy(&h, notes + pos, sizeof(h));
		name = (h.n_namesz + 3ULL) & ~3ULL;
		if (h.n_namesz == sizeof("VMCOREINFO") &&
		    !memcmp(notes + pos + sizeof(h), "VMCOREINFO", sizeof("VMCOREINFO")))
			return pos + sizeof(h) + name;
		pos += sizeof(h) + name + ((h.n_descsz + 3ULL) & ~3ULL);
	}
	return 0;
}

/* As makedumpfile lays it out: the notes right after the sub-header, and
 * VMCOREINFO pointing at the text of the VMCOREINFO note among them (its
 * re-filtering relies on that). */
static void write_sub_header(struct kdump_ctx *c, const struct kdump_layout *l,
			     const uint8_t *notes)
{
	const struct dump_source *src = c->src;
	uint64_t off = KDUMP_BLOCK_SIZE + sizeof(struct kdump_sub_header);
	size_t vmcoreinfo = vmcoreinfo_in_notes(notes, l->notes_len);
	struct kdump_sub_header s = {
		.phys_base = src->phys_base, .dump_level = KDUMP_DL_EXCLUDE_ZERO,
		.end_pfn = l->max_mapnr, .end_pfn_64 = l->max_mapnr, .max_mapnr_64 = l->max_mapnr,
		.offset_note = off, .size_note = l->notes_len,
	};

	if (src->vmcoreinfo && vmcoreinfo) {
		s.offset_vmcoreinfo = off + vmcoreinfo;
		s.size_vmcoreinfo = src->vmcoreinfo_len;
	}
	dump_file_pwrite(c->f, notes, l->notes_len, off);
	dump_file_pwrite(c->f, &s, sizeof(s), KDUMP_BLOCK_SIZE);
}

/* Both bitmaps: every RAM page exists and is dumped (zero pages included,
 * through the shared zero block). */
static int write_bitmaps(struct kdump_ctx *c, const struct kdump_layout *l)
{
	uint8_t *bm = calloc(1, l->bitmap_len);

	if (!bm)
		return error("out of memory for the %llu KiB dump bitmap",
			     (unsigned long long)(l->bitmap_len >> 10));
	for (int i = 0; i < c->src->mem->nregions; i++) {
		const struct mem_region *r = &c->src->mem->regions[i];

		for (uint64_t pfn = r->gpa / KDUMP_BLOCK_SIZE;
		     pfn < (r->gpa + r->size) / KDUMP_BLOCK_SIZE; pfn++)
			bm[pfn / 8] |= (uint8_t)(1U << (pfn % 8));
	}
	dump_file_pwrite(c->f, bm, l->bitmap_len, l->bitmap_off);
	dump_file_pwrite(c->f, bm, l->bitmap_len, l->bitmap_off + l->bitmap_len);
	free(bm);
	return 0;
}

static void write_compressed(struct kdump_ctx *c, const uint8_t *pages, size_t npages)
{
	int used = compress_pool_run(&c->pool, pages, npages);

	for (int i = 0; i < used; i++) {
		const struct compress_slice *s = c->pool.slices[i];
		uint64_t pos = dump_stream_pos(&c->data);

		for (size_t j = 0; j < s->npages; j++) {
			struct kdump_page_desc d = { .offset = pos, .size = s->size[j],
						     .flags = s->flags[j] };

			dump_stream_write(&c->descs, &d, sizeof(d));
			pos += s->size[j];
		}
		dump_stream_write(&c->data, s->out, s->out_len);
	}
}

static int write_run(void *opaque, uint64_t gpa, const uint8_t *host, uint64_t len)
{
	struct kdump_ctx *c = opaque;

	for (uint64_t off = 0; off < len; off += POOL_MAX_PAGES * KDUMP_BLOCK_SIZE) {
		uint64_t n = len - off < POOL_MAX_PAGES * KDUMP_BLOCK_SIZE ?
			     len - off : POOL_MAX_PAGES * KDUMP_BLOCK_SIZE;

		if (host) {
			write_compressed(c, host + off, n / KDUMP_BLOCK_SIZE);
			continue;
		}
		for (uint64_t z = 0; z < n; z += KDUMP_BLOCK_SIZE)
			dump_stream_write(&c->descs, &c->zero_desc, sizeof(c->zero_desc));
	}
	dump_progress_add(c->progress, len);
	return c->f->err;
}

static int write_pages(struct kdump_ctx *c, const struct kdump_layout *l)
{
	static const uint8_t zero_page[KDUMP_BLOCK_SIZE];

	if (dump_stream_init(&c->descs, c->f, l->desc_off, DESC_BATCH * sizeof(struct kdump_page_desc)) ||
	    dump_stream_init(&c->data, c->f, l->data_off, 1 << 20))
		return -1;
	c->zero_desc = (struct kdump_page_desc){ .offset = l->data_off, .size = KDUMP_BLOCK_SIZE };
	dump_stream_write(&c->data, zero_page, sizeof(zero_page));
	for (int i = 0; i < c->src->mem->nregions && !c->f->err; i++)
		ram_walk_region(c->src->mem, &c->src->mem->regions[i], RUN_MAX, write_run, c);
	dump_stream_flush(&c->descs);
	dump_stream_flush(&c->data);
	return c->f->err ? -1 : 0;
}

int dump_write_kdump(const struct dump_source *src, struct dump_file *f,
		     struct dump_progress *progress)
{
	struct kdump_ctx *c = calloc(1, sizeof(*c));
	struct kdump_layout l;
	uint8_t *notes = NULL;
	size_t notes_len;
	int ret = -1;

	if (!c)
		return error("out of memory for the kdump writer");
	c->src = src;
	c->f = f;
	c->progress = progress;
	if (compress_pool_init(&c->pool, src->compression)) {
		free(c);
		return -1;
	}
	if (dump_notes_build(src, &notes, &notes_len))
		goto out;
	plan_layout(src, notes_len, &l);
	write_header(c, &l);
	write_sub_header(c, &l, notes);
	if (write_bitmaps(c, &l) == 0)
		ret = write_pages(c, &l);
out:
	dump_stream_free(&c->descs);
	dump_stream_free(&c->data);
	compress_pool_destroy(&c->pool);
	free(notes);
	free(c);
	return ret;
}
