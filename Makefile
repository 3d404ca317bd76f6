# runnel: build every tool into bin/, objects into build/.
#   make            build (CC=clang works too)
#   make check      unit tests, CLI tests, sanitizer build, fuzz smoke; ends "N passed, N failed"
#   make demo       the default pipeline (pipelines/demo.mk)
#   make bench      benchmarks against their peers (bench/run)
#   make quant      the quantized-pretraining study (pipelines/quant.mk)
#   make align      the preference-alignment study (pipelines/align.mk)
#   make diagnose-eval  the evaluation of diagnose on injected RL faults (pipelines/diagnose.mk)
#   make fuzz       each fuzz target for FUZZ_SECONDS (default 60)
#   make deps       install missing Debian packages
#   make install PREFIX=/usr/local

VERSION := 0.1.0
PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := msgpack zlib libarchive libpcre2-8 yajl openblas

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPT      ?= -O2 -fno-trapping-math # lets loops with min/max vectorize; results unchanged
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
OMP      := -fopenmp
CPPFLAGS += -std=c11 -D_GNU_SOURCE -Ilib -DRUNNEL_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lm -lpthread

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
TOOL_SRC := $(sort $(wildcard tools/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))

TOOLS    := $(patsubst tools/%.c,bin/%,$(TOOL_SRC))
LIB_OBJ  := $(patsubst %.c,build/%.o,$(LIB_SRC))
UNITS    := $(patsubst tests/unit/%.c,build/tests/%,$(UNIT_SRC))
# The same unit tests and library built with AddressSanitizer and UBSan.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_OBJ   := $(patsubst %.c,build/asan/%.o,$(LIB_SRC))
ASAN_UNITS := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))
# Fuzz targets need clang (libFuzzer).
FUZZ_CC    := clang
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -Wno-pass-failed # -O1 does not vectorize "omp simd" loops
FUZZ_OBJ   := $(patsubst %.c,build/fuzz/%.o,$(LIB_SRC))
FUZZERS    := $(patsubst fuzz/%.c,build/fuzz/bin/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60

.PHONY: all deps check unit asan fuzz fuzzers demo bench install clean quant align diagnose-eval
all: $(TOOLS)

deps:
	@.ci/deps

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OMP) $(WARN) -MMD -MP -c $< -o $@

build/librunnel.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

bin/%: build/tools/%.o build/librunnel.a
	@mkdir -p bin
	$(CC) $(CFLAGS) $(OMP) $(LDFLAGS) $^ $(LDLIBS) -o $@

build/tests/%: build/tests/unit/%.o build/librunnel.a
	$(CC) $(CFLAGS) $(OMP) $(LDFLAGS) $^ $(LDLIBS) -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ASAN_FLAGS) $(OMP) $(WARN) -MMD -MP -c $< -o $@

build/asan/librunnel.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/asan/tests/%: build/asan/tests/unit/%.o build/asan/librunnel.a
	$(CC) $(ASAN_FLAGS) $(OMP) $(LDFLAGS) $^ $(LDLIBS) -o $@

build/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(OMP) $(WARN) -MMD -MP -c $< -o $@

build/fuzz/librunnel.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/bin/%: build/fuzz/fuzz/%.o build/fuzz/librunnel.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined $(OMP) $^ $(LDLIBS) -o $@

unit: $(UNITS)
asan: $(ASAN_UNITS)
fuzzers: $(FUZZERS)

check: deps
	@$(MAKE) --no-print-directory -s all unit asan
	@$(MAKE) --no-print-directory -s fuzzers
	@tests/run

fuzz: deps
	@$(MAKE) --no-print-directory -s fuzzers
	@for f in $(FUZZERS); do fuzz/run $$f $(FUZZ_SECONDS) || exit 1; done

demo: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -f pipelines/demo.mk

# The studies of pipelines/ (long: see each file for its grid and variables).
quant align: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -f pipelines/$@.mk

diagnose-eval: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -f pipelines/diagnose.mk

bench: deps
	@.ci/deps bench
	@$(MAKE) --no-print-directory all
	@bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/man5/*.5 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 man/man7/*.7 $(DESTDIR)$(PREFIX)/share/man/man7

clean:
	rm -rf build bin

# Objects are rebuilt when the flags in this file change.
$(LIB_OBJ) $(ASAN_OBJ) $(FUZZ_OBJ) $(patsubst %.c,build/%.o,$(TOOL_SRC) $(UNIT_SRC)) \
    $(patsubst %.c,build/fuzz/%.o,$(FUZZ_SRC)) $(patsubst %.c,build/asan/%.o,$(UNIT_SRC)): Makefile

.SECONDARY:
-include $(shell find build -name '*.d' 2>/dev/null)
