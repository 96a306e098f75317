#!/usr/bin/env bash
# The example of docs/API.md: the guide shows exactly examples/fetch.c, and
# the program fetches two URLs from a local server (one a redirect) with
# its executor, exiting 0, and fails cleanly (exit 1) on a refused port.
set -euo pipefail
bin=${1:?usage: run_fetch.sh example_fetch API.md fetch.c}
doc=${2:?}
src=${3:?}
python3 - "$doc" "$src" <<'PY'
import sys
doc, src = open(sys.argv[1]).read(), open(sys.argv[2]).read()
sys.exit(0 if src in doc else "docs/API.md does not show examples/fetch.c verbatim")
PY
tmp=$(mktemp -d)
mkdir -p "$tmp/www/dir"; echo hello > "$tmp/www/a.txt"; echo inner > "$tmp/www/dir/index.html"
(cd "$tmp/www" && exec python3 -m http.server 0 --bind 127.0.0.1 > "$tmp/httpd.log" 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
port=""
for _ in $(seq 1 50); do
  port=$(grep -o 'port [0-9]*' "$tmp/httpd.log" | awk '{print $2}' || true)
  [ -n "$port" ] && break; sleep 0.1
done
out=$("$bin" "http://127.0.0.1:$port/a.txt" "http://127.0.0.1:$port/dir" 2> "$tmp/err")
[ "$out" == "hello
inner" ] || { echo "unexpected body: $out"; cat "$tmp/err"; exit 1; }
grep -q 'redirect 301' "$tmp/err" || { echo "no redirect line"; cat "$tmp/err"; exit 1; }
[ "$(grep -c '^finished .*: succeeded' "$tmp/err")" == 2 ] || { cat "$tmp/err"; exit 1; }
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
set +e
"$bin" "http://127.0.0.1:$closed/" 2> "$tmp/err2"; rc=$?
set -e
[ "$rc" == 1 ] && grep -q 'net::ERR_CONNECTION_REFUSED' "$tmp/err2" || { cat "$tmp/err2"; exit 1; }
echo ok
