#!/usr/bin/env bash
# libcronet.so exports exactly the functions of Cronet's C API listed in
# exported_symbols.txt (generated with the header): each one, and nothing
# else (no cronc_*, no library internals, no hidden _move functions).
set -euo pipefail
lib=${1:?usage: check_symbols.sh libcronet.so exported_symbols.txt}
want=${2:?}
got=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TWDBR]/ {print $3}' | sed 's/@.*//' | sort -u)
missing=$(comm -23 <(sort -u "$want") <(echo "$got"))
extra=$(comm -13 <(sort -u "$want") <(echo "$got"))
if [ -n "$missing" ]; then echo "missing exports:"; echo "$missing"; fi
if [ -n "$extra" ]; then echo "unexpected exports:"; echo "$extra"; fi
echo "$(echo "$got" | wc -l) exported, $(wc -l < "$want") expected"
[ -z "$missing" ] && [ -z "$extra" ]
