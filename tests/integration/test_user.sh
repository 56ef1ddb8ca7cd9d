#!/usr/bin/env bash
# No root after start-up (--user), and no root at all.
# 1. Started as root with --user: once the TAP, the pcap and the trace are open slowpath runs as
#    the user (uid and gid in /proc/PID/status, no supplementary groups, every capability set
#    empty, no_new_privs) and still answers arping, ping, UDP echo and curl; echo replies
#    delegated to a model come through llm-sim over HTTP (the client needs nothing privileged);
#    the pcap opened as root is written after the drop.
# 2. No root at all: a persistent TAP made for the user (ip tuntap add ... user NAME), and
#    slowpath started as that user with no capabilities: it answers all the same.
# 3. A user that does not exist, or uid 0, is refused before anything is opened.
# The user: nobody, or SP_TEST_USER; when neither exists a throw-away system user is made and
# removed on exit.
source "$(dirname "$0")/lib.sh"
CHECK="/usr/bin/python3 $(dirname "$0")/llm_check.py"
export OPENAI_API_KEY=sp-test-key   # a placeholder, checked by llm-sim
sp_setup user

MADE_USER="" BIN_COPY=""
user_cleanup() {
    [ -n "$MADE_USER" ] && userdel "$MADE_USER" 2>/dev/null
    [ -n "$BIN_COPY" ] && rm -rf "$BIN_COPY"
    return 0
}
sp_on_exit user_cleanup

U=${SP_TEST_USER:-nobody}
if ! getent passwd "$U" >/dev/null; then
    U="sp-test-$$"
    useradd --system --no-create-home --shell /usr/sbin/nologin --user-group "$U" || sp_fail "useradd $U"
    MADE_USER=$U
fi
UID_U=$(id -u "$U") GID_U=$(id -g "$U") GROUP_U=$(id -gn "$U")
[ "$UID_U" != 0 ] || sp_fail "SP_TEST_USER=$U is root"
sp_log "user $U (uid $UID_U, group $GROUP_U $GID_U)"

# status_is FIELD VALUE...: the line "FIELD:" of /proc/SP_PID/status holds exactly VALUE...
status_is() {
    local field=$1 got
    shift
    got=$(awk -v f="$field:" '$1 == f {$1 = ""; sub(/^ /, ""); print}' "/proc/$SP_PID/status")
    [ "$got" = "$*" ] || sp_fail "/proc/$SP_PID/status: $field is '$got', expected '$*'"
}
# unprivileged [BOUNDING]: slowpath runs as the user, in its group alone, with no capability (and
# with an empty bounding set too when BOUNDING is given).
unprivileged() {
    status_is Uid "$UID_U" "$UID_U" "$UID_U" "$UID_U"
    status_is Gid "$GID_U" "$GID_U" "$GID_U" "$GID_U"
    status_is Groups ""
    for set in CapInh CapPrm CapEff CapAmb ${1:+CapBnd}; do
        status_is "$set" 0000000000000000
    done
}
# answers: arping 3/3, ping 5/5, UDP echo and the status page.
answers() {
    local out
    out=$(sp_in arping -c 3 -w 5 -I tap0 "$SP_IP" 2>&1) || true
    echo "$out" | grep -q "Received 3 response" || sp_fail "$1: arping: $out"
    out=$(sp_in ping -n -c 5 -i 0.2 -W 2 "$SP_IP" 2>&1) || true
    echo "$out" | grep -q " 5 received" || sp_fail "$1: ping: $(echo "$out" | tail -n 2)"
    out=$(echo "hello $U" | sp_in nc -u -w 1 "$SP_IP" 7) || true
    [ "$out" = "hello $U" ] || sp_fail "$1: UDP echo returned '$out'"
    out=$(sp_in curl -s -m 10 "http://$SP_IP/") || true
    echo "$out" | grep -q "^slowpath $SP_IP" || sp_fail "$1: curl got '$out'"
}

# 1. --user, started as root; echo replies delegated to llm-sim over HTTP.
sp_start_sim
t="$SP_TMP/user.trace"
sp_start --user "$U" --pcap "$SP_TMP/user.pcap" --trace "$t" --delegate icmp=llm --llm openai \
    --llm-url "http://127.0.0.1:$SIM_PORT/v1" -v
grep -q "running as user $U (uid $UID_U, gid $GID_U), no capabilities" "$SP_LOG" || sp_fail "no 'running as user' line"
unprivileged bounding
status_is NoNewPrivs 1
answers "--user"
sp_wait_until "$SP_WAIT_S" "5 icmp decisions in the trace" sp_traced 5 "$t" --kind icmp ||
    sp_fail "--user: $($CHECK count "$t" --kind icmp 2>&1) icmp decisions traced"
valid=$($CHECK count "$t" --kind icmp --verdict valid)
[ "$valid" -ge 5 ] || sp_fail "--user: $valid valid icmp decisions from llm-sim: $($CHECK report "$t")"
pid=$SP_PID
sp_stop
n=$(tshark -r "$SP_TMP/user.pcap" -Y "icmp.type==0 && ip.src==$SP_IP" 2>/dev/null | wc -l)
[ "$n" -ge 5 ] || sp_fail "--user: $n echo replies in the pcap written after the drop"
sp_log "--user $U: pid $pid ran as uid $UID_U gid $GID_U, no groups, no capabilities (bounding set empty too)," \
    "no_new_privs; arping 3/3, ping 5/5, UDP echo, curl; $valid echo replies from llm-sim; $n replies in the pcap"

# 2. No root at all: the TAP belongs to the user, slowpath starts as the user with nothing else.
ip -n "$SP_NS" link del tap0
ip -n "$SP_NS" tuntap add dev tap0 mode tap user "$U" group "$GROUP_U"
ip -n "$SP_NS" addr add "$SP_PEER/24" dev tap0
ip -n "$SP_NS" link set tap0 up
as_user=(setpriv --reuid="$UID_U" --regid="$GID_U" --clear-groups --inh-caps=-all --bounding-set=-all --)
bin="$SP_BIN/slowpath"
if ! "${as_user[@]}" test -x "$bin"; then
    # The build tree is not the user's to read: a copy it can run.
    BIN_COPY=$(mktemp -d /tmp/sp-user-bin.XXXXXX)
    chmod 755 "$BIN_COPY"
    cp "$bin" "$BIN_COPY/"
    bin="$BIN_COPY/slowpath"
fi
# Debian makes /dev/net/tun 0666 (the TAP's own owner check is what guards it, at TUNSETIFF);
# containers often leave it 0600. Then the daemon gets a 0666 node of its own, bound over
# /dev/net/tun in the mount namespace ip netns exec makes for it, which goes away with it:
# nothing outside changes.
devnode=""
if ! "${as_user[@]}" test -r /dev/net/tun -a -w /dev/net/tun; then
    devnode="$SP_TMP/dev"
    mkdir "$devnode"
    sp_log "/dev/net/tun is not open to $U here: a private 0666 node for the daemon's mount namespace"
fi
# Through sh, which execs setpriv, which execs slowpath: $! is slowpath.
ip netns exec "$SP_NS" sh -c '
    if [ -n "$1" ]; then
        mount -t tmpfs -o mode=755,size=64k sp-dev "$1" && mknod -m 666 "$1/tun" c 10 200 &&
            mount --bind "$1/tun" /dev/net/tun || exit 1
    fi
    shift
    exec "$@"' sh "$devnode" "${as_user[@]}" "$bin" --tap tap0 --ip "$SP_IP/24" --mac "$SP_MAC" -v \
    >"$SP_TMP/slowpath.out" 2>"$SP_LOG" &
SP_PID=$!
sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "slowpath (as $U) to answer ARP" sp_answers_arp "$SP_NS" "$SP_IP" ||
    sp_fail "no root: slowpath did not come up"
unprivileged bounding
answers "no root"
pid=$SP_PID
sp_stop
sp_log "no root: pid $pid started as $U with no capabilities on a TAP owned by $U; arping 3/3, ping 5/5, UDP echo, curl"

# 3. Refused before anything is opened (no TAP named here exists): exit 2 and one line.
for bad in "sp-no-such-user-$$" root 0; do
    rc=0
    out=$("$SP_BIN/slowpath" --tap sp-none --ip "$SP_IP/24" --user "$bad" 2>&1) || rc=$?
    [ "$rc" = 2 ] && echo "$out" | grep -q -- "--user '$bad'" || sp_fail "--user $bad: exit $rc, '$out'"
done
sp_log "--user with an unknown user, root or uid 0: refused (exit 2) before opening anything"
sp_log "PASS"
