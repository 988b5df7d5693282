#!/bin/sh
# Builds Lua 5.4 (Debian's source package) for wasm32-wasi into bench/.cache/lua/lua.wasm, for
# bench/wasi.ts. Needs: a deb-src entry in the apt sources, and clang, lld, wasi-libc,
# libclang-rt-14-dev-wasm32. Nothing built here is committed.
# Lua raises errors with setjmp/longjmp, which this wasi-libc lacks: setjmp is stubbed, so a Lua
# error aborts the program (the benchmark raises none).
set -e
out="$(cd "$(dirname "$0")/.." && pwd)/.cache/lua"
mkdir -p "$out" && cd "$out"
[ -f lua.wasm ] && exit 0
if ! ls lua5.4_*.orig.tar.gz >/dev/null 2>&1; then
  apt-get source --download-only lua5.4 >/dev/null
fi
rm -rf src-tree && mkdir src-tree && tar -xzf lua5.4_*.orig.tar.gz -C src-tree --strip-components=1
mkdir -p stub
cat > stub/setjmp.h <<'H'
#include <stdlib.h>
typedef int jmp_buf[1];
#define setjmp(b) 0
#define longjmp(b, v) abort()
H
cat > stub/missing.c <<'C'
#include <stdio.h>
/* Not in WASI: Lua's io.tmpfile and os.execute report failure. */
FILE *tmpfile(void) { return NULL; }
int system(const char *command) { return command ? -1 : 0; }
C
cd src-tree/src
clang --target=wasm32-wasi -O2 -w -I../../stub -DLUA_COMPAT_5_3 '-Dlua_tmpnam(b,e)={e=1;}' -DLUA_TMPNAMBUFSIZE=32 \
  -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS \
  -Wl,--strip-all -Wl,-z,stack-size=1048576 \
  -o "$out/lua.wasm" \
  $(ls *.c | grep -v '^luac\.c$') ../../stub/missing.c \
  -lwasi-emulated-signal -lwasi-emulated-process-clocks
echo "$out/lua.wasm"
