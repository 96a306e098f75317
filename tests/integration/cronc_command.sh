#!/usr/bin/env bash
# The cronc command end to end: `alt-svc parse` prints exactly the documented
# JSON and exit codes; `props` learns, persists across processes, selects,
# backs off a broken service, shows and clears; a damaged store is moved aside.
set -euo pipefail
cronc=${1:?usage: cronc_command.sh PATH_TO_CRONC}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0; passes=0
check() { # name expected actual
  if [ "$2" == "$3" ]; then passes=$((passes + 1)); else
    echo "FAIL $1"; echo "  expected: $2"; echo "  actual:   $3"; fails=$((fails + 1)); fi
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# alt-svc parse: exact output and exit status.
out=$("$cronc" alt-svc parse 'h3=":443"'); rc=$?
check parse-basic '{"clear":false,"services":[{"protocol":"h3","host":"","port":443,"max_age":86400,"persist":false}]}' "$out"
check parse-basic-rc 0 "$rc"
out=$("$cronc" alt-svc parse 'clear')
check parse-clear '{"clear":true,"services":[]}' "$out"
out=$("$cronc" alt-svc parse 'h3%2D29="[2001:db8::1]:8443"; ma="180"; persist=1')
check parse-full '{"clear":false,"services":[{"protocol":"h3-29","host":"[2001:db8::1]","port":8443,"max_age":180,"persist":true}]}' "$out"
set +e
out=$("$cronc" alt-svc parse 'h3=":0"'); rc=$?
set -e
check parse-bad-rc 1 "$rc"
check parse-bad-shape error "$(echo "$out" | json 'list(d.keys())[0]')"
check parse-bad-lines 1 "$(echo "$out" | wc -l)"

# props: learn in one process, read in the next ones.
s=$tmp/store
out=$("$cronc" props learn --storage "$s" https://example.com 'h3=":443"; ma=3600, h2="alt.example.com:443"')
check learn-accepted True "$(echo "$out" | json 'd["accepted"]')"
out=$("$cronc" props show --storage "$s")
check show-server https://example.com "$(echo "$out" | json 'd["servers"][0]["server"]')"
check show-alts 2 "$(echo "$out" | json 'len(d["servers"][0]["alternative_service"])')"
out=$("$cronc" props select --storage "$s" https://example.com/index.html)
check select-quic QUIC_SAME_DESTINATION "$(echo "$out" | json 'd["usage"]')"
out=$("$cronc" props select --storage "$s" http://example.com/)
check select-http-none None "$(echo "$out" | json 'd["alternative"]')"

# Broken: 5 minutes, then twice as long on the next break (after confirm
# resets nothing but the current mark, the count grows).
out=$("$cronc" props mark-broken --storage "$s" https://example.com h3 example.com:443)
check broken-300 300 "$(echo "$out" | json 'd["broken_for_s"]')"
out=$("$cronc" props select --storage "$s" https://example.com/)
check select-quic-broken True "$(echo "$out" | json 'd["quic_broken"]')"
check select-none-when-broken None "$(echo "$out" | json 'd["alternative"]')"
out=$("$cronc" props select --storage "$s" --enable-http2-alt https://example.com/)
check select-h2-alt NOT_QUIC_DIFFERENT_DESTINATION "$(echo "$out" | json 'd["usage"]')"
out=$("$cronc" props confirm --storage "$s" https://example.com h3 example.com:443)
check confirmed False "$(echo "$out" | json 'd["broken"] or d["recently_broken"]')"
out=$("$cronc" props show --storage "$s")
check show-no-broken 0 "$(echo "$out" | json 'len(d["broken_alternative_services"])')"

# A malformed header changes nothing; clear clears.
set +e
"$cronc" props learn --storage "$s" https://example.com 'h3=":443"; ma=abc' > "$tmp/o"; rc=$?
set -e
check learn-bad-rc 1 "$rc"
out=$("$cronc" props show --storage "$s")
check learn-bad-unchanged 2 "$(echo "$out" | json 'len(d["servers"][0]["alternative_service"])')"
"$cronc" props learn --storage "$s" https://example.com 'clear' > /dev/null
out=$("$cronc" props show --storage "$s")
check learn-clear 0 "$(echo "$out" | json 'len(d["servers"])')"
"$cronc" props learn --storage "$s" https://other.example 'h3=":443"' > /dev/null
"$cronc" props clear --storage "$s" > /dev/null
out=$("$cronc" props show --storage "$s")
check clear-empties 0 "$(echo "$out" | json 'len(d["servers"])')"

# A damaged store is moved aside; the command still works, with a NetLog.
d=$tmp/damaged; mkdir -p "$d"
head -c 4096 /dev/urandom > "$d/cronc.sqlite"
"$cronc" props learn --storage "$d" --netlog "$tmp/nl.json" https://example.com 'h3=":443"' > /dev/null
check damaged-moved 1 "$(ls "$d" | grep -c 'cronc.sqlite.corrupt-' || true)"
check damaged-netlog True "$(json 'any(e["type"]==d["constants"]["logEventTypes"]["CRONC_STORE_CORRUPTION_RECOVERED"] for e in d["events"])' < "$tmp/nl.json")"
out=$("$cronc" props show --storage "$d")
check damaged-relearned 1 "$(echo "$out" | json 'len(d["servers"])')"


# Fetching: a local HTTP server (python's http.server) for the command's
# curl-like behaviour and its documented exit codes.
www=$tmp/www; mkdir -p "$www/sub"; echo hello > "$www/a.txt"; echo sub > "$www/sub/index.html"
(cd "$www" && exec python3 -m http.server 0 --bind 127.0.0.1 > "$tmp/httpd.log" 2>&1) &
httpd=$!
trap 'kill $httpd 2>/dev/null; rm -rf "$tmp"' EXIT
port=""
for _ in $(seq 1 50); do
  port=$(grep -o 'port [0-9]*' "$tmp/httpd.log" | awk '{print $2}' || true)
  [ -n "$port" ] && break; sleep 0.1
done
base=http://127.0.0.1:$port
rc_of() { set +e; "$@" > "$tmp/out" 2> "$tmp/err"; echo $?; set -e; }

check help-rc 0 "$(rc_of "$cronc" --help)"
check help-lists-exit-codes 1 "$(grep -c '22 HTTP error' "$tmp/out")"
check usage-rc 2 "$(rc_of "$cronc" --bogus "$base/a.txt")"
check no-url-rc 2 "$(rc_of "$cronc" -v)"
check bad-cache-mode-rc 2 "$(rc_of "$cronc" --cache-mode sometimes "$base/a.txt")"
check two-http-options-rc 2 "$(rc_of "$cronc" --http1.1 --http3-only "$base/a.txt")"
check fetch-rc 0 "$(rc_of "$cronc" "$base/a.txt")"
check fetch-body hello "$(cat "$tmp/out")"
check fetch-no-progress-off-tty 0 "$(wc -c < "$tmp/err")"
# Several URLs on one engine, in order, one JSON object each.
rc=$(rc_of "$cronc" --json -o "$tmp/body" "$base/a.txt" "$base/sub/" "$base/a.txt")
check json-rc 0 "$rc"
check json-lines 3 "$(wc -l < "$tmp/out")"
check json-order "$base/sub/" "$(sed -n 2p "$tmp/out" | json 'd["url"]')"
check json-status 200 "$(head -1 "$tmp/out" | json 'd["status"]')"
check json-protocol http/1.1 "$(head -1 "$tmp/out" | json 'd["protocol"]')"
check json-bytes 6 "$(head -1 "$tmp/out" | json 'd["bytes"]')"
check json-fields True "$(head -1 "$tmp/out" | json 'all(k in d for k in ("winner","job_winner","alternative_service","was_cached","zero_rtt","quic_broken","timings_ms","received_bytes","sent_bytes"))')"
# No race over plain http: winner and alternative_service are null.
check json-winner-null None "$(head -1 "$tmp/out" | json 'd["winner"]')"
check json-alt-null None "$(head -1 "$tmp/out" | json 'd["alternative_service"]')"
check json-quic-broken False "$(head -1 "$tmp/out" | json 'd["quic_broken"]')"
# -v numbers each request and tells that there was no race.
check verbose-rc 0 "$(rc_of "$cronc" -v -o /dev/null "$base/a.txt" "$base/sub/")"
check verbose-numbered 1 "$(grep -c '^\* \[2/2\] GET' "$tmp/err")"
check verbose-no-race 2 "$(grep -c 'no race: main job only' "$tmp/err")"
check verbose-timing 2 "$(grep -c '^\* timing:' "$tmp/err")"
check rate-rc 0 "$(rc_of "$cronc" --rate 20/s -o /dev/null "$base/a.txt" "$base/a.txt")"
check bad-rate-rc 2 "$(rc_of "$cronc" --rate fast "$base/a.txt")"
check bad-experimental-rc 2 "$(rc_of "$cronc" --experimental-options '{not json' "$base/a.txt")"
check json-body-file "hello
sub
hello" "$(cat "$tmp/body")"
# Redirects: reported without -L (exit 0), followed with -L.
check redirect-rc 0 "$(rc_of "$cronc" "$base/sub")"
check redirect-reported 1 "$(grep -c 'redirect not followed' "$tmp/err")"
check follow-rc 0 "$(rc_of "$cronc" -L --json "$base/sub")"
check follow-redirects 1 "$(tail -1 "$tmp/out" | json 'd["redirects"]')"
check follow-final "$base/sub/" "$(tail -1 "$tmp/out" | json 'd["final_url"]')"
# HEAD prints the head only.
check head-rc 0 "$(rc_of "$cronc" -I "$base/a.txt")"
check head-status-line 1 "$(grep -c '^HTTP/1.1 200' "$tmp/out")"
# -O names the file after the URL.
cronc_abs=$(cd "$(dirname "$cronc")" && pwd)/$(basename "$cronc")
(cd "$tmp" && "$cronc_abs" -O "$base/a.txt" > /dev/null)
check remote-name hello "$(cat "$tmp/a.txt")"
# Exit codes.
check fail-rc 22 "$(rc_of "$cronc" --fail "$base/missing")"
check fail-no-body 0 "$(wc -c < "$tmp/out")"
check http-error-without-fail-rc 0 "$(rc_of "$cronc" -s "$base/missing")"
check dns-rc 6 "$(rc_of "$cronc" --host-rules 'MAP nx.test ~NOTFOUND' http://nx.test/)"
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
check connect-rc 7 "$(rc_of "$cronc" "http://127.0.0.1:$closed/")"
check local-file-rc 3 "$(rc_of "$cronc" --data-binary @"$tmp/no-such-file" "$base/a.txt")"
check bad-pin-rc 2 "$(rc_of "$cronc" --pin sha256/xyz "$base/a.txt")"
check disk-cache-needs-dir-rc 2 "$(rc_of "$cronc" --cache-mode disk "$base/a.txt")"
check cache-dir-rc 0 "$(rc_of "$cronc" --cache-dir "$tmp/cache" "$base/a.txt")"
check parallel-rc 0 "$(rc_of "$cronc" --parallel --json -o /dev/null "$base/a.txt" "$base/sub/" "$base/a.txt")"
check parallel-lines 3 "$(wc -l < "$tmp/out")"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
