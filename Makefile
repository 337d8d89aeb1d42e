# espimg - one non-recursive Makefile for the library, tools, tests,
# man pages, fuzzers and benchmarks.  See README.md.

VERSION     := 0.1.0
SOVERSION   := 0

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR     ?=

CC          ?= cc
AR          ?= ar
PKG_CONFIG  ?= pkg-config
INSTALL     ?= install

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wwrite-strings -Wformat=2 -Wundef -Wpointer-arith -Wcast-qual \
	-Wvla -Wno-unused-parameter
ifneq ($(CI),)
WERROR ?= 1
endif
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

OPTFLAGS ?= -O2 -g
CFLAGS   ?= $(OPTFLAGS)
BUILD    ?= build
ifeq ($(SANITIZE),1)
BUILD    := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
endif

DEPS_PKGS := libcrypto yaml-0.1 zlib
DEPS_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(DEPS_PKGS))
DEPS_LIBS   = $(shell $(PKG_CONFIG) --libs $(DEPS_PKGS))
CRIT_CFLAGS = $(shell $(PKG_CONFIG) --cflags criterion)
CRIT_LIBS   = $(shell $(PKG_CONFIG) --libs criterion)

ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-Iinclude -Isrc/lib $(WARNINGS) $(SANFLAGS) $(DEPS_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

LIB_SRCS  := $(sort $(wildcard src/lib/*.c))
LIB_OBJS  := $(LIB_SRCS:src/lib/%.c=$(BUILD)/lib/%.o)
TOOL_SRCS := $(filter-out src/tools/tool.c,$(sort $(wildcard src/tools/*.c)))
TOOLS     := $(TOOL_SRCS:src/tools/%.c=%)
TOOL_BINS := $(TOOLS:%=$(BUILD)/bin/%)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
MAN_PAGES := $(sort $(wildcard man/man*/*.[0-9]))
HEADERS   := $(sort $(wildcard include/espimg/*.h))

STATIC_LIB := $(BUILD)/libespimg.a
SHARED_LIB := $(BUILD)/libespimg.so.$(VERSION)
SONAME     := libespimg.so.$(SOVERSION)

.PHONY: all deps check check-unit check-cli check-conformance demo install synth \
	uninstall clean bench fuzz fuzz-build lint
.DEFAULT_GOAL := all
# Keep object files that only feed other targets.
.SECONDARY:

all: deps $(STATIC_LIB) $(SHARED_LIB) $(TOOL_BINS)

# Installs missing Debian packages (no-op when everything is present).
deps:
	@scripts/deps.sh build

$(BUILD)/lib/%.o: src/lib/%.c $(HEADERS) $(wildcard src/lib/*.h) | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(STATIC_LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(SHARED_LIB): $(LIB_OBJS) libespimg.map
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=libespimg.map -o $@ $(LIB_OBJS) $(DEPS_LIBS)
	ln -sf $(notdir $@) $(BUILD)/$(SONAME)
	ln -sf $(notdir $@) $(BUILD)/libespimg.so

$(BUILD)/tools/%.o: src/tools/%.c src/tools/tool.h $(HEADERS) | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# -pthread: esp-verify -j runs workers in threads.
$(BUILD)/bin/%: $(BUILD)/tools/%.o $(BUILD)/tools/tool.o $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -pthread -o $@ $^ $(DEPS_LIBS)

# ---------------------------------------------------------------- tests
# The image synthesiser (tests/synth) is linked into every unit test;
# mkimage is its command-line front end (`make synth`).
SYNTH_OBJ := $(BUILD)/tests/synth.o
$(SYNTH_OBJ): tests/synth/synth.c tests/synth/synth.h $(HEADERS) | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/synth -c $< -o $@
# mkimage --sign signs with the library (sigblock.h).
$(BUILD)/tests/mkimage: tests/synth/mkimage.c $(SYNTH_OBJ) $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -Itests/synth -o $@ $^ $(ALL_LDFLAGS) $(DEPS_LIBS)
synth: $(BUILD)/tests/mkimage

$(BUILD)/tests/%: tests/unit/%.c tests/unit/fixtures.h $(SYNTH_OBJ) $(STATIC_LIB)
	@scripts/deps.sh test
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CRIT_CFLAGS) -Itests/unit -Itests/synth -o $@ $< \
		$(SYNTH_OBJ) $(STATIC_LIB) $(ALL_LDFLAGS) $(CRIT_LIBS) $(DEPS_LIBS)

check: all $(UNIT_BINS) $(BUILD)/tests/mkimage
	@BUILD=$(BUILD) tests/run-all.sh

check-unit: all $(UNIT_BINS)
	@BUILD=$(BUILD) tests/run-all.sh unit
check-cli: all $(BUILD)/tests/mkimage
	@BUILD=$(BUILD) tests/run-all.sh cli
check-conformance: all
	@BUILD=$(BUILD) tests/run-all.sh conformance

# ---------------------------------------------------------------- demo
# scripts/demo.sh: the primary example's table, an app, otadata, signing,
# and the factory image of examples/release-ota-user.
demo: all $(BUILD)/tests/mkimage
	@BUILD=$(BUILD) scripts/demo.sh

# ---------------------------------------------------------------- fuzz
FUZZ_TIME ?= 30
FUZZ_CC   ?= clang
FUZZ_FLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 \
	-Iinclude -Isrc/lib -Itests/fuzz -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $(DEPS_CFLAGS)

fuzz-build: $(FUZZ_BINS)
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_common.h $(LIB_SRCS) $(HEADERS)
	@scripts/deps.sh build fuzz
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LIB_SRCS) $(DEPS_LIBS)

# Runs every harness for FUZZ_TIME seconds on a scratch copy of its seeds.
# tests/fuzz/<harness>.options, when present, adds libFuzzer flags (one
# per line; a later -max_len wins over the default).
fuzz: fuzz-build
	@set -e; for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); corpus=$(BUILD)/fuzz/corpus-$$n; \
		rm -rf $$corpus; mkdir -p $$corpus; \
		if [ -d tests/fuzz/seeds/$$n ]; then cp tests/fuzz/seeds/$$n/* $$corpus/; fi; \
		opts=$$(cat tests/fuzz/$$n.options 2>/dev/null || true); \
		echo "fuzz: $$n for $(FUZZ_TIME)s"; \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=8192 $$opts -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/$$n- $$corpus 2>$(BUILD)/fuzz/$$n.log \
			|| { tail -n 40 $(BUILD)/fuzz/$$n.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units' $(BUILD)/fuzz/$$n.log || true; \
	done

# ---------------------------------------------------------------- bench, lint
bench: all $(BUILD)/tests/mkimage
	@scripts/deps.sh bench
	@BUILD=$(BUILD) bench/run.sh
	@echo
	@BUILD=$(BUILD) bench/image.sh
	@echo
	@BUILD=$(BUILD) bench/verify.sh
	@echo
	@BUILD=$(BUILD) bench/flashimg.sh

lint:
	@scripts/deps.sh lint
	@set -e; for p in $(MAN_PAGES); do mandoc -Tlint -W warning $$p; done; \
		echo "lint: $(words $(MAN_PAGES)) man pages clean"

# ---------------------------------------------------------------- install
$(BUILD)/libespimg.pc: libespimg.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

install: all $(BUILD)/libespimg.pc
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR)/espimg $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5
	$(INSTALL) -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libespimg.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libespimg.so
	$(INSTALL) -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/espimg/
	$(INSTALL) -m 644 $(BUILD)/libespimg.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(INSTALL) -m 644 $(wildcard man/man1/*.1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(wildcard man/man3/*.3) $(DESTDIR)$(MANDIR)/man3/
	$(INSTALL) -m 644 $(wildcard man/man5/*.5) $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(DESTDIR)$(LIBDIR)/libespimg.a $(DESTDIR)$(LIBDIR)/libespimg.so \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libespimg.so.$(VERSION)
	rm -rf $(DESTDIR)$(INCLUDEDIR)/espimg
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/libespimg.pc
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/man1/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(wildcard man/man3/*.3)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/man5/*.5)))

clean:
	rm -rf build build-san
