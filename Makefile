# bmtrace - eBPF process-tree memory tracer
#   make            build ./bmtrace
#   make check      unit tests (also under ASan+UBSan) and integration tests (root)
#   make bench      benchmarks against untraced runs and peers (root, BENCH.md)
#   make install    PREFIX=/usr/local DESTDIR= (bmtrace, and the systemd unit of bmtrace serve)
#   make format     clang-format the sources
#   V=1             show the commands
VERSION     := 0.1.0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
UNITDIR     ?= $(PREFIX)/lib/systemd/system
ARCH        := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BUILD       := build
CC          ?= cc
CLANG       ?= clang
BPFTOOL     ?= bpftool
PKGS        := libbpf libelf zlib libcjson libmicrohttpd libcurl
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -lelf -lz -lcjson -lmicrohttpd -lcurl) -pthread
PKG_LIBS    += -lm
WARN        := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS      ?= -O2 -g
ALL_CFLAGS  := -std=gnu11 $(WARN) $(CFLAGS) -Ibpf -Iuser -I$(BUILD) $(PKG_CFLAGS) \
               -DBMT_VERSION='"$(VERSION)"'
BPF_CFLAGS  := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -D__BPF__ \
               -Ivmlinux/$(ARCH) -Ibpf -Wall -Werror
SAN         := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Userspace modules: the accounting core and reports have no libbpf dependency.
CORE_SRCS   := user/collector.c user/table.c user/stages.c user/tracefile.c user/util.c user/timeline.c
REPORT_SRCS := user/report_text.c user/report_json.c user/report_timeline.c user/report_svg.c \
               user/report_md.c user/escape.c user/budget.c user/diff.c
APP_SRCS    := user/main.c user/cli.c user/tracer.c user/runner.c user/procscan.c user/serve.c
# Prometheus export: rendering (pure), the /metrics endpoint, the Pushgateway client.
PROM_SRCS   := user/prom.c user/http.c user/push.c
SRCS        := $(CORE_SRCS) $(REPORT_SRCS) $(APP_SRCS) $(PROM_SRCS)
OBJS        := $(SRCS:user/%.c=$(BUILD)/%.o)
HDRS        := $(wildcard user/*.h) bpf/bmtrace.h

UNIT_TESTS  := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_TESTS:%=$(BUILD)/unit/%) $(UNIT_TESTS:%=$(BUILD)/unit-san/%)
FUZZERS     := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS   := $(FUZZERS:%=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 600
FUZZ_RUNS   ?= 20000
FUZZ_FLAGS  := -std=gnu11 -g -O1 $(WARN) -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -Ibpf -Iuser $(PKG_CFLAGS) -DBMT_VERSION='"$(VERSION)"'
WORKLOADS   := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(wildcard tests/workloads/*.c))
ITEST_SRCS  := $(wildcard tests/integration/*.c)

# What a fresh Debian 12 needs to build and test (make deps, as root). The tests run a real
# Prometheus, Pushgateway and promtool on loopback, and curl and jq in tests/integration/*.sh;
# headless Chromium renders the SVG chart for its screenshot test; tmux gives the wrapper tests
# a terminal; capsh, xmllint, valgrind, cppcheck and clang-tidy serve the reliability checks;
# python3 parses every report of the hostile-names test, cmark-gfm renders its Markdown as
# GitHub does.
DEB_PACKAGES := make gcc clang pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev \
                libcjson-dev libcmocka-dev libclang-rt-14-dev libmicrohttpd-dev libcurl4-openssl-dev \
                prometheus prometheus-pushgateway curl jq \
                chromium fonts-dejavu-core \
                tmux libcap2-bin libxml2-utils valgrind cppcheck clang-tidy \
                python3 cmark-gfm

.DELETE_ON_ERROR:
.PHONY: fuzz fuzz-smoke
.PHONY: all check unit integration install uninstall clean format demo deps fixtures

all: bmtrace

$(BUILD)/bmtrace.bpf.o: bpf/bmtrace.bpf.c bpf/bmtrace.h vmlinux/$(ARCH)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bmtrace.skel.h: $(BUILD)/bmtrace.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bmtrace > $@

$(BUILD)/tracer.o: $(BUILD)/bmtrace.skel.h

$(BUILD)/%.o: user/%.c $(HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

bmtrace: $(OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(PKG_LIBS) -o $@

$(BUILD) $(BUILD)/unit $(BUILD)/unit-san $(BUILD)/workloads $(BUILD)/fuzz:
	$(Q)mkdir -p $@

# Each unit test links only the modules it names in its first line: "// modules: a b".
unit_mods = $(addprefix user/,$(addsuffix .c,$(shell sed -n '1s|^// modules:||p' tests/unit/$(1).c)))

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$(call unit_mods,%) $(HDRS) $$(wildcard tests/unit/*.h) | $(BUILD)/unit
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< $(call unit_mods,$*) -lcmocka $(PKG_LIBS) -o $@

$(BUILD)/unit-san/%: tests/unit/%.c $$(call unit_mods,%) $(HDRS) $$(wildcard tests/unit/*.h) | $(BUILD)/unit-san
	$(call msg,TEST-SAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -Itests/unit $< $(call unit_mods,$*) -lcmocka $(PKG_LIBS) -o $@

# Fuzzers link the modules named on their first line, like the unit tests.
fuzz_mods = $(addprefix user/,$(addsuffix .c,$(shell sed -n '1s|^// modules:||p' tests/fuzz/$(1).c)))

$(BUILD)/fuzz/%: tests/fuzz/%.c $$(call fuzz_mods,%) $(HDRS) | $(BUILD)/fuzz
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $< $(call fuzz_mods,$*) $(PKG_LIBS) -o $@

$(BUILD)/workloads/%: tests/workloads/%.c | $(BUILD)/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) -std=gnu11 $(WARN) -O2 -g $< -lpthread -o $@

$(BUILD)/itest: $(ITEST_SRCS) $(wildcard tests/integration/*.h) | $(BUILD)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/integration $(ITEST_SRCS) -lcmocka -lcjson -lz -lm -o $@

unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# Every tests/integration/*_e2e.sh runs, in name order, against $(ITEST_BMTRACE) (a build of
# bmtrace with sanitizers can be put in its place).
E2E_SCRIPTS   := $(sort $(wildcard tests/integration/*_e2e.sh))
ITEST_BMTRACE ?= $(CURDIR)/bmtrace
ITEST_ENV      = BMTRACE=$(ITEST_BMTRACE) WORKLOADS=$(CURDIR)/$(BUILD)/workloads \
                 FIXTURES=$(CURDIR)/tests/fixtures
integration: bmtrace $(WORKLOADS) $(BUILD)/itest
	$(Q)$(ITEST_ENV) $(BUILD)/itest
	$(Q)set -e; for t in $(E2E_SCRIPTS); do $(ITEST_ENV) bash $$t; done
	$(Q)$(ITEST_ENV) bash tests/integration/deploy_check.sh

# A short run of each fuzzer over a scratch copy of its corpus (the repo's stays as it is),
# with a fixed seed and number of runs: the same binary and corpus always do the same work,
# so CI cannot fail on a new finding by chance. A crash fails it, with the input that did it.
fuzz-smoke: $(FUZZ_BINS)
	$(Q)set -e; for f in $(FUZZERS); do \
		n=$${f#fuzz_}; d=$$(mktemp -d); \
		echo "== $$f: $(FUZZ_RUNS) runs"; \
		if ! $(BUILD)/fuzz/$$f -seed=1 -runs=$(FUZZ_RUNS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$$d/ \
			$$d tests/fuzz/corpus/$$n > $$d/log 2>&1; then \
			cat $$d/log; echo "$$f: CRASH, input kept in $$d"; exit 1; \
		fi; \
		grep -E '^stat::(number_of_executed_units|new_units_added)' $$d/log; \
		rm -rf $$d; \
	done

# A long run that keeps what it finds: FUZZ_SECONDS each, new inputs merged into the corpus.
fuzz: $(FUZZ_BINS)
	$(Q)set -e; for f in $(FUZZERS); do \
		n=$${f#fuzz_}; d=$$(mktemp -d); \
		$(BUILD)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 $$d tests/fuzz/corpus/$$n; \
		$(BUILD)/fuzz/$$f -merge=1 tests/fuzz/corpus/$$n $$d; \
		rm -rf $$d; \
	done

check: unit fuzz-smoke integration

# Rewrite the golden files of tests/fixtures from their recorded traces, after a deliberate
# change of a report (tests/integration/reports.c); review their diff before committing.
fixtures: bmtrace $(BUILD)/itest
	$(Q)BMT_UPDATE_GOLDEN=1 BMTRACE=$(CURDIR)/bmtrace WORKLOADS=$(CURDIR)/$(BUILD)/workloads \
		FIXTURES=$(CURDIR)/tests/fixtures $(BUILD)/itest

deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_PACKAGES)

demo: bmtrace $(BUILD)/workloads/memhog
	./bmtrace -- $(BUILD)/workloads/memhog demo

# Benchmarks (root; tests/bench/run.sh, BENCH.md): wall time against untraced runs and
# against peers, in interleaved rounds, and the checks of issue 3. Under 10 minutes on
# 2 cores; bench-smoke runs the same with tiny sizes in under a minute. bench-deps
# installs what the bench uses beyond make deps.
BENCH_BINS     := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c))
BENCH_PACKAGES := bpftrace jq binutils-source
BENCH_ENV       = BMTRACE=$(CURDIR)/bmtrace WORKLOADS=$(CURDIR)/$(BUILD)/workloads \
                  BENCH_BIN=$(CURDIR)/$(BUILD)/bench
.PHONY: bench bench-smoke bench-deps

$(BUILD)/bench/%: tests/bench/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) -std=gnu11 $(WARN) -O2 -g $< -o $@

bench: bmtrace $(WORKLOADS) $(BENCH_BINS)
	$(Q)$(BENCH_ENV) bash tests/bench/run.sh

bench-smoke: bmtrace $(WORKLOADS) $(BENCH_BINS)
	$(Q)$(BENCH_ENV) BENCH_SIZE=smoke BENCH_PAIRS=2 BENCH_PEER_ROUNDS=1 bash tests/bench/run.sh

bench-deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(BENCH_PACKAGES)

# The unit runs `bmtrace serve` (README, "Prometheus"); its ExecStart names $(BINDIR).
install: bmtrace
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 bmtrace $(DESTDIR)$(BINDIR)/bmtrace
	sed 's|/usr/local/bin/bmtrace|$(BINDIR)/bmtrace|' user/systemd/bmtrace.service \
		>$(DESTDIR)$(UNITDIR)/bmtrace.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/bmtrace.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/bmtrace $(DESTDIR)$(UNITDIR)/bmtrace.service

format:
	clang-format -i bpf/*.c bpf/*.h user/*.c user/*.h tests/*/*.c

clean:
	rm -rf $(BUILD) bmtrace
