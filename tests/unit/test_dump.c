/* test_dump.c: the dumper without KVM: a guest that reports two crashes gets
 * one dump; fw_cfg's etc/vmcoreinfo and DMA checks; malformed VMCOREINFO. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/devices.h"
#include "devices/fw_cfg.h"
#include "dump/dump.h"
#include "dump/dump_source.h"
#include "dump/vmcoreinfo.h"
#include "vm/vm.h"

static struct vm *make_vm(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	assert_non_null(vm);
	vm->kvm_fd = vm->vm_fd = vm->signal_fd = -1;
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	io_bus_init(&vm->pio);
	io_bus_init(&vm->mmio);
	assert_int_equal(event_loop_init(&vm->loop), 0);
	vm->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_int_equal(guest_memory_create(&vm->mem, 32ULL << 20), 0);
	return vm;
}

static void free_vm(struct vm *vm)
{
	assert_int_equal(vm_destroy(vm), 0);
	free(vm);
}

static int count_files(const char *dir, const char *suffix, int *hidden)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), slen = strlen(suffix);

		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			(*hidden)++;
		else if (len > slen && !strcmp(e->d_name + len - slen, suffix))
			n++;
	}
	closedir(d);
	return n;
}

static void remove_dir(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void second_crash_is_not_dumped(void **state)
{
	char dir[] = "/tmp/kvmini-dump-test.XXXXXX";
	struct vm *vm = make_vm();
	struct dump_options o;
	struct dumper *d;
	int hidden = 0;

	assert_non_null(mkdtemp(dir));
	dump_options_default(&o);
	o.dir = dir;
	o.formats = DUMP_FORMAT_ELF | DUMP_FORMAT_KDUMP;
	d = dumper_create(vm, &o);
	assert_non_null(d);
	vm_guest_event(vm, NULL, VM_EVENT_PANIC, EXIT_GUEST_PANIC);
	vm_guest_event(vm, NULL, VM_EVENT_TRIPLE_FAULT, EXIT_TRIPLE_FAULT);
	assert_int_equal(vm->exit_status, EXIT_GUEST_PANIC);
	assert_int_equal(count_files(dir, "-panic.elf", &hidden), 1);
	assert_int_equal(count_files(dir, "-panic.kdump", &hidden), 1);
	assert_int_equal(count_files(dir, "-triple-fault.kdump", &hidden), 0);
	assert_int_equal(hidden, 0);
	dumper_stop(d);
	free_vm(vm);
	remove_dir(dir);
}

static void stop_loop(void *opaque, uint32_t events)
{
	event_loop_stop(opaque);
}

static void *run_loop(void *opaque)
{
	struct vm *vm = opaque;

	event_loop_run(&vm->loop);
	return NULL;
}

/* Waits (at most 10 s) until `fd` has given `text`. */
static void wait_for_text(int fd, const char *text)
{
	char buf[8192] = "";
	size_t len = 0;

	for (int i = 0; i < 1000 && !strstr(buf, text); i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10) == 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		buf[len] = 0;
	}
	assert_non_null(strstr(buf, text));
}

/* A panic while a SIGUSR1 dump is being written (held in vm_pause here) is
 * dumped right after it, then the VM ends with the panic status. */
static void crash_during_requested_dump(void **state)
{
	char dir[] = "/tmp/kvmini-dump-test.XXXXXX";
	struct vm *vm = make_vm();
	struct dump_options o;
	struct dumper *d;
	pthread_t loop;
	int err_pipe[2], saved_err, hidden = 0;

	assert_non_null(mkdtemp(dir));
	dump_options_default(&o);
	o.dir = dir;
	d = dumper_create(vm, &o);
	assert_non_null(d);
	assert_int_equal(event_loop_add(&vm->loop, vm->exit_fd, EPOLLIN, stop_loop, &vm->loop), 0);
	assert_int_equal(pipe2(err_pipe, O_NONBLOCK), 0);
	saved_err = dup(2);
	dup2(err_pipe[1], 2);
	pthread_mutex_lock(&vm->pause_lock);
	assert_int_equal(pthread_create(&loop, NULL, run_loop, vm), 0);
	kill(getpid(), SIGUSR1);
	wait_for_text(err_pipe[0], "dump (request): stopping the guest");
	vm_guest_event(vm, NULL, VM_EVENT_PANIC, EXIT_GUEST_PANIC); /* returns: pending */
	pthread_mutex_unlock(&vm->pause_lock);
	pthread_join(loop, NULL);
	dumper_stop(d);
	dup2(saved_err, 2);
	close(saved_err);
	close(err_pipe[0]);
	close(err_pipe[1]);
	assert_int_equal(vm->exit_status, EXIT_GUEST_PANIC);
	assert_int_equal(count_files(dir, "-request.kdump", &hidden), 1);
	assert_int_equal(count_files(dir, "-panic.kdump", &hidden), 1);
	assert_int_equal(hidden, 0);
	free_vm(vm);
	remove_dir(dir);
}

static void missing_dir_is_refused(void **state)
{
	struct vm *vm = make_vm();
	struct dump_options o;

	dump_options_default(&o);
	o.dir = "/nonexistent/kvmini-dumps";
	assert_null(dumper_create(vm, &o));
	free_vm(vm);
}

static void io(struct vm *vm, uint16_t port, void *data, uint32_t len, bool is_write)
{
	io_bus_access(&vm->pio, port, data, len, is_write);
}

static void dma(struct vm *vm, uint64_t desc_addr)
{
	uint32_t hi = __builtin_bswap32((uint32_t)(desc_addr >> 32));
	uint32_t lo = __builtin_bswap32((uint32_t)desc_addr);

	io(vm, 0x514, &hi, 4, true);
	io(vm, 0x518, &lo, 4, true);
}

struct dma_desc { uint32_t control, length; uint64_t address; } __attribute__((packed));

static uint32_t run_dma(struct vm *vm, uint32_t control, uint32_t len, uint64_t addr)
{
	struct dma_desc d = { __builtin_bswap32(control), __builtin_bswap32(len),
			      __builtin_bswap64(addr) };

	assert_int_equal(guest_write(&vm->mem, 0x1000, &d, sizeof(d)), 0);
	dma(vm, 0x1000);
	assert_int_equal(guest_read(&vm->mem, 0x1000, &d, sizeof(d)), 0);
	return __builtin_bswap32(d.control);
}

static void fw_cfg_vmcoreinfo_descriptor(void **state)
{
	struct vm *vm = make_vm();
	uint8_t sig[4];
	uint16_t key = 0;
	uint8_t desc[16] = { 0 };
	uint64_t paddr;
	uint32_t size;

	assert_int_equal(fw_cfg_device.init(vm), 0);
	io(vm, 0x510, &key, 2, true);
	for (int i = 0; i < 4; i++)
		io(vm, 0x511, &sig[i], 1, false);
	assert_memory_equal(sig, "QEMU", 4);
	assert_int_equal(fw_cfg_vmcoreinfo(vm, &paddr, &size), -1);
	/* a read of the file gives the host format (ELF) */
	assert_int_equal(run_dma(vm, 0x20 << 16 | 0x08 | 0x02, 16, 0x2000), 0);
	assert_int_equal(guest_read(&vm->mem, 0x2000, desc, 16), 0);
	assert_int_equal(desc[0], 1);
	/* the guest writes its descriptor */
	desc[2] = 1;
	desc[4] = 0x40;
	desc[8] = 0x00, desc[9] = 0x30;
	assert_int_equal(guest_write(&vm->mem, 0x2000, desc, 16), 0);
	assert_int_equal(run_dma(vm, 0x20 << 16 | 0x08 | 0x10, 16, 0x2000), 0);
	assert_int_equal(fw_cfg_vmcoreinfo(vm, &paddr, &size), 0);
	assert_int_equal(paddr, 0x3000);
	assert_int_equal(size, 0x40);
	/* bad requests: beyond the file, read-only item, outside RAM */
	assert_int_equal(run_dma(vm, 0x20 << 16 | 0x08 | 0x10, 17, 0x2000), 1);
	assert_int_equal(run_dma(vm, 0x00 << 16 | 0x08 | 0x10, 4, 0x2000), 1);
	assert_int_equal(run_dma(vm, 0x20 << 16 | 0x08 | 0x02, 16, 64ULL << 20), 1);
	assert_int_equal(run_dma(vm, 0x20 << 16 | 0x08 | 0x02, 16, UINT64_MAX - 4), 1);
	assert_int_equal(run_dma(vm, 0x20 << 16 | 0x08 | 0x02, 0xffffffff, 0x2000), 1);
	dma(vm, 1ULL << 40); /* descriptor outside RAM: ignored */
	free_vm(vm);
}

static void write_note(struct vm *vm, uint64_t at, uint32_t namesz, uint32_t descsz,
		       const char *text)
{
	Elf64_Nhdr h = { namesz, descsz, 0 };

	guest_write(&vm->mem, at, &h, sizeof(h));
	guest_write(&vm->mem, at + sizeof(h), "VMCOREINFO\0\0", 12);
	guest_write(&vm->mem, at + sizeof(h) + 12, text, strlen(text));
}

static void set_descriptor(struct vm *vm, uint64_t paddr, uint32_t size)
{
	uint8_t desc[16] = { 0 };

	desc[2] = 1;
	memcpy(desc + 4, &size, 4);
	memcpy(desc + 8, &paddr, 8);
	guest_write(&vm->mem, 0x2000, desc, 16);
	assert_int_equal(run_dma(vm, 0x20 << 16 | 0x08 | 0x10, 16, 0x2000), 0);
}

static void vmcoreinfo_is_checked(void **state)
{
	struct vm *vm = make_vm();
	struct dump_source src = { 0 };
	const char *text = "OSRELEASE=6.1.0\nNUMBER(phys_base)=2097152\nKERNELOFFSET=1c000000\n";

	assert_int_equal(fw_cfg_device.init(vm), 0);
	write_note(vm, 0x4000, 11, (uint32_t)strlen(text), text);
	set_descriptor(vm, 0x4000, 4096);
	assert_int_equal(dump_read_vmcoreinfo(vm, &src), 0);
	assert_string_equal(src.vmcoreinfo, text);
	src.mem = &vm->mem;
	dump_source_derive(&src);
	assert_true(src.have_phys_base && src.have_kaslr);
	assert_int_equal(src.phys_base, 2097152);
	assert_int_equal(src.kaslr_offset, 0x1c000000);
	assert_string_equal(src.osrelease, "6.1.0");
	free(src.vmcoreinfo);
	src.vmcoreinfo = NULL;
	/* a descsz beyond the declared size, a wrong name, an address beyond RAM */
	write_note(vm, 0x4000, 11, 5000, text);
	assert_int_equal(dump_read_vmcoreinfo(vm, &src), -1);
	write_note(vm, 0x4000, 7, 10, text);
	assert_int_equal(dump_read_vmcoreinfo(vm, &src), -1);
	set_descriptor(vm, (32ULL << 20) - 8, 4096);
	assert_int_equal(dump_read_vmcoreinfo(vm, &src), -1);
	set_descriptor(vm, 0x4000, 1U << 30);
	assert_int_equal(dump_read_vmcoreinfo(vm, &src), -1);
	assert_null(src.vmcoreinfo);
	free_vm(vm);
}

static void put64(struct vm *vm, uint64_t pa, uint64_t v)
{
	assert_int_equal(guest_write(&vm->mem, pa, &v, sizeof(v)), 0);
}

/* A kernel whose text at 0xffffffff81000000 lies at 0x1200000 (phys_base
 * 0x200000), mapped with 2 MiB pages, and an IDT at a 4 KiB-mapped alias:
 * phys_base comes from the first gate through the page tables. */
static void phys_base_from_the_idt(void **state)
{
	struct vm *vm = make_vm();
	struct dump_cpu cpu = { 0 };
	struct dump_source src = { .mem = &vm->mem, .ncpus = 1, .cpus = &cpu, .crashing_cpu = 0 };
	uint64_t text = 0xffffffff81000000ULL, handler = text + 0x1230;
	uint64_t idt_va = 0xfffffe0000000000ULL, idt_pa = 0x1400000;
	uint64_t gate_lo = (handler & 0xffff) | (0x10ULL << 16) | (0x8eULL << 40) |
			   ((handler >> 16) & 0xffff) << 48;

	/* PML4 0x10000; kernel text: PDPT 0x11000, PD 0x12000 */
	put64(vm, 0x10000 + 511 * 8, 0x11000 | 3);
	put64(vm, 0x11000 + 510 * 8, 0x12000 | 3);
	put64(vm, 0x12000 + 8 * 8, 0x1200000 | 0x83);
	/* IDT alias: PDPT 0x13000, PD 0x14000, PT 0x15000 */
	put64(vm, 0x10000 + 508 * 8, 0x13000 | 3);
	put64(vm, 0x13000, 0x14000 | 3);
	put64(vm, 0x14000, 0x15000 | 3);
	put64(vm, 0x15000, idt_pa | 3);
	put64(vm, idt_pa, gate_lo);
	put64(vm, idt_pa + 8, handler >> 32);
	cpu.sregs.cr0 = 0x80000011;
	cpu.sregs.efer = 0x500;
	cpu.sregs.cr3 = 0x10000;
	cpu.sregs.idt.base = idt_va;
	cpu.sregs.idt.limit = 0xfff;
	dump_source_derive(&src);
	assert_true(src.have_phys_base && src.phys_base_from_idt && !src.have_kaslr);
	assert_int_equal(src.phys_base, 0x200000);
	/* no paging: nothing derived */
	src = (struct dump_source){ .mem = &vm->mem, .ncpus = 1, .cpus = &cpu };
	cpu.sregs.cr0 = 0x11;
	dump_source_derive(&src);
	assert_false(src.have_phys_base);
	/* a gate pointing outside kernel text or tables outside RAM: nothing */
	cpu.sregs.cr0 = 0x80000011;
	cpu.sregs.cr3 = 0x7ffff000ULL;
	dump_source_derive(&src);
	assert_false(src.have_phys_base);
	free_vm(vm);
}

static void option_parsing(void **state)
{
	struct dump_options o;

	dump_options_default(&o);
	assert_true(o.on_panic && o.on_triple_fault);
	assert_int_equal(o.formats, DUMP_FORMAT_KDUMP);
	assert_int_equal(dump_parse_on(&o, "triple-fault"), 0);
	assert_true(!o.on_panic && o.on_triple_fault);
	assert_int_equal(dump_parse_on(&o, "panic,triple-fault"), 0);
	assert_true(o.on_panic && o.on_triple_fault);
	assert_int_equal(dump_parse_on(&o, "panicky"), -1);
	assert_int_equal(dump_parse_format(&o, "both"), 0);
	assert_int_equal(o.formats, DUMP_FORMAT_ELF | DUMP_FORMAT_KDUMP);
	assert_int_equal(dump_parse_format(&o, "raw"), -1);
	assert_int_equal(dump_parse_compression(&o, "zlib"), 0);
	assert_int_equal(o.compression, DUMP_COMPRESS_ZLIB);
	assert_int_equal(dump_parse_compression(&o, "lz4"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(second_crash_is_not_dumped),
		cmocka_unit_test(crash_during_requested_dump),
		cmocka_unit_test(missing_dir_is_refused),
		cmocka_unit_test(fw_cfg_vmcoreinfo_descriptor),
		cmocka_unit_test(vmcoreinfo_is_checked),
		cmocka_unit_test(phys_base_from_the_idt),
		cmocka_unit_test(option_parsing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
