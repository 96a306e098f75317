#!/usr/bin/env bash
# `cmake --install` puts headers, libcronc (shared and static), the command,
# the pkg-config file and the CMake package where a consumer finds them: a
# small program is built against the installed tree both ways and run.
set -euo pipefail
bin=${CRONC_BINARY_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$bin" --prefix "$prefix" > "$tmp/install.log"

extra=""
if grep -q '^CRONC_SANITIZE:BOOL=ON' "$bin/CMakeCache.txt"; then
  extra="-fsanitize=address,undefined"
fi

test -f "$prefix/include/cronc/cronc.h"
test -x "$prefix/bin/cronc"
pc=$(dirname "$(find "$prefix" -name cronc.pc | head -1)")
libdir=$(dirname "$(find "$prefix" -name 'libcronc.so' | head -1)")
test -f "$libdir/libcronc.a"

cat > "$tmp/consumer.c" <<'C'
#include <cronc/cronc.h>
#include <stdio.h>
#include <string.h>
int main(void) {
  if (strcmp(cronc_error_name(CRONC_ERR_NAME_NOT_RESOLVED), "ERR_NAME_NOT_RESOLVED") != 0)
    return 1;
  printf("consumer ok %s\n", cronc_version());
  return 0;
}
C
# pkg-config, shared library.
flags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs cronc)
${CC:-cc} $extra -o "$tmp/consumer_pc" "$tmp/consumer.c" $flags
LD_LIBRARY_PATH=$libdir "$tmp/consumer_pc" | grep -q 'consumer ok'
# pkg-config --static, static library.
sflags=$(PKG_CONFIG_PATH=$pc pkg-config --static --cflags --libs cronc)
${CC:-cc} $extra -o "$tmp/consumer_static" "$tmp/consumer.c" -Wl,-Bstatic -lcronc -Wl,-Bdynamic \
  $(echo "$sflags" | sed 's/-lcronc//') 
"$tmp/consumer_static" | grep -q 'consumer ok'
# CMake package.
mkdir -p "$tmp/cm"
cp "$tmp/consumer.c" "$tmp/cm/"
cat > "$tmp/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(cronc REQUIRED)
add_executable(consumer consumer.c)
target_compile_options(consumer PRIVATE $extra)
target_link_options(consumer PRIVATE $extra)
target_link_libraries(consumer PRIVATE cronc::cronc_shared)
CM
cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$prefix" > "$tmp/cm.log" 2>&1 \
  || { cat "$tmp/cm.log"; exit 1; }
cmake --build "$tmp/cm/build" > "$tmp/cmb.log" 2>&1 || { cat "$tmp/cmb.log"; exit 1; }
LD_LIBRARY_PATH=$libdir "$tmp/cm/build/consumer" | grep -q 'consumer ok'
echo "install package: headers, shared+static libs, pkg-config and CMake config all usable"
