# Sourced by the demo, the benchmarks and the integration tests: the one way slowpath's lab is
# laid out. sp_lab_tap NS makes network namespace NS with its loopback up and a TAP device tap0
# holding the kernel's side, 192.0.2.1/24; slowpath then runs inside NS as 192.0.2.2 on tap0.
# Deleting NS (ip netns del) removes everything it made.
sp_lab_tap() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip -n "$1" tuntap add dev tap0 mode tap
    ip -n "$1" addr add 192.0.2.1/24 dev tap0
    ip -n "$1" link set tap0 up
}

# sp_lab_tun NS: the layout of the original experiment, a point-to-point TUN link without ARP:
# namespace NS with its loopback up and a TUN device tun0 holding the kernel's side, 192.0.2.1
# with peer 192.0.2.2 (the host route to slowpath); slowpath runs inside NS as 192.0.2.2 on tun0
# (slowpath --tun tun0 --ip 192.0.2.2/24).
sp_lab_tun() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip -n "$1" tuntap add dev tun0 mode tun
    ip -n "$1" addr add 192.0.2.1 peer 192.0.2.2 dev tun0
    ip -n "$1" link set tun0 up
}

# sp_answers_ping NS IP: true when the host at IP answers one ping from NS within 1 s (on a TUN,
# where there is no ARP to ask, a slowpath host is up once it does).
sp_answers_ping() { ip netns exec "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1; }

# How long to wait for something that takes a moment when all is well (a daemon coming up, a
# listener, a trace line): generous, because CI is a busy 2-core machine and a wait is a poll that
# ends as soon as the condition holds; only a run that is failing anyway waits this long.
SP_WAIT_S=${SP_WAIT_S:-60}

# sp_wait_until [-p PID] TIMEOUT_S DESCRIPTION CMD...: runs CMD every 0.1 s until it succeeds.
# Returns 1, saying on stderr what it was waiting for, once TIMEOUT_S seconds have passed (a
# deadline, not a number of tries: one try may itself take a second on a slow machine) or, with
# -p, as soon as process PID has exited (what it was waiting for will not happen then).
sp_wait_until() {
    local pid=""
    if [ "$1" = -p ]; then pid=$2; shift 2; fi
    local limit=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@"; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            printf '%s: process %s exited while waiting for %s\n' "$(basename "$0" .sh)" "$pid" "$what" >&2
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            printf '%s: gave up after %s s waiting for %s\n' "$(basename "$0" .sh)" "$limit" "$what" >&2
            return 1
        fi
        sleep 0.1
    done
}

# sp_answers_arp NS IP: true when the host at IP answers one ARP request on NS's tap0 (within 1 s):
# a slowpath host is up once it does.
sp_answers_arp() { ip netns exec "$1" arping -q -c 1 -w 1 -I tap0 "$2" >/dev/null 2>&1; }

# sp_listening NS PORT: true when a TCP socket in NS listens on PORT.
sp_listening() { [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ]; }

# sp_wait_port NS PORT [PID]: waits (SP_WAIT_S) until something listens on TCP PORT in NS, which
# a client started right after a server needs; gives up at once when the server PID has exited.
sp_wait_port() {
    sp_wait_until ${3:+-p "$3"} "$SP_WAIT_S" "a listener on TCP port $2 in $1" sp_listening "$1" "$2"
}

# --- The virtual LAN: one bridge, slowpath hosts on TAPs, Linux clients on veth pairs. ---
# sp_lab_bridge NS makes namespace NS holding bridge br0 (no address: it only switches). The
# slowpath hosts run inside NS, each on its own TAP that is a br0 port (sp_lab_bridge_tap); Linux
# clients live in namespaces of their own, joined to br0 by a veth pair (sp_lab_bridge_client).
# IPv6 is off in every namespace made here, so the captures hold only the hosts' own traffic
# (no router solicitations or MLD reports from the kernels). Deleting the namespaces removes all.
sp_lab_bridge() {
    ip netns add "$1"
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$1" link set lo up
    # No spanning tree: a port forwards as soon as it is up, without a listening/learning delay.
    ip -n "$1" link add br0 type bridge stp_state 0
    ip -n "$1" link set br0 up
}

# sp_lab_bridge_tap NS TAPNAME: a TAP device in NS as a br0 port, for one slowpath host. The port
# carries frames only while a process holds the TAP open (before that its carrier is down).
sp_lab_bridge_tap() {
    ip -n "$1" tuntap add dev "$2" mode tap
    ip -n "$1" link set "$2" master br0
    ip -n "$1" link set "$2" up
}

# sp_lab_bridge_client NS CLIENT_NS IP/N: a Linux client in namespace CLIENT_NS with eth0 = IP/N,
# the other end of its veth pair a br0 port in NS named after the address (ve + its hex: unique
# per client, within the 15 characters of an interface name).
sp_lab_bridge_client() {
    local port
    port=$(printf 've%02x%02x%02x%02x' $(echo "${3%/*}" | tr . ' '))
    ip netns add "$2"
    ip netns exec "$2" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$2" link set lo up
    ip -n "$1" link add "$port" type veth peer name eth0 netns "$2"
    ip -n "$1" link set "$port" master br0
    ip -n "$1" link set "$port" up
    ip -n "$2" addr add "$3" dev eth0
    ip -n "$2" link set eth0 up
}

# sp_client_answers_arp CLIENT_NS IP: true when the host at IP answers one ARP request from the
# client's eth0 (within 1 s): a slowpath host on the bridge is up once it does.
sp_client_answers_arp() { ip netns exec "$1" arping -q -c 1 -w 1 -I eth0 "$2" >/dev/null 2>&1; }
