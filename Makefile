# kvmini build: `make` builds build/kvmini and the test guests,
# `make test` builds a sanitized copy and runs the whole suite,
# `make demo` / `make check` first install what they need through apt.

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
BASEFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Isrc -MMD -MP -pthread
PYTHON  ?= /usr/bin/python3
LIBS    := -pthread -lutil -luring -lseccomp -lz -lzstd -llz4 -ljansson -lnettle

SRCS      := $(shell find src -name '*.c' | sort)
ASMS      := $(shell find src -name '*.S' | sort)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)

# Two flavours: build/ (release) and build/asan/ (ASan + UBSan, used by tests).
OBJ      = $(patsubst %.c,$(1)/obj/%.o,$(2))
REL_OBJS  := $(call OBJ,build,$(LIB_SRCS)) $(patsubst %.S,build/obj/%.o,$(ASMS))
ASAN_OBJS := $(call OBJ,build/asan,$(LIB_SRCS)) $(patsubst %.S,build/asan/obj/%.o,$(ASMS))
SANFLAGS  := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

UNIT_BINS := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRCS))

.PHONY: all test check demo deps test-deps clean guests fuzz
all: build/kvmini guests

include tests/guests/guests.mk

build/kvmini: $(REL_OBJS) build/obj/src/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

build/asan/kvmini: $(ASAN_OBJS) build/asan/obj/src/main.o
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CFLAGS) -c -o $@ $<

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -c -o $@ $<

# The demo guest is embedded into the monitor with .incbin.
build/obj/%.o: %.S $(GUEST_DEMO)
	@mkdir -p $(dir $@)
	$(CC) -c -Ibuild/guests -o $@ $<

build/asan/obj/%.o: %.S $(GUEST_DEMO)
	@mkdir -p $(dir $@)
	$(CC) -c -Ibuild/guests -o $@ $<

build/asan/tests/%: tests/unit/%.c $(ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -o $@ $< $(ASAN_OBJS) $(LIBS) -lcmocka

test: build/kvmini build/asan/kvmini guests $(UNIT_BINS)
	KVMINI=$(CURDIR)/build/asan/kvmini $(PYTHON) -m pytest -ra tests

# libFuzzer target for the NFS server's RPC/XDR decoding (needs clang).
FUZZ_SRCS := tests/fuzz/rpc_fuzz.c src/nfs/xdr.c src/nfs/rpc_msg.c src/nfs/rpc_record.c src/nfs/fh.c
fuzz: build/fuzz/rpc_fuzz

build/fuzz/rpc_fuzz: $(FUZZ_SRCS) $(wildcard src/nfs/*.h)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $@ $(FUZZ_SRCS) -lnettle

deps:
	scripts/install-deps.sh build

test-deps:
	scripts/install-deps.sh test

demo: deps
	$(MAKE) all
	build/kvmini run

check: test-deps
	$(MAKE) test

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
