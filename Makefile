# bmtrace - eBPF process-tree memory tracer
#   make            build ./bmtrace
#   make check      unit tests (also under ASan+UBSan), valgrind, cppcheck and clang-tidy, a
#                   fuzz smoke run, integration tests (root), again under ASan+UBSan
#   make bench      benchmarks against untraced runs and peers (root, BENCH.md)
#   make install    PREFIX=/usr/local DESTDIR= (bmtrace, its man page and bash and zsh
#                   completions, and the systemd unit of bmtrace serve)
#   make deps       what building and running need; make test-deps: what the tests need
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
# user/ is layered in folders (README, "How it works"); every folder is on the include path,
# so a header is named by its file alone.
USER_DIRS   := $(sort $(dir $(wildcard user/*/*.c)))
USER_INC    := -Iuser $(patsubst %/,-I%,$(USER_DIRS))
ALL_CFLAGS  := -std=gnu11 $(WARN) $(CFLAGS) -Ibpf $(USER_INC) -I$(BUILD) $(PKG_CFLAGS) \
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

# Userspace, one folder per layer: lib (helpers), core (pure accounting: no libbpf, no /proc),
# kernel (BPF, /proc, processes, privileges), report, prom (Prometheus export), cli, cmd (one
# file per subcommand), main.c. A module is named by its file: objects go to build/NAME.o.
SRCS        := user/main.c $(wildcard $(USER_DIRS:%=%*.c))
OBJS        := $(patsubst %.c,$(BUILD)/%.o,$(notdir $(SRCS)))
vpath %.c user $(USER_DIRS)
# modules NAME...: their source files
mod_srcs     = $(foreach m,$(1),$(firstword $(wildcard user/$(m).c user/*/$(m).c) user/$(m).c))
HDRS        := $(wildcard user/*.h user/*/*.h) bpf/bmtrace.h bpf/pcpu_sum.h

UNIT_TESTS  := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_TESTS:%=$(BUILD)/unit/%) $(UNIT_TESTS:%=$(BUILD)/unit-san/%)
FUZZERS     := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS   := $(FUZZERS:%=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 600
FUZZ_RUNS   ?= 20000
FUZZ_FLAGS  := -std=gnu11 -g -O1 $(WARN) -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -Ibpf $(USER_INC) $(PKG_CFLAGS) -DBMT_VERSION='"$(VERSION)"'
WORKLOADS   := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(wildcard tests/workloads/*.c))
ITEST_SRCS  := $(wildcard tests/integration/*.c)

# What a fresh Debian 12 needs to build and run bmtrace (make deps, as root).
DEB_PACKAGES := make gcc clang pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev \
                libcjson-dev libmicrohttpd-dev libcurl4-openssl-dev
# What the tests need besides (make test-deps): cmocka and clang's runtime for the unit tests
# and fuzzers. The tests run a real Prometheus, Pushgateway, node_exporter and promtool on
# loopback, and curl and jq in tests/integration/*.sh; headless Chromium renders the SVG chart
# for its screenshot tests; tmux gives the wrapper and progress tests a terminal, zsh its
# completion; capsh, xmllint, strace, valgrind, cppcheck and clang-tidy serve the reliability
# checks; python3 parses every report of the hostile-names test (and, with jsonschema, the
# Perfetto trace), cmark-gfm renders its Markdown as GitHub does; man-db checks the man page.
TEST_PACKAGES := libcmocka-dev libclang-rt-14-dev \
                 prometheus prometheus-pushgateway prometheus-node-exporter curl jq \
                 chromium fonts-dejavu-core \
                 tmux zsh libcap2-bin libxml2-utils valgrind cppcheck clang-tidy strace \
                 python3 python3-jsonschema cmark-gfm man-db

.DELETE_ON_ERROR:
.PHONY: fuzz fuzz-smoke
.PHONY: all check unit integration install uninstall clean format demo demo-oom deps test-deps
.PHONY: fixtures
.PHONY: bmtrace-san integration-san valgrind lint

all: bmtrace $(BUILD)/bmtrace.1

# The man page, made from the help texts (doc/man.sh): it says what --help says.
$(BUILD)/bmtrace.1: bmtrace doc/man.sh | $(BUILD)
	$(call msg,MAN,$@)
	$(Q)sh doc/man.sh ./bmtrace $(VERSION) >$@

$(BUILD)/bmtrace.bpf.o: bpf/bmtrace.bpf.c bpf/bmtrace.h bpf/pcpu_sum.h bpf/trees.bpf.h \
                        vmlinux/$(ARCH)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bmtrace.skel.h: $(BUILD)/bmtrace.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bmtrace > $@

$(BUILD)/tracer.o: $(BUILD)/bmtrace.skel.h

$(BUILD)/%.o: %.c $(HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

bmtrace: $(OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(PKG_LIBS) -o $@

# bmtrace under ASan+UBSan, objects of its own: what make integration-san runs.
SAN_OBJS    := $(patsubst %.c,$(BUILD)/san/%.o,$(notdir $(SRCS)))

$(BUILD)/san/tracer.o: $(BUILD)/bmtrace.skel.h

$(BUILD)/san/%.o: %.c $(HDRS) | $(BUILD)/san
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@

$(BUILD)/san/bmtrace: $(SAN_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) $^ $(PKG_LIBS) -o $@

bmtrace-san: $(BUILD)/san/bmtrace

$(BUILD) $(BUILD)/san $(BUILD)/lint $(BUILD)/unit $(BUILD)/unit-san $(BUILD)/workloads \
$(BUILD)/fuzz:
	$(Q)mkdir -p $@

# Each unit test links only the modules it names in its first line: "// modules: a b".
unit_mods = $(call mod_srcs,$(shell sed -n '1s|^// modules:||p' tests/unit/$(1).c))

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$(call unit_mods,%) $(HDRS) $$(wildcard tests/unit/*.h) | $(BUILD)/unit
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< $(call unit_mods,$*) -lcmocka $(PKG_LIBS) -o $@

$(BUILD)/unit-san/%: tests/unit/%.c $$(call unit_mods,%) $(HDRS) $$(wildcard tests/unit/*.h) | $(BUILD)/unit-san
	$(call msg,TEST-SAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -Itests/unit $< $(call unit_mods,$*) -lcmocka $(PKG_LIBS) -o $@

# Fuzzers link the modules named on their first line, like the unit tests.
fuzz_mods = $(call mod_srcs,$(shell sed -n '1s|^// modules:||p' tests/fuzz/$(1).c))

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
integration: bmtrace $(BUILD)/bmtrace.1 $(WORKLOADS) $(BUILD)/itest
	$(Q)$(ITEST_ENV) $(BUILD)/itest
	$(Q)set -e; for t in $(E2E_SCRIPTS); do $(ITEST_ENV) bash $$t; done
	$(Q)$(ITEST_ENV) bash tests/integration/deploy_check.sh

# The same integration tests against $(BUILD)/san/bmtrace. The options are exported, so
# every bmtrace a test starts (itest, the scripts) has them: any ASan, LeakSanitizer or UBSan
# report aborts that bmtrace, and the test that ran it fails on its exit status (134). ASan
# and LeakSanitizer also write their reports into a scratch dir (world-writable, for serve
# --user nobody), printed at the end: any there fails the run too, even from a bmtrace whose
# status a test ignores (`bmtrace --help` in the scripts). UBSan's reports (gcc's runtime)
# go to stderr whatever log_path says, so they show in the failing test's dump of it.
SAN_LOG     = $$d/report
SAN_ENV     = ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$(SAN_LOG) \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
integration-san: $(BUILD)/san/bmtrace
	$(Q)d=$$(mktemp -d /tmp/bmtrace-san.XXXXXX); chmod 1777 $$d; \
	export $(SAN_ENV); \
	$(MAKE) --no-print-directory integration ITEST_BMTRACE=$(CURDIR)/$(BUILD)/san/bmtrace; \
	rc=$$?; \
	for f in $$d/*; do [ -e "$$f" ] || continue; echo "== $$f"; cat "$$f"; rc=1; done; \
	rm -rf $$d; \
	if [ $$rc = 0 ]; then echo "integration-san: passed, no sanitizer report"; \
	else echo "integration-san: FAILED"; fi; exit $$rc

# valgrind's memcheck of the plain build (valgrind and ASan do not mix) replaying each recorded
# trace of tests/fixtures into every report, with the budget lines and the failing gate (exit
# 98), and of bmtrace diff of two results, table and JSON: no root, no BPF. Any error fails
# it, and so do definite, indirect and possible leaks (a replay is single-threaded and owns
# no pointer into the middle of a block, so "possible" is a leak too); still reachable
# blocks are listed but pass: memory something still points at when a one-shot process
# exits is not lost (a replay leaves none today).
VALGRIND    := valgrind --tool=memcheck -q --error-exitcode=1 --leak-check=full \
               --show-leak-kinds=all --errors-for-leak-kinds=definite,indirect,possible
valgrind: bmtrace
	$(Q)set -e; d=$$(mktemp -d); trap 'rm -rf $$d' EXIT; \
	for f in tests/fixtures/*.bmt; do \
		n=$$(basename $$f .bmt); \
		echo "== valgrind: bmtrace report $$f"; \
		$(VALGRIND) ./bmtrace report $$f --budget 64M -o $$d/$$n.txt --json $$d/$$n.json \
			--timeline $$d/$$n.csv --svg $$d/$$n.svg --markdown $$d/$$n.md \
			--prometheus $$d/$$n.prom --perfetto $$d/$$n.trace.json; \
		rc=0; $(VALGRIND) --log-fd=9 ./bmtrace report $$f -q --timeline $$d/$$n.csv.gz \
			--max-peak 1M 9>&2 2>$$d/gate.err || rc=$$?; \
		[ $$rc = 98 ] || { cat $$d/gate.err; \
			echo "valgrind: --max-peak 1M exited $$rc, want 98"; exit 1; }; \
	done; \
	echo "== valgrind: bmtrace diff tests/fixtures/forkexec.json tests/fixtures/stages.json"; \
	$(VALGRIND) ./bmtrace diff tests/fixtures/forkexec.json tests/fixtures/stages.json \
		>$$d/diff; \
	$(VALGRIND) ./bmtrace diff --json -o $$d/diff.json --fail-if-peak-grows 5 \
		tests/fixtures/forkexec.json tests/fixtures/stages.json; \
	echo "valgrind: no error, no leak"

# Static analysis; any finding fails it. A false positive gets an inline suppression with
# its reason (cppcheck-suppress, NOLINTNEXTLINE), never a global one.
# cppcheck reads user/*.c and the tests (tests/*/*.c), without the generated skeleton (2.6 MB
# of BPF object as a string: minutes of tokenizing, none of it ours); not bpf/*.c, whose
# libbpf macros (BPF_PROG, typeof) it cannot parse.
# clang-tidy (.clang-tidy says which checks, and why not the others) compiles user/*.c as
# the build does, so the skeleton must exist; it comes in as a system header, being bpftool's
# code. libbpf's headers are taken for our own (--no-system-header-prefix): the analyzer
# assumes a function of a system header frees nothing, and would find a leak in the
# skeleton's error paths, which end in bpf_object__destroy_skeleton(). bpf/*.c is compiled
# as its BPF build does. The tests are left out: they use atoi, rand and system on purpose,
# and the analyzer does not know that a failed cmocka assert ends the test, so it would
# flag them by the dozen. Each file is a job of its own: make -j lints in parallel, and a
# second run redoes only what changed.
CPPCHECK    := cppcheck -q --error-exitcode=1 --enable=warning,performance,portability \
               --inline-suppr -Ibpf $(USER_INC) -Itests/unit -Itests/integration \
               -DBMT_VERSION='"$(VERSION)"'
TIDY_FLAGS  := -std=gnu11 -Ibpf $(USER_INC) -isystem $(BUILD) --no-system-header-prefix=bpf/ \
               $(PKG_CFLAGS) -DBMT_VERSION='"$(VERSION)"'
TIDY_STAMPS := $(patsubst %.c,$(BUILD)/lint/%.tidy,$(notdir $(SRCS))) \
               $(patsubst bpf/%.c,$(BUILD)/lint/%.tidy,$(wildcard bpf/*.c))

$(BUILD)/lint/%.tidy: %.c $(HDRS) .clang-tidy $(BUILD)/bmtrace.skel.h | $(BUILD)/lint
	$(call msg,TIDY,$<)
	$(Q)clang-tidy --quiet $< -- $(TIDY_FLAGS) >$@.log 2>&1 || { cat $@.log; exit 1; }
	$(Q)touch $@

$(BUILD)/lint/%.bpf.tidy: bpf/%.bpf.c bpf/bmtrace.h bpf/trees.bpf.h vmlinux/$(ARCH)/vmlinux.h .clang-tidy \
                         | $(BUILD)/lint
	$(call msg,TIDY,$<)
	$(Q)clang-tidy --quiet $< -- $(BPF_CFLAGS) >$@.log 2>&1 || { cat $@.log; exit 1; }
	$(Q)touch $@

lint: $(TIDY_STAMPS)
	$(call msg,CPPCHECK,user tests)
	$(Q)$(CPPCHECK) $(SRCS) tests/*/*.c

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

# The cheap checks first, so that they fail first: unit tests (a minute), valgrind on the
# recorded traces (seconds), lint (a minute or two), the fuzz smoke (seconds); then the
# integration tests, plainly and under ASan+UBSan (a few minutes each); then the kernel
# checks on this machine's kernel (seconds) and in a VM on Debian 12's 6.1 (about 2 minutes).
check: unit valgrind lint fuzz-smoke integration integration-san vmtest-host vmtest

# Rewrite the golden files of tests/fixtures from their recorded traces, after a deliberate
# change of a report (tests/integration/reports.c); review their diff before committing.
fixtures: bmtrace $(BUILD)/itest
	$(Q)BMT_UPDATE_GOLDEN=1 BMTRACE=$(CURDIR)/bmtrace WORKLOADS=$(CURDIR)/$(BUILD)/workloads \
		FIXTURES=$(CURDIR)/tests/fixtures $(BUILD)/itest

deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_PACKAGES)

# Besides the packages: Grafana's dashboard schema (tests/grafana:
# @grafana/grafana-foundation-sdk, pinned in its package-lock.json) for deploy_check's check of
# user/grafana/bmtrace.json; Debian's npm when there is no npm yet (a nodejs from elsewhere
# brings its own, and conflicts with Debian's).
test-deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(TEST_PACKAGES)
	command -v npm >/dev/null || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm
	npm ci --prefix tests/grafana --no-audit --no-fund

# The kernels users have (README, "Requirements"): tests/vm/tests.sh (the accounting cases,
# the /proc oracle, the exit statuses) in a QEMU VM booting the Debian kernel package
# KERNEL (default: Debian 12's current cloud kernel, whatever linux-image-cloud-amd64 depends
# on), and directly on this machine's kernel (vmtest-host). The package is downloaded and
# unpacked under build/vm, never installed; the VM boots from an initramfs of busybox,
# bmtrace and its libraries (ldd), the workloads and the script. ACCEL=auto|kvm|tcg (auto:
# KVM when the guest comes up within KVM_PROBE seconds, else TCG); VMTEST_ONLY="spawn exit"
# runs some tests. About 2 minutes under TCG on 2 cores.
VM_PACKAGES := qemu-system-x86 busybox-static
KERNEL      ?= $(shell apt-cache depends linux-image-cloud-amd64 2>/dev/null | \
                 sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$$/\1/p' | head -1)
VM_ENV       = BMTRACE=$(CURDIR)/bmtrace WORKLOADS=$(CURDIR)/$(BUILD)/workloads \
               JFLAT=$(CURDIR)/$(BUILD)/vm/jflat
.PHONY: vmtest vmtest-host vmdeps

$(BUILD)/vm/jflat: tests/vm/jflat.c tests/integration/harness.c tests/integration/harness.h
	$(Q)mkdir -p $(@D)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/integration $< tests/integration/harness.c -lcmocka \
		-lcjson -o $@

vmdeps:
	$(Q)command -v qemu-system-x86_64 >/dev/null && command -v busybox >/dev/null || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$(VM_PACKAGES)

vmtest: bmtrace $(WORKLOADS) $(BUILD)/vm/jflat vmdeps
	$(Q)test -n "$(KERNEL)" || { echo "vmtest: no KERNEL (apt-get update?)"; exit 1; }
	$(Q)$(VM_ENV) OUT=$(CURDIR)/$(BUILD)/vm bash tests/vm/vm.sh $(KERNEL)

vmtest-host: bmtrace $(WORKLOADS) $(BUILD)/vm/jflat
	$(Q)$(VM_ENV) sh tests/vm/tests.sh $(VMTEST_ONLY)

demo: bmtrace $(BUILD)/workloads/memhog
	./bmtrace -- $(BUILD)/workloads/memhog demo

# The same build on a runner with 350 MiB: clang's 100 MiB beside skc's 300 MiB IR is over the
# limit, and the OOM killer takes the largest. bmtrace says who died, when, and who held what
# (exit 137: the build was killed; the demo has done its job then).
demo-oom: bmtrace $(BUILD)/workloads/memhog
	./bmtrace --memory-max 350M -- $(BUILD)/workloads/memhog demo || test $$? = 137

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

# The unit runs `bmtrace serve` (README, "Prometheus"); its ExecStart names $(BINDIR). The
# man page and the bash and zsh completions go where man and the shells look.
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
install: bmtrace $(BUILD)/bmtrace.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 bmtrace $(DESTDIR)$(BINDIR)/bmtrace
	sed 's|/usr/local/bin/bmtrace|$(BINDIR)/bmtrace|' user/systemd/bmtrace.service \
		>$(DESTDIR)$(UNITDIR)/bmtrace.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/bmtrace.service
	install -m 0644 $(BUILD)/bmtrace.1 $(DESTDIR)$(MANDIR)/man1/bmtrace.1
	install -m 0644 completion/bmtrace.bash $(DESTDIR)$(BASHCOMPDIR)/bmtrace
	install -m 0644 completion/_bmtrace $(DESTDIR)$(ZSHCOMPDIR)/_bmtrace

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/bmtrace $(DESTDIR)$(UNITDIR)/bmtrace.service \
		$(DESTDIR)$(MANDIR)/man1/bmtrace.1 $(DESTDIR)$(BASHCOMPDIR)/bmtrace \
		$(DESTDIR)$(ZSHCOMPDIR)/_bmtrace

format:
	clang-format -i bpf/*.c bpf/*.h $(SRCS) $(wildcard user/*/*.h) tests/*/*.c

clean:
	rm -rf $(BUILD) bmtrace
