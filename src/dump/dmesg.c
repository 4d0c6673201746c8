/* dmesg.c: walks the guest's printk ring buffer (prb) in a dump, using only
 * the symbols, offsets and sizes its VMCOREINFO gives, translating kernel
 * virtual addresses through the dumped CR3 (or phys_base for kernel text). */
#include "dump/dmesg.h"

#include <stdlib.h>
#include <string.h>

#include "dump/note_format.h"
#include "dump/page_walk.h"
#include "dump/reader.h"
#include "util/log.h"

#define MAX_RECORDS (1U << 20)
#define TEXT_MAX 1024
#define DESC_STATE(sv) ((sv) >> 62)
#define DESC_ID(sv) ((sv) & ((1ULL << 62) - 1))
#define DESC_COMMITTED 1
#define DESC_FINALIZED 2

struct prb_layout {
	uint64_t prb_sym, phys_base, cr3, cr4, counter;
	uint64_t rb_desc_ring, rb_text_ring;
	uint64_t dr_count_bits, dr_descs, dr_infos, dr_head_id, dr_tail_id;
	uint64_t desc_size, desc_state_var, desc_text_blk;
	uint64_t blk_begin, blk_next;
	uint64_t info_size, info_ts_nsec, info_text_len;
	uint64_t data_size_bits, data_data;
};

struct prb_reader {
	struct dump_reader *r;
	struct prb_layout l;
	uint64_t descs, infos, data, count, data_size;
};

static int vmci(const char *text, const char *key, int base, uint64_t *out)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p += !!p) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			char *end;

			*out = strtoull(p + klen + 1, &end, base);
			return end == p + klen + 1 ? -1 : 0;
		}
	}
	return -1;
}

static int find_cr3(struct dump_reader *r, struct prb_layout *l)
{
	struct dump_note n;
	size_t pos = 0;

	while (dump_reader_next_note(r, &pos, &n)) {
		struct qemu_cpu_state q;

		if (strcmp(n.name, "QEMU") || n.desc_len < __builtin_offsetof(struct qemu_cpu_state,
									  kernel_gs_base))
			continue;
		memcpy(&q, n.desc, __builtin_offsetof(struct qemu_cpu_state, kernel_gs_base));
		if (q.cr[3]) {
			l->cr3 = q.cr[3];
			l->cr4 = q.cr[4];
			return 0;
		}
	}
	return -1;
}

static int load_layout(struct dump_reader *r, struct prb_layout *l)
{
	const char *t = r->vmcoreinfo;
	int bad = 0;

	memset(l, 0, sizeof(*l));
	bad |= vmci(t, "SYMBOL(prb)", 16, &l->prb_sym);
	bad |= vmci(t, "OFFSET(printk_ringbuffer.desc_ring)", 10, &l->rb_desc_ring);
	bad |= vmci(t, "OFFSET(printk_ringbuffer.text_data_ring)", 10, &l->rb_text_ring);
	bad |= vmci(t, "OFFSET(prb_desc_ring.count_bits)", 10, &l->dr_count_bits);
	bad |= vmci(t, "OFFSET(prb_desc_ring.descs)", 10, &l->dr_descs);
	bad |= vmci(t, "OFFSET(prb_desc_ring.infos)", 10, &l->dr_infos);
	bad |= vmci(t, "OFFSET(prb_desc_ring.head_id)", 10, &l->dr_head_id);
	bad |= vmci(t, "OFFSET(prb_desc_ring.tail_id)", 10, &l->dr_tail_id);
	bad |= vmci(t, "SIZE(prb_desc)", 10, &l->desc_size);
	bad |= vmci(t, "OFFSET(prb_desc.state_var)", 10, &l->desc_state_var);
	bad |= vmci(t, "OFFSET(prb_desc.text_blk_lpos)", 10, &l->desc_text_blk);
	bad |= vmci(t, "OFFSET(prb_data_blk_lpos.begin)", 10, &l->blk_begin);
	bad |= vmci(t, "OFFSET(prb_data_blk_lpos.next)", 10, &l->blk_next);
	bad |= vmci(t, "SIZE(printk_info)", 10, &l->info_size);
	bad |= vmci(t, "OFFSET(printk_info.ts_nsec)", 10, &l->info_ts_nsec);
	bad |= vmci(t, "OFFSET(printk_info.text_len)", 10, &l->info_text_len);
	bad |= vmci(t, "OFFSET(prb_data_ring.size_bits)", 10, &l->data_size_bits);
	bad |= vmci(t, "OFFSET(prb_data_ring.data)", 10, &l->data_data);
	if (vmci(t, "NUMBER(phys_base)", 10, &l->phys_base))
		l->phys_base = 0;
	if (vmci(t, "OFFSET(atomic_long_t.counter)", 10, &l->counter))
		l->counter = 0;
	return bad ? -1 : 0;
}

static int read_phys(void *ctx, uint64_t pa, void *buf, uint64_t len)
{
	return dump_reader_read(ctx, pa, buf, len);
}

static int read_virt(struct prb_reader *p, uint64_t va, void *buf, uint64_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t n = 4096 - (va & 4095), pa;

		n = n < len ? n : len;
		if (page_walk(read_phys, p->r, p->l.cr3, p->l.cr4, va, &pa)) {
			if (va < X86_START_KERNEL_MAP)
				return -1;
			pa = va - X86_START_KERNEL_MAP + p->l.phys_base;
		}
		if (dump_reader_read(p->r, pa, out, n))
			return -1;
		out += n;
		va += n;
		len -= n;
	}
	return 0;
}

static uint64_t read_u64(struct prb_reader *p, uint64_t va, int *bad)
{
	uint64_t v = 0;

	*bad |= read_virt(p, va, &v, sizeof(v));
	return v;
}

static int open_ring(struct prb_reader *p, uint64_t *head, uint64_t *tail)
{
	int bad = 0;
	uint64_t prb = read_u64(p, p->l.prb_sym, &bad);
	uint64_t dr = prb + p->l.rb_desc_ring, tr = prb + p->l.rb_text_ring;
	uint32_t count_bits = 0, size_bits = 0;

	bad |= read_virt(p, dr + p->l.dr_count_bits, &count_bits, 4);
	bad |= read_virt(p, tr + p->l.data_size_bits, &size_bits, 4);
	p->descs = read_u64(p, dr + p->l.dr_descs, &bad);
	p->infos = read_u64(p, dr + p->l.dr_infos, &bad);
	*head = read_u64(p, dr + p->l.dr_head_id + p->l.counter, &bad);
	*tail = read_u64(p, dr + p->l.dr_tail_id + p->l.counter, &bad);
	p->data = read_u64(p, tr + p->l.data_data, &bad);
	if (bad || count_bits > 30 || size_bits > 40 || size_bits < 4)
		return -1;
	p->count = 1ULL << count_bits;
	p->data_size = 1ULL << size_bits;
	return 0;
}

/* One record's text and timestamp; -1 if it is not a complete record. */
static int read_record(struct prb_reader *p, uint64_t id, char *text, uint64_t *ts)
{
	uint64_t idx = id & (p->count - 1), desc = p->descs + idx * p->l.desc_size;
	uint64_t info = p->infos + idx * p->l.info_size, begin, next, off, size;
	int bad = 0;
	uint64_t sv = read_u64(p, desc + p->l.desc_state_var + p->l.counter, &bad);
	uint16_t len = 0;

	if (bad || DESC_ID(sv) != DESC_ID(id) ||
	    (DESC_STATE(sv) != DESC_COMMITTED && DESC_STATE(sv) != DESC_FINALIZED))
		return -1;
	begin = read_u64(p, desc + p->l.desc_text_blk + p->l.blk_begin, &bad);
	next = read_u64(p, desc + p->l.desc_text_blk + p->l.blk_next, &bad);
	*ts = read_u64(p, info + p->l.info_ts_nsec, &bad);
	bad |= read_virt(p, info + p->l.info_text_len, &len, sizeof(len));
	if (bad || (begin & 1 && next & 1))
		return -1;
	if (begin / p->data_size == next / p->data_size && begin < next) {
		off = begin % p->data_size;
		size = next - begin;
	} else if ((begin + p->data_size) / p->data_size == next / p->data_size) {
		off = 0;
		size = next % p->data_size;
	} else {
		return -1;
	}
	if (size < 8)
		return -1;
	size = size - 8 < len ? size - 8 : len;
	size = size < TEXT_MAX - 1 ? size : TEXT_MAX - 1;
	if (read_virt(p, p->data + off + 8, text, size))
		return -1;
	text[size] = 0;
	return 0;
}

static void print_records(struct prb_reader *p, FILE *out, uint64_t first, uint64_t last)
{
	char text[TEXT_MAX];

	for (uint64_t id = first; id != last + 1; id++) {
		uint64_t ts;

		if (read_record(p, id, text, &ts))
			continue;
		char *save = NULL;

		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			fprintf(out, "  [%5llu.%06llu] %s\n", (unsigned long long)(ts / 1000000000),
				(unsigned long long)(ts % 1000000000 / 1000), line);
	}
}

int dump_print_dmesg(struct dump_reader *r, FILE *out, int max_lines)
{
	struct prb_reader p = { .r = r };
	uint64_t head, tail, first;

	if (!r->vmcoreinfo)
		return -1;
	if (load_layout(r, &p.l))
		return error("the dump's VMCOREINFO does not describe a printk ring buffer "
			     "(Linux 5.10 or later)");
	if (find_cr3(r, &p.l) || open_ring(&p, &head, &tail))
		return error("the printk ring buffer that VMCOREINFO points to cannot be read");
	if (head - tail >= p.count || head - tail >= MAX_RECORDS)
		return error("the printk ring buffer's head and tail ids are inconsistent");
	first = head - tail >= (uint64_t)max_lines ? head - (uint64_t)max_lines + 1 : tail;
	print_records(&p, out, first, head);
	return 0;
}
