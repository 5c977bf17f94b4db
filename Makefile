# bpfstub - a GDB/LLDB remote stub that never stops the target.
#
#   make             build ./bpfstub
#   make check       the layers check, unit tests, a short fuzz run, then the
#                    tests with real gdb/lldb/BPF
#   make layers      circles, upward arrows and long files (scripts/layers.py)
#   make SAN=1 check the same under ASan + UBSan
#   make fuzz        build the libFuzzer targets (clang)
#   make install PREFIX=/usr/local
#   make demo        launch a demo program, attach, show a live GDB session

CC       ?= cc
CLANG    ?= clang
PREFIX   ?= /usr/local
VERSION  := 0.1.0
BUILD    := build
O        := $(BUILD)/$(if $(SAN),san,rel)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE \
	    -DBPFSTUB_VERSION='"$(VERSION)"' -I.
ifneq ($(SAN),)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif
LDLIBS   += $(shell pkg-config --libs libbpf libdw libelf libdebuginfod capstone 2>/dev/null || echo -lbpf -ldw -lelf -ldebuginfod -lcapstone) -lz -lstdc++ -pthread

RSP_SRCS  := $(wildcard rsp/*.c)
STUB_SRCS := $(filter-out stub/serve/main.c,$(wildcard stub/*/*.c))
BPF_SRCS  := $(wildcard bpf/*.c)
LIB_SRCS  := $(RSP_SRCS) $(STUB_SRCS) $(BPF_SRCS)
LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/%.o)
RSP_OBJS  := $(RSP_SRCS:%.c=$(O)/%.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 10

.PHONY: bpfstub all check layers unit fuzz fuzz-smoke integration install clean demo bench targets

all: bpfstub

bpfstub: $(O)/bpfstub
	cp $< $@.tmp && mv -f $@.tmp $@

$(O)/bpfstub: $(O)/stub/serve/main.o $(LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The unit tests that attach BPF to a live victim share its launch and the
# ring buffer's records (tests/unit/bpf_victim.c).
VICTIM_TESTS := test_bpf test_ax_bpf test_fpchain
$(VICTIM_TESTS:%=$(O)/tests/%): $(O)/tests/unit/bpf_victim.o

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# libFuzzer targets link only the pure sources: rsp/, the agent expression
# compiler with its emitter and record walker (no libbpf), and the SDT note
# parser, the Go function table and build info readers, the frame-pointer walk.
FUZZ_BPF_SRCS  := $(wildcard bpf/agentx*.c) bpf/ax.c bpf/ax_check.c bpf/emit.c bpf/record.c
FUZZ_STUB_SRCS := stub/program/sdt_note.c stub/serve/peer.c stub/program/gopclntab.c \
		  stub/views/fpstack.c \
		  stub/program/gobuildinfo.c
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(RSP_SRCS) $(FUZZ_BPF_SRCS) $(FUZZ_STUB_SRCS)
	@mkdir -p $(dir $@)
	$(CLANG) -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
		-o $@ $^

# The DWARF fuzzer also takes the DWARF layer and the deep-collection planner,
# with libdw and libelf (and target.c, which the layer's cache calls, and the
# program context with its SDT notes and debuginfod client, which deep.c takes
# its DWARF from, and the system call helpers).
SYM_SRCS := stub/program/elfimg.c stub/program/symtab.c stub/program/dwp.c
$(BUILD)/fuzz/fuzz_dwarf: tests/fuzz/fuzz_dwarf.c $(RSP_SRCS) $(FUZZ_BPF_SRCS) stub/program/dwarf.c stub/program/dwarf_lookup.c \
		stub/program/gosym.c stub/program/gopclntab.c stub/program/gopclntab_elf.c stub/program/gobuildinfo.c \
		stub/program/dwarf_rust.c stub/program/dwarf_types.c stub/program/layout.c stub/program/debuginfo.c \
		stub/program/dwarf_cache.c stub/program/dwarf_split.c $(SYM_SRCS) stub/trace/deep.c \
		stub/program/target.c stub/program/tgtns.c stub/program/program.c stub/program/sdt.c stub/program/sdt_note.c \
		stub/base/sys.c
	@mkdir -p $(dir $@)
	$(CLANG) -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
		-o $@ $^ -ldw -lelf -ldebuginfod -lstdc++ -lz

# The symbol table, ELF section and .dwp readers (pure), with libstdc++'s demangler.
$(BUILD)/fuzz/fuzz_symtab: tests/fuzz/fuzz_symtab.c rsp/buf.c $(SYM_SRCS)
	@mkdir -p $(dir $@)
	$(CLANG) -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
		-o $@ $^ -lstdc++

fuzz: $(FUZZ_BINS)

fuzz-smoke: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
		echo "== $$n ($(FUZZ_SECONDS)s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=0 \
			$(BUILD)/fuzz/corpus-$$n tests/fuzz/seeds 2>&1 | tail -n 2; \
	done

targets:
	$(MAKE) -C tests/targets

integration: bpfstub targets
	BPFSTUB_SAN=$(SAN) python3 tests/run.py

# The object graph from the objects' own symbols: fails on any circle, any
# arrow from a lower layer to a higher one, any source file past 1,300 lines.
layers: bpfstub
	python3 scripts/layers.py $(O)

check: bpfstub
	$(MAKE) layers
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) integration

demo: bpfstub targets
	bash scripts/demo.sh

$(BUILD)/bench/loop: bench/loop.c bench/bench_push.h bench/bench_clock.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -I. -fno-pie -no-pie -o $@ $< -lpthread

$(BUILD)/bench/empty_probe: bench/empty_probe.c $(filter $(O)/bpf/% $(O)/rsp/buf.o,$(LIB_OBJS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A frame's user-space cost: record walk, store append, page faults.
$(BUILD)/bench/store_cost: bench/store_cost.c $(O)/bpf/record.o $(O)/stub/trace/framestore.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(BUILD)/bench/httpload: bench/httpload.c bench/bench_clock.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

# Reading a Go binary's function table (bench/gopclntab.py builds the binary).
$(BUILD)/bench/gopclntab: bench/gopclntab.c stub/program/gopclntab.c stub/program/gobuildinfo.c \
		stub/program/gopclntab_elf.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lelf

bench: bpfstub targets $(BUILD)/bench/loop $(BUILD)/bench/empty_probe $(BUILD)/bench/httpload
	python3 bench/run.py
	python3 bench/service.py
	python3 bench/many_tp.py
	python3 bench/symbols.py
	python3 bench/debuginfod.py
	python3 bench/gopclntab.py
	python3 bench/multiproc.py
	python3 bench/latency_clock.py

install: bpfstub
	install -D -m 0755 bpfstub $(DESTDIR)$(PREFIX)/bin/bpfstub

clean:
	rm -rf $(BUILD) bpfstub
	$(MAKE) -C tests/targets clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
