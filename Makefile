# Thin front for meson. The two commands a fresh machine needs:
#   make demo    sign, verify and refuse firmware; record it, import a fleet,
#                decide eligibility, prove a decision offline
#   make check   the test suite, plain and under ASan+UBSan
.PHONY: all deps build demo check bench fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
	@ninja -C build

demo: build
	@bash scripts/demo.sh build/fwtrust

check: deps
	@bash scripts/check.sh

bench: build
	@bash scripts/bench.sh build

fuzz: deps
	@bash scripts/fuzz.sh

clean:
	rm -rf build build-asan build-fuzz build-*.log build/footprint
