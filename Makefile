# libnodenet — the two commands of the README, and a few more.
#   make run    set up this machine, build (release) and run a first node on :4242 (RUN_ARGS)
#   make test   set up this machine, build with ASan+UBSan (clang), run every test and each fuzz
#               target briefly; the last line is "N passed, N failed"
#   make bench  build (release) and run the benchmarks, which print their figures
#   make deb    the Debian packages libnodenet0, libnodenet-dev, nodenet-node (in ..; debian/rules)
# Set-up (scripts/setup.sh) installs Debian packages and builds the QUIC stack once into a cache.

BUILD      ?= build
BUILD_TEST ?= build-test
FUZZ_SECONDS ?= 10
RUN_ARGS   ?= -addr :4242

SHELL := /bin/bash
MESON_ENV = set -e; . ./.deps.env; export PKG_CONFIG_PATH

.PHONY: run test bench deb deps build build-test clean

deps:
	@bash scripts/setup.sh

build: deps
	@$(MESON_ENV); \
	if [ -f $(BUILD)/build.ninja ]; then \
		meson setup --reconfigure $(BUILD) -Dpkg_config_path="$$PKG_CONFIG_PATH" >/dev/null; \
	else meson setup $(BUILD) --buildtype=release -Dpkg_config_path="$$PKG_CONFIG_PATH" >/dev/null; fi; \
	ninja -C $(BUILD)

run: build
	./$(BUILD)/cmd/nodenet-node $(RUN_ARGS)

build-test: deps
	@$(MESON_ENV); \
	opts="--buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz_seconds=$(FUZZ_SECONDS)"; \
	opts="$$opts -Dpkg_config_path=$$PKG_CONFIG_PATH"; \
	if [ -f $(BUILD_TEST)/build.ninja ]; then meson setup --reconfigure $(BUILD_TEST) $$opts >/dev/null; \
	else CC=clang meson setup $(BUILD_TEST) $$opts >/dev/null; fi; \
	ninja -C $(BUILD_TEST)

test: build-test
	@rm -f $(BUILD_TEST)/meson-logs/testlog.json; \
	meson test -C $(BUILD_TEST) --num-processes 2 --print-errorlogs; \
	python3 scripts/test_summary.py $(BUILD_TEST)/meson-logs/testlog.json $(BUILD_TEST)/summary.txt

bench: build
	meson test -C $(BUILD) --benchmark --verbose --num-processes 1

deb: deps
	dpkg-buildpackage -us -uc -b

clean:
	rm -rf $(BUILD) $(BUILD_TEST)
