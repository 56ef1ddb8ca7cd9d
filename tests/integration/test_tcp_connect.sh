#!/usr/bin/env bash
# Active open: slowpath --connect to a Linux listener sends a 5 MB file (compared byte for byte)
# and exits 0 once it was delivered and both sides closed; --connect to a closed port exits 1
# (connection refused); without --send it sends an HTTP GET and prints the answer.
source "$(dirname "$0")/lib.sh"
sp_setup tcpconn
# Port 40000 and base64 text: Wireshark decodes port 5000 and some random binary payloads as
# other protocols (IPA, Thrift) and would call them malformed.

# sp_start waits for ARP answers, but a client may be done by then: start it directly.
start_client() {
    ip netns exec "$SP_NS" "$SP_BIN/slowpath" --tap tap0 --ip "$SP_IP/24" --mac "$SP_MAC" "$@" \
        >"$SP_TMP/slowpath.out" 2>"$SP_LOG" &
    SP_PID=$!
}
finish_client() {   # finish_client WANT-STATUS WHAT
    local rc=0
    # Bounded: a client that never exits fails here rather than at ctest's timeout.
    sp_wait_until 120 "slowpath ($2) to exit" sp_gone || sp_fail "$2: slowpath still running after 120 s"
    wait "$SP_PID" || rc=$?
    SP_PID=""
    [ "$rc" -eq "$1" ] || sp_fail "$2: slowpath exited with $rc, want $1"
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$SP_LOG"; then
        sp_fail "$2: sanitizer report in the log"
    fi
}
head -c 3750000 /dev/urandom | base64 -w 76 >"$SP_TMP/5m"

# nc -l with stdin at EOF and -N: once our FIN arrives it has written everything and closes too.
sp_in timeout 60 nc -N -l "$SP_PEER" 40000 </dev/null >"$SP_TMP/recv" &
ncpid=$!
# slowpath's SYN must find the listener there: a SYN before it would be refused.
sp_wait_port "$SP_NS" 40000 "$ncpid" || sp_fail "nc -l did not listen on port 40000"
start_client --pcap "$SP_TMP/sp.pcap" --connect "$SP_PEER:40000" --send "$SP_TMP/5m"
finish_client 0 "--connect --send"
wait "$ncpid" || sp_fail "nc -l failed"
cmp "$SP_TMP/5m" "$SP_TMP/recv" || sp_fail "the file received by Linux differs"
sp_log "--connect --send: 5 MB delivered, exit 0"
sp_lint "$SP_TMP/sp.pcap"

# A closed port: RST from Linux, exit status 1.
start_client --connect "$SP_PEER:40001"
finish_client 1 "--connect to a closed port"
grep -q "connection refused" "$SP_LOG" || sp_fail "no 'connection refused' in the log"
sp_log "--connect to a closed port: refused, exit 1"

# No --send: an HTTP GET to a Linux server; the answer goes to stdout.
mkdir -p "$SP_TMP/www"
echo "hello from linux" >"$SP_TMP/www/index.html"
(cd "$SP_TMP/www" && exec ip netns exec "$SP_NS" /usr/bin/python3 -m http.server --bind "$SP_PEER" 8080) \
    >/dev/null 2>&1 &
srvpid=$!
sp_wait_port "$SP_NS" 8080 "$srvpid" || sp_fail "python3 -m http.server did not listen on port 8080"
start_client --connect "$SP_PEER:8080"
finish_client 0 "--connect GET"
grep -q '^HTTP/1.[01] 200' "$SP_TMP/slowpath.out" || sp_fail "GET answer: $(head -n 1 "$SP_TMP/slowpath.out")"
grep -q 'hello from linux' "$SP_TMP/slowpath.out" || sp_fail "GET body missing"
sp_log "--connect GET: 200 and the body"
kill "$srvpid" 2>/dev/null || true
wait "$srvpid" 2>/dev/null || true
