#!/bin/sh
# Install check: install libwire into a temporary prefix with
# `cmake --install`, then build and run programs against it the two ways a
# user links it: pkg-config and CMake find_package(libwire). Also compiles
# every installed header on its own and the example program of README.md.
# Usage: check.sh [BUILD_DIR]   (extra configure flags in $CMAKE_FLAGS)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build/install-check}
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

step() { echo "install-check: $*"; }

step "build and install into $prefix"
# shellcheck disable=SC2086 # CMAKE_FLAGS is a list of flags
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIRE_TESTS=OFF \
	-DWIRE_BENCH=OFF -DWIRE_EXAMPLES=OFF ${CMAKE_FLAGS:-} >"$tmp/configure.log" ||
	{ cat "$tmp/configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"

pcdir=$(dirname "$(find "$prefix" -name libwire.pc)")
libdir=$(dirname "$pcdir")
export PKG_CONFIG_PATH="$pcdir"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
flags=$(pkg-config --cflags --libs libwire)
step "pkg-config --cflags --libs libwire: $flags"

step "every installed header compiles on its own"
n=0
for h in "$prefix"/include/libwire/*.h; do
	printf '#include "%s"\n' "$(basename "$h")" >"$tmp/h.c"
	# Default mode and strict ISO C, where libc hides its extensions.
	for std in "" -std=c99; do
		# shellcheck disable=SC2046,SC2086
		"$cc" -Wall -Wextra -Werror $std -fsyntax-only $(pkg-config --cflags libwire) \
			"$tmp/h.c" ||
			{ echo "install-check: $(basename "$h") does not compile alone ($std)"; exit 1; }
	done
	n=$((n + 1))
done
step "$n headers"

step "pkg-config build of tests/install/order.c"
# shellcheck disable=SC2086
"$cc" -Wall -Wextra -Werror "$src/tests/install/order.c" -o "$tmp/order-pc" $flags
"$tmp/order-pc"

# Eager binding: readelf shows BIND_NOW (or the NOW flag) on the program.
bound_now() {
	command -v readelf >/dev/null 2>&1 || return 0
	readelf -d "$1" | grep -Eq 'BIND_NOW|Flags:.* NOW' ||
		{ echo "install-check: $1 is not bound eagerly (-z now missing)"; exit 1; }
}

step "pkg-config build of tests/install/small_stack.c (libc calls on a 4 KiB wire stack)"
# shellcheck disable=SC2086
"$cc" -Wall -Wextra -Werror "$src/tests/install/small_stack.c" -o "$tmp/small-pc" $flags
bound_now "$tmp/small-pc"
"$tmp/small-pc"

step "pkg-config build of the example in README.md"
awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on' "$src/README.md" >"$tmp/readme.c"
[ -s "$tmp/readme.c" ] || { echo "install-check: no \`\`\`c block in README.md"; exit 1; }
# shellcheck disable=SC2086
"$cc" -Wall -Wextra -Wwrite-strings -Werror "$tmp/readme.c" -o "$tmp/readme" $flags
"$tmp/readme" >"$tmp/readme.out"
cat "$tmp/readme.out"
printf 'ping 0\npong 0\nping 1\npong 1\nping 2\npong 2\n' | cmp -s - "$tmp/readme.out" ||
	{ echo "install-check: README example did not print what README.md says"; exit 1; }

step "CMake find_package(libwire) build of tests/install/order.c"
cmake -S "$src/tests/install" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
	>"$tmp/consumer.log" || { cat "$tmp/consumer.log"; exit 1; }
cmake --build "$tmp/consumer" >"$tmp/consumer-build.log" ||
	{ cat "$tmp/consumer-build.log"; exit 1; }
env -u LD_LIBRARY_PATH "$tmp/consumer/order"
bound_now "$tmp/consumer/small_stack"
env -u LD_LIBRARY_PATH "$tmp/consumer/small_stack"

step "passed"
