#!/usr/bin/env bash
# The cronc command over HTTP/3 and with the HTTP cache, against a real Caddy
# (h1/h2/h3, its own CA) on a free loopback port: --http3-only speaks h3; a
# second process on the same storage resumes with 0-RTT (--json zero_rtt);
# --cache-dir serves a fresh entry from disk in a second process; -v tells
# the QUIC handshake and the cache outcome.
set -euo pipefail
cronc=${1:?usage: cronc_h3_cache.sh PATH_TO_CRONC}
tmp=$(mktemp -d)
cleanup() { [ -n "${caddy_pid:-}" ] && kill "$caddy_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fails=0; passes=0
check() { # name expected actual
  if [ "$2" == "$3" ]; then passes=$((passes + 1)); else
    echo "FAIL $1"; echo "  expected: $2"; echo "  actual:   $3"; fails=$((fails + 1)); fi
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

port=$(python3 -c '
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        u.close(); t.close()')
mkdir -p "$tmp/www/fresh" "$tmp/caddy"
echo "hello h3" > "$tmp/www/a.txt"
echo "cached" > "$tmp/www/fresh/c.txt"
cat > "$tmp/Caddyfile" <<CF
{
  admin off
  auto_https disable_redirects
  skip_install_trust
  storage file_system $tmp/caddy
  default_sni localhost
  servers {
    protocols h1 h2 h3
  }
  log {
    output discard
  }
}
https://localhost:$port {
  bind 127.0.0.1
  tls internal
  root * $tmp/www
  file_server
  header /fresh/* Cache-Control "max-age=3600"
}
CF
HOME=$tmp XDG_DATA_HOME=$tmp/caddy XDG_CONFIG_HOME=$tmp caddy run --config "$tmp/Caddyfile" \
  --adapter caddyfile > "$tmp/caddy.log" 2>&1 &
caddy_pid=$!
ca=$tmp/caddy/pki/authorities/local/root.crt
for _ in $(seq 200); do
  [ -f "$ca" ] && curl -s --cacert "$ca" -o /dev/null "https://localhost:$port/a.txt" && break
  sleep 0.1
done
base=https://localhost:$port

out=$("$cronc" --http3-only --json --cacert "$ca" --storage "$tmp/s" -o "$tmp/body" "$base/a.txt")
check h3-protocol h3 "$(echo "$out" | json 'd["protocol"]')"
check h3-body "hello h3" "$(cat "$tmp/body")"
check h3-first-not-0rtt False "$(echo "$out" | json 'd["zero_rtt"]')"
out=$("$cronc" --http3-only --json --cacert "$ca" --storage "$tmp/s" -o /dev/null "$base/a.txt")
check h3-restart-0rtt True "$(echo "$out" | json 'd["zero_rtt"]')"
"$cronc" --http3-only -v --cacert "$ca" --storage "$tmp/s" -o /dev/null "$base/a.txt" 2> "$tmp/err"
check h3-verbose-protocol 1 "$(grep -c '^\* h3 200' "$tmp/err")"
check h3-verbose-handshake 1 "$(grep -c '^\* QUIC handshake' "$tmp/err")"
check h3-verbose-0rtt 1 "$(grep -c 'sent as 0-RTT early data' "$tmp/err")"

out=$("$cronc" --json --cache-dir "$tmp/c" -o /dev/null "$base/fresh/c.txt" --cacert "$ca")
check cache-first-miss False "$(echo "$out" | json 'd["was_cached"]')"
out=$("$cronc" --json --cache-dir "$tmp/c" -o "$tmp/cbody" --cacert "$ca" "$base/fresh/c.txt")
check cache-second-process-hit True "$(echo "$out" | json 'd["was_cached"]')"
check cache-body cached "$(cat "$tmp/cbody")"
"$cronc" -v --cache-dir "$tmp/c" --cacert "$ca" -o /dev/null "$base/fresh/c.txt" 2> "$tmp/err"
check cache-verbose 1 "$(grep -c '^\* from the cache' "$tmp/err")"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
