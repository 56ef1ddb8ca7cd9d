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
