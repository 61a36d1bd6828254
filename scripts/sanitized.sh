#!/bin/sh
# Runs a command with the sanitizer runtimes that an addon built by
#   FINETORCH_SANITIZE=address,undefined npm run build
# needs. Node itself is not instrumented, so AddressSanitizer's runtime must be loaded first
# (LD_PRELOAD); UBSan's comes in as a dependency of the addon. Examples:
#   scripts/sanitized.sh node --test --test-concurrency=1 dist/test/native/*.test.js
#   scripts/sanitized.sh node dist/scripts/fuzz.js --mutants 2000 --no-save
# The fuzzer's children inherit the environment. A sanitizer report aborts the process: the
# fuzzer counts it as a crash and prints the report's tail; the tests fail. Afterwards, rebuild
# without sanitizers: npm run build.
# Options: no leak detection (V8 and LibTorch keep their globals until exit, and LeakSanitizer
# needs ptrace, which containers often forbid); no container-overflow checks (std containers
# cross between the instrumented addon and uninstrumented LibTorch, which gives false reports).
set -eu
cxx=${CXX:-c++}
asan=$($cxx -print-file-name=libasan.so)
if [ ! -e "$asan" ] || [ "$asan" = libasan.so ]; then
  echo "sanitized.sh: $cxx has no libasan.so (install the compiler's sanitizer runtime, e.g. libasan8)" >&2
  exit 1
fi
export LD_PRELOAD="$asan${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:detect_container_overflow=0:abort_on_error=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
exec "$@"
