#!/usr/bin/env bash
# TCP against the Linux stack on a clean link: curl to the HTTP status page (200, 404, 405, 400),
# echo and discard with nc compared byte for byte, 200 concurrent echo connections, and every
# frame slowpath sent passes pcap-lint; then a 50 MB echo round trip and 50 MB to discard on a
# second run without a capture (tshark needs minutes to judge 200 MB of frames).
source "$(dirname "$0")/lib.sh"
sp_setup tcpsvc
sp_start --pcap "$SP_TMP/sp.pcap"

# --- HTTP ---
page=$(sp_in curl -sS -m 10 -D "$SP_TMP/hdr" "http://$SP_IP/") || sp_fail "curl http://$SP_IP/"
grep -q '^HTTP/1.1 200 OK' "$SP_TMP/hdr" || sp_fail "status: $(head -n 1 "$SP_TMP/hdr")"
grep -qi '^Content-Type: text/plain' "$SP_TMP/hdr" || sp_fail "no text/plain content type"
len=$(grep -i '^Content-Length:' "$SP_TMP/hdr" | tr -dc 0-9)
[ "$len" -eq "${#page}" ] || [ "$len" -eq "$((${#page} + 1))" ] || sp_fail "Content-Length $len, body ${#page}"
echo "$page" | grep -q '^tcp_conn_opened [1-9]' || sp_fail "page lacks tcp_conn_opened: $page"
echo "$page" | grep -q '^ip_rx [1-9]' || sp_fail "page lacks ip_rx"
code=$(sp_in curl -s -o /dev/null -w '%{http_code}' -m 10 "http://$SP_IP/nothing-here") || true
[ "$code" = 404 ] || sp_fail "GET /nothing-here gave $code, want 404"
code=$(sp_in curl -s -o /dev/null -w '%{http_code}' -m 10 -X POST -d x=1 "http://$SP_IP/") || true
[ "$code" = 405 ] || sp_fail "POST gave $code, want 405"
code=$(sp_in curl -s -o /dev/null -w '%{http_code}' -m 10 -I "http://$SP_IP/") || true
[ "$code" = 200 ] || sp_fail "HEAD gave $code, want 200"
reply=$(printf 'garbage\r\n\r\n' | sp_in nc -N -w 5 "$SP_IP" 80 | head -n 1 | tr -d '\r') || true
[ "$reply" = "HTTP/1.1 400 Bad Request" ] || sp_fail "garbage request got '$reply'"
sp_log "HTTP: 200, 404, 405, HEAD, 400 ok"

# --- echo and discard of 2 MB, captured ---
head -c 2000000 /dev/urandom >"$SP_TMP/2m"
sp_in timeout 60 nc -N "$SP_IP" 7 <"$SP_TMP/2m" >"$SP_TMP/2m.echo" || sp_fail "nc echo failed"
cmp "$SP_TMP/2m" "$SP_TMP/2m.echo" || sp_fail "2 MB echo differs"
out=$(sp_in timeout 60 nc -N "$SP_IP" 9 <"$SP_TMP/2m" | wc -c) || sp_fail "nc discard failed"
[ "$out" -eq 0 ] || sp_fail "discard answered $out bytes"
sp_log "echo and discard of 2 MB ok"

# --- 200 concurrent connections, each echoing its own message ---
sp_in timeout 120 /usr/bin/python3 - "$SP_IP" <<'PY' || sp_fail "200 concurrent echo connections"
import selectors, socket, sys
ip, n = sys.argv[1], 200
sel = selectors.DefaultSelector()
conns = []
for i in range(n):
    s = socket.socket()
    s.settimeout(20)
    s.connect((ip, 7))
    conns.append(s)
# every connection is open at once; now each sends its message and half-closes
for i, s in enumerate(conns):
    s.sendall(("connection %d " % i).encode() * 50)
    s.shutdown(socket.SHUT_WR)
for i, s in enumerate(conns):
    want = ("connection %d " % i).encode() * 50
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    assert got == want, "connection %d: %d bytes back, want %d" % (i, len(got), len(want))
    s.close()
print("200 concurrent echo connections ok")
PY
sp_log "200 concurrent connections ok"

page=$(sp_in curl -sS -m 10 "http://$SP_IP/") || sp_fail "curl after the load"
echo "$page" | grep -E '^(tcp_|drop_tcp)' >&2 || true
sp_stop
sp_lint "$SP_TMP/sp.pcap"

# --- the bulk runs, without a capture ---
sp_start
# --- echo: 50 MB round trip; nc -N sends FIN after the file, then reads until our FIN ---
head -c 50000000 /dev/urandom >"$SP_TMP/50m"
start=$(date +%s.%N)
sp_in timeout 120 nc -N "$SP_IP" 7 <"$SP_TMP/50m" >"$SP_TMP/50m.echo" || sp_fail "nc echo failed"
end=$(date +%s.%N)
cmp "$SP_TMP/50m" "$SP_TMP/50m.echo" || sp_fail "50 MB echo differs"
sp_log "echo: 50 MB round trip identical ($(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}') s)"

# --- discard: 50 MB in, nothing back, and a clean close ---
out=$(sp_in timeout 120 nc -N "$SP_IP" 9 <"$SP_TMP/50m" | wc -c) || sp_fail "nc discard failed"
[ "$out" -eq 0 ] || sp_fail "discard answered $out bytes"
sp_log "discard: 50 MB sent, nothing back"

sp_stop
sp_log "PASS"
