#!/usr/bin/env bash
# The cronc command's race story against a real Caddy (h1/h2/h3, its own CA)
# on free loopback ports: several URLs on one engine go h2 first (learning
# Alt-Svc) then h3 (--json "winner", "alternative_service"); -v tells the
# race and who won; a restart on the same storage is h3 with 0-RTT; with the
# alternative's UDP blackholed every request is served over h2, the service
# is marked broken and later requests report "quic_broken": true.
set -euo pipefail
cronc=${1:?usage: cronc_race.sh PATH_TO_CRONC}
src=${CRONC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0; passes=0
check() { # name expected actual
  if [ "$2" == "$3" ]; then passes=$((passes + 1)); else
    echo "FAIL $1"; echo "  expected: $2"; echo "  actual:   $3"; fails=$((fails + 1)); fi
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

${CC:-cc} -O2 -o "$tmp/udp_blackhole" "$src/tests/tools/udp_blackhole_main.c"

start_caddy() { # NAME PORT PROTOCOLS ALT_SVC
  local d=$tmp/$1
  mkdir -p "$d/www" "$d/caddy"
  for i in $(seq 1 12); do echo "page $i" > "$d/www/p$i.txt"; done
  cat > "$d/Caddyfile" <<CF
{
  admin off
  auto_https disable_redirects
  skip_install_trust
  storage file_system $d/caddy
  default_sni localhost
  servers {
    protocols $3
  }
  log {
    output discard
  }
}
https://localhost:$2 {
  bind 127.0.0.1
  tls internal
  root * $d/www
  file_server
  header Alt-Svc "$4"
}
CF
  HOME=$d XDG_DATA_HOME=$d/caddy XDG_CONFIG_HOME=$d caddy run --config "$d/Caddyfile" \
    --adapter caddyfile > "$d/caddy.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do
    [ -f "$d/caddy/pki/authorities/local/root.crt" ] &&
      curl -s --cacert "$d/caddy/pki/authorities/local/root.crt" -o /dev/null \
        "https://localhost:$2/p1.txt" && return 0
    sleep 0.1
  done
  cat "$d/caddy.log"; return 1
}

# 1. One engine: h2 first, then h3 once the raced QUIC session is confirmed.
port=$("$tmp/udp_blackhole" --free-port)
start_caddy main "$port" "h1 h2 h3" "h3=\\\":$port\\\"; ma=86400"
ca=$tmp/main/caddy/pki/authorities/local/root.crt
urls=(); for i in $(seq 1 8); do urls+=("https://localhost:$port/p$i.txt"); done
"$cronc" --json --rate 10/s --storage "$tmp/s1" --cacert "$ca" -o /dev/null "${urls[@]}" > "$tmp/j1"
check first-h2 h2 "$(head -1 "$tmp/j1" | json 'd["protocol"]')"
check first-no-race None "$(head -1 "$tmp/j1" | json 'd["winner"]')"
check first-no-alt None "$(head -1 "$tmp/j1" | json 'd["alternative_service"]')"
check second-raced True "$(sed -n 2p "$tmp/j1" | json 'd["winner"] in ("main","alternative")')"
check last-h3 h3 "$(tail -1 "$tmp/j1" | json 'd["protocol"]')"
check last-alt-won alternative "$(tail -1 "$tmp/j1" | json 'd["winner"]')"
check last-alt-svc "h3 localhost:$port" "$(tail -1 "$tmp/j1" | json 'd["alternative_service"]')"
check last-not-broken False "$(tail -1 "$tmp/j1" | json 'd["quic_broken"]')"
# -v tells the same run as a story.
"$cronc" -v --rate 10/s --storage "$tmp/s2" --cacert "$ca" -o /dev/null "${urls[@]:0:6}" 2> "$tmp/v1"
check v-learned 1 "$(grep -c '^\* learned Alt-Svc for https://localhost:' "$tmp/v1")"
check v-no-race-first 1 "$(grep -c '^\* no race: main job only' "$tmp/v1")"
check v-race True "$([ "$(grep -c '^\* race: alternative job to quic localhost:' "$tmp/v1")" -ge 1 ] && echo True)"
check v-alt-won True "$([ "$(grep -c '^\* alternative job won after .* main job cancelled' "$tmp/v1")" -ge 1 ] && echo True)"
check v-timing 6 "$(grep -c '^\* timing:' "$tmp/v1")"

# 2. A restart on the same storage: h3 with 0-RTT on the first request.
"$cronc" --json --storage "$tmp/s1" --cacert "$ca" -o /dev/null "https://localhost:$port/p9.txt" > "$tmp/j2"
check restart-h3 h3 "$(json 'd["protocol"]' < "$tmp/j2")"
check restart-0rtt True "$(json 'd["zero_rtt"]' < "$tmp/j2")"
check restart-alt-won alternative "$(json 'd["winner"]' < "$tmp/j2")"

# 3. The alternative's UDP blackholed (1 s handshake limit): h2 throughout,
#    the service marked broken, later requests report QUIC broken.
"$tmp/udp_blackhole" > "$tmp/bh.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/bh.port" ] && break; sleep 0.1; done
bh=$(cat "$tmp/bh.port")
port2=$("$tmp/udp_blackhole" --free-port)
start_caddy bh "$port2" "h1 h2" "h3=\\\":$bh\\\"; ma=86400"
ca2=$tmp/bh/caddy/pki/authorities/local/root.crt
urls=(); for i in $(seq 1 8); do urls+=("https://localhost:$port2/p$i.txt"); done
"$cronc" -v --json --rate 3/s --storage "$tmp/s3" --cacert "$ca2" -o /dev/null \
  --experimental-options '{"QUIC":{"max_time_before_crypto_handshake_seconds":1}}' \
  "${urls[@]}" > "$tmp/j3" 2> "$tmp/v3"
check bh-all-h2 8 "$(grep -c '"protocol":"h2"' "$tmp/j3")"
check bh-main-won main "$(sed -n 2p "$tmp/j3" | json 'd["winner"]')"
check bh-broken-last True "$(tail -1 "$tmp/j3" | json 'd["quic_broken"]')"
check bh-no-race-last None "$(tail -1 "$tmp/j3" | json 'd["winner"]')"
check bh-v-marked True "$([ "$(grep -c "is now marked broken: the alternative job failed" "$tmp/v3")" -ge 1 ] && echo True)"
check bh-v-quic-broken True "$([ "$(grep -c '^\* QUIC broken: every QUIC alternative is marked broken' "$tmp/v3")" -ge 1 ] && echo True)"
check bh-v-kept-running True "$([ "$(grep -c 'alternative job kept running' "$tmp/v3")" -ge 1 ] && echo True)"
# The broken mark persists for the next process.
"$cronc" --json --storage "$tmp/s3" --cacert "$ca2" -o /dev/null "https://localhost:$port2/p1.txt" > "$tmp/j4"
check bh-restart-broken True "$(json 'd["quic_broken"]' < "$tmp/j4")"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
