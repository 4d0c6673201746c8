/* rtc.c: the MC146818 CMOS real-time clock at 0x70/0x71: host UTC time in
 * BCD or binary, status registers, and the memory sizes firmware stores. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/devices.h"
#include "util/log.h"
#include "vm/vm.h"

#define RTC_INDEX 0x70
#define RTC_DATA  0x71

#define REG_SEC 0x00
#define REG_MIN 0x02
#define REG_HOUR 0x04
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MON 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32
#define REG_B_BINARY 0x04
#define REG_B_24H 0x02

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];
};

static uint8_t to_bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t clock_reg(const struct rtc *r, uint8_t idx)
{
	time_t now = time(NULL);
	struct tm tm;
	int v;

	gmtime_r(&now, &tm);
	switch (idx) {
	case REG_SEC: v = tm.tm_sec; break;
	case REG_MIN: v = tm.tm_min; break;
	case REG_HOUR: v = tm.tm_hour; break;
	case REG_WDAY: v = tm.tm_wday + 1; break;
	case REG_MDAY: v = tm.tm_mday; break;
	case REG_MON: v = tm.tm_mon + 1; break;
	case REG_YEAR: v = tm.tm_year % 100; break;
	default: v = 19 + tm.tm_year / 100; break; /* century */
	}
	return (r->cmos[REG_B] & REG_B_BINARY) ? (uint8_t)v : to_bcd(v);
}

static bool is_clock_reg(uint8_t idx)
{
	return idx == REG_SEC || idx == REG_MIN || idx == REG_HOUR || idx == REG_CENTURY ||
	       (idx >= REG_WDAY && idx <= REG_YEAR);
}

static void rtc_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	if (off == 0) {
		if (is_write)
			r->index = data[0] & 0x7f; /* bit 7 masks NMIs */
		else
			memset(data, 0xff, len);
	} else if (is_write) {
		if (r->index != REG_C && r->index != REG_D && !is_clock_reg(r->index))
			r->cmos[r->index] = data[0];
	} else {
		memset(data, 0, len);
		data[0] = is_clock_reg(r->index) ? clock_reg(r, r->index) : r->cmos[r->index];
		if (r->index == REG_C)
			r->cmos[REG_C] = 0; /* reading C acknowledges interrupts */
	}
	pthread_mutex_unlock(&r->lock);
}

/* Memory sizes in the places BIOSes put them (QEMU's layout). */
static void store_memory_sizes(struct rtc *r, const struct guest_memory *mem)
{
	uint64_t low = mem->regions[0].size, high = mem->size - low;
	uint64_t ext_kib = low > (1ULL << 20) ? (low - (1ULL << 20)) >> 10 : 0;
	uint64_t above16 = low > (16ULL << 20) ? (low - (16ULL << 20)) >> 16 : 0;

	if (ext_kib > 0xffff)
		ext_kib = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	r->cmos[0x15] = 0x80; /* 640 KiB base memory */
	r->cmos[0x16] = 0x02;
	r->cmos[0x17] = r->cmos[0x30] = (uint8_t)ext_kib;
	r->cmos[0x18] = r->cmos[0x31] = (uint8_t)(ext_kib >> 8);
	r->cmos[0x34] = (uint8_t)above16;
	r->cmos[0x35] = (uint8_t)(above16 >> 8);
	high >>= 16;
	r->cmos[0x5b] = (uint8_t)high;
	r->cmos[0x5c] = (uint8_t)(high >> 8);
	r->cmos[0x5d] = (uint8_t)(high >> 16);
}

static int rtc_init(struct vm *vm)
{
	struct rtc *r = vm_zalloc(vm, sizeof(*r));

	if (!r)
		return error("out of memory for the RTC");
	pthread_mutex_init(&r->lock, NULL);
	r->cmos[REG_A] = 0x26; /* 32.768 kHz, 1024 Hz rate, no update in progress */
	r->cmos[REG_B] = REG_B_24H;
	r->cmos[REG_D] = 0x80; /* valid RAM and time */
	store_memory_sizes(r, &vm->mem);
	return io_bus_register(&vm->pio, RTC_INDEX, 2, rtc_io, r);
}

const struct device_ops rtc_device = { .name = "CMOS RTC", .init = rtc_init };
