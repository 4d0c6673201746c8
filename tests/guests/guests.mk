# guests.mk: build rules for the freestanding test guests (tests/guests/).
GUEST_CC     := gcc
GUEST_CFLAGS := -m64 -O2 -g -std=gnu11 -ffreestanding -fno-pic -fno-pie -no-pie \
	-fno-stack-protector -mno-red-zone -mgeneral-regs-only -fcf-protection=none \
	-fno-asynchronous-unwind-tables -fno-builtin -nostdlib -static \
	-Wall -Wextra -Werror -Wl,--build-id=none -Wl,-z,noexecstack
GUESTS       := bootcheck panicker gdbtarget virtio_blk virtio_mem virtio_balloon virtio_rng virtio_console virtio_net
GUEST_COMMON := tests/guests/start.S tests/guests/lib.c
GUEST_DEMO   := build/guests/bootcheck.elf

guests: $(foreach g,$(GUESTS),build/guests/$(g).elf build/guests/$(g).bzImage)

build/guests/%.elf: tests/guests/%.c $(GUEST_COMMON) tests/guests/lib.h tests/guests/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -T tests/guests/guest.ld -o $@ $(GUEST_COMMON) $<

build/guests/%.bzImage: build/guests/%.elf tests/guests/mkbzimage.py
	objcopy -O binary $< $@.flat
	python3 tests/guests/mkbzimage.py $@.flat \
		$$(($$(nm $< | awk '$$3 == "_end" { print "0x" $$1 }') - 0x100000)) $@
	rm -f $@.flat

# Guests that drive virtio devices link the polling virtio-pci driver.
VIO_GUESTS := virtio_blk virtio_mem virtio_balloon virtio_rng virtio_console virtio_net
$(foreach g,$(VIO_GUESTS),build/guests/$(g).elf): GUEST_COMMON += tests/guests/vio.c
$(foreach g,$(VIO_GUESTS),build/guests/$(g).elf): tests/guests/vio.c tests/guests/vio.h
