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

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
