# Thin driver over CMake. The two commands of the README:
#   make test    configure, build and run the whole test suite
#   make bench   release build, then one line per standard workload (W1-W7)
# Modes for reliability work: make asan, make valgrind, make tsan, make stress,
# make clang, make aarch64, make ucontext, make install-check (docs/testing.md).

JOBS  ?= $(shell nproc)
CMAKE ?= cmake
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)
# Seconds of the seeded stress program: make stress, and its run under ASan.
WIRE_STRESS_SECONDS ?= 60
ASAN_STRESS_SECONDS ?= 10

.PHONY: all build test bench asan valgrind tsan stress clang aarch64 ucontext install-check clean

all: build

build:
	$(CMAKE) -S . -B build/default -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	$(CMAKE) --build build/default -j$(JOBS)

test: build
	cd build/default && ctest $(CTEST_FLAGS)
	sh tests/skips.sh build/default test

bench:
	$(CMAKE) -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DWIRE_TESTS=OFF $(CMAKE_FLAGS)
	$(CMAKE) --build build/release -j$(JOBS)
	sh bench/run.sh build/release

asan:
	$(CMAKE) -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DWIRE_SANITIZE=ON \
		-DWIRE_TEST_TIME_SCALE=4 -DWIRE_BENCH=OFF $(CMAKE_FLAGS)
	$(CMAKE) --build build/asan -j$(JOBS)
	cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS)
	sh tests/skips.sh build/asan asan
	cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		WIRE_STRESS_SECONDS=$(ASAN_STRESS_SECONDS) ./wire_stress

valgrind:
	$(CMAKE) -S . -B build/valgrind -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIRE_BENCH=OFF \
		-DWIRE_TEST_TIME_SCALE=20 \
		"-DWIRE_TEST_WRAPPER=valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --track-fds=no" \
		$(CMAKE_FLAGS)
	$(CMAKE) --build build/valgrind -j$(JOBS)
	cd build/valgrind && WIRE_TEST_VALGRIND=1 ctest $(CTEST_FLAGS)
	sh tests/skips.sh build/valgrind valgrind

tsan:
	$(CMAKE) -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DWIRE_TSAN=ON \
		-DWIRE_TEST_TIME_SCALE=4 -DWIRE_BENCH=OFF $(CMAKE_FLAGS)
	$(CMAKE) --build build/tsan -j$(JOBS)
	cd build/tsan && TSAN_OPTIONS=halt_on_error=1:suppressions=$(CURDIR)/tests/tsan.supp \
		ctest $(CTEST_FLAGS) -L threads
	sh tests/skips.sh build/tsan tsan

# The seeded stress program (tests/stress/wire_stress.c), the readiness
# model (tests/test_readiness.c) and the wio stress with shutdown cycling
# (tests/test_io_limits.c, each backend for half the time), on fresh seeds
# for WIRE_STRESS_SECONDS each; WIRE_STRESS_SEED=N, WIRE_READINESS_SEED=N or
# WIRE_IO_STRESS_SEED=N replays a seed printed.
stress: build
	WIRE_STRESS_SECONDS=$(WIRE_STRESS_SECONDS) build/default/wire_stress
	WIRE_READINESS_SECONDS=$(WIRE_STRESS_SECONDS) build/default/test_readiness model_fixed_seeds
	WIRE_IO_STRESS_SECONDS=$$(( $(WIRE_STRESS_SECONDS) / 2 )) build/default/test_io_limits io_stress_shutdown_cycling_threads
	WIRE_IO_STRESS_SECONDS=$$(( $(WIRE_STRESS_SECONDS) / 2 )) build/default/test_io_limits io_stress_shutdown_cycling_uring

# The suite built with clang (the CMake warning set is kept clean for both).
clang:
	$(CMAKE) -S . -B build/clang -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DWIRE_BENCH=OFF $(CMAKE_FLAGS)
	$(CMAKE) --build build/clang -j$(JOBS)
	cd build/clang && ctest $(CTEST_FLAGS)
	sh tests/skips.sh build/clang clang

# Cross-build with Debian's gcc-aarch64-linux-gnu; CTest runs every test
# under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR of the toolchain file).
# qemu-user has no io_uring: the uring tests skip there (counted, allowed).
aarch64:
	$(CMAKE) -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIRE_TEST_TIME_SCALE=10 -DWIRE_BENCH=OFF \
		$(CMAKE_FLAGS)
	$(CMAKE) --build build/aarch64 -j$(JOBS)
	cd build/aarch64 && ctest $(CTEST_FLAGS)
	WIRE_REQUIRE_URING=0 sh tests/skips.sh build/aarch64 aarch64

# The portable context switch, forced on this machine.
ucontext:
	$(CMAKE) -S . -B build/ucontext -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIRE_CORO=ucontext \
		-DWIRE_BENCH=OFF $(CMAKE_FLAGS)
	$(CMAKE) --build build/ucontext -j$(JOBS)
	cd build/ucontext && ctest $(CTEST_FLAGS)
	sh tests/skips.sh build/ucontext ucontext

install-check:
	CMAKE_FLAGS="$(CMAKE_FLAGS)" sh tests/install/check.sh build/install-check

clean:
	rm -rf build
