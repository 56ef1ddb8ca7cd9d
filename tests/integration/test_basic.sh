#!/usr/bin/env bash
# The foundation against the Linux stack: ARP, ping (plain, 1472 bytes, 4000 bytes fragmented both
# ways), UDP echo with nc, ICMP port unreachable for a closed port, and a clean capture.
source "$(dirname "$0")/lib.sh"
sp_setup basic
sp_start --pcap "$SP_TMP/sp.pcap"

out=$(sp_in arping -c 3 -w 5 -I tap0 "$SP_IP" 2>&1) || true
echo "$out" | grep -q "Received 3 response" || sp_fail "arping: $out"
echo "$out" | grep -qi "$SP_MAC" || sp_fail "arping answered with another MAC: $out"
sp_log "arping 3/3"

check_ping() {
    local count=$1; shift
    local out
    out=$(sp_in ping -n -c "$count" -i 0.05 -W 2 "$@" "$SP_IP" 2>&1) || true
    echo "$out" | grep -q " $count received" || sp_fail "ping $* : $(echo "$out" | tail -n 3)"
    sp_log "ping $* ${count}/${count}: $(echo "$out" | tail -n 1)"
}
check_ping 20
check_ping 5 -s 1472
check_ping 5 -s 4000
check_ping 3 -s 8000 -M dont

reply=$(echo "hello slowpath" | sp_in nc -u -w 1 "$SP_IP" 7) || true
[ "$reply" = "hello slowpath" ] || sp_fail "UDP echo via nc returned '$reply'"
sp_log "UDP echo via nc ok"

# A larger datagram (fragmented both ways) and a closed port, checked from Python.
sp_in /usr/bin/python3 - "$SP_IP" <<'PY' || sp_fail "UDP checks"
import socket, sys
ip = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
data = bytes(range(256)) * 16  # 4096 bytes: three fragments each way
s.sendto(data, (ip, 7))
got, _ = s.recvfrom(65535)
assert got == data, "echo of 4096 bytes differs"
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(2)
c.connect((ip, 4444))
c.send(b"anyone?")
try:
    c.recv(100)
    sys.exit("closed port answered")
except ConnectionRefusedError:
    pass  # ICMP port unreachable arrived
print("udp large echo and port unreachable ok")
PY

sp_stop
sp_lint "$SP_TMP/sp.pcap"
n=$(tshark -r "$SP_TMP/sp.pcap" -Y "icmp.type==3 && icmp.code==3 && ip.src==$SP_IP" 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || sp_fail "no port unreachable in the capture"
sp_log "PASS"
