#!/bin/sh
# Count the tests a mode skipped, by reason, from CTest's log of the last
# run in BUILD_DIR. A skip is a test that called test_skip() ("SKIP: why").
# With WIRE_REQUIRE_URING=1 in the environment (CI sets it where it
# installs liburing), a test skipped because io_uring was unavailable
# fails the mode: the backend was meant to be covered there.
# Usage: skips.sh BUILD_DIR MODE
set -eu
log=$1/Testing/Temporary/LastTest.log
mode=${2:-$1}
[ -f "$log" ] || { echo "skips ($mode): no CTest log in $1"; exit 1; }
awk -v mode="$mode" -v require_uring="${WIRE_REQUIRE_URING:-0}" '
	/^[0-9]+\/[0-9]+ Test: / { test = $3 }
	/^SKIP: / {
		why = substr($0, 7)
		n++
		count[why]++
		if (!(why in first))
			first[why] = test
		if (require_uring == "1" && why ~ /io_uring/)
			missing = missing " " test
	}
	END {
		printf "skips (%s): %d\n", mode, n
		for (w in count)
			printf "  %3d  %s (e.g. %s)\n", count[w], w, first[w]
		if (missing != "") {
			printf "skips (%s): io_uring was required but not covered by:%s\n", mode, missing
			exit 1
		}
	}' "$log"
