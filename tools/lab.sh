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
