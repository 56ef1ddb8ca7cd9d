#!/usr/bin/env bash
# Install and embed: `cmake --install` into a temporary prefix puts the daemon, llm-sim, the
# shared libslowpath, the headers (each compiles on its own), slowpath.pc, the man pages and the
# examples in place; examples/tap_host.c builds with `pkg-config --cflags --libs slowpath` alone
# and, run on a TAP in a throw-away namespace, answers ping and UDP echo; both man pages render;
# `cpack -G DEB` makes package slowpath depending on the Debian runtime libraries, and its files
# unpack (dpkg -x) into a clean root where the daemon runs and pkg-config finds the library.
# Nothing is installed into the real system.
# sp-test: normal-build-only (packaging: what gets installed and where, nothing the sanitizers look at)
source "$(dirname "$0")/lib.sh"
sp_setup install
BUILD=$(cd "$SP_BIN/.." && pwd)
P="$SP_TMP/prefix"

cmake --install "$BUILD" --prefix "$P" >"$SP_TMP/install.log" || sp_fail "cmake --install: $(tail -n 5 "$SP_TMP/install.log")"
for f in sbin/slowpath bin/llm-sim lib/libslowpath.so lib/libslowpath.so.0 lib/pkgconfig/slowpath.pc \
    include/slowpath/iface.h include/slowpath/edge.h include/slowpath/wire/ipv4.h include/slowpath/llm/decider.h \
    share/man/man8/slowpath.8 share/man/man1/llm-sim.1 \
    share/doc/slowpath/examples/tap_host.c share/doc/slowpath/examples/slowpath.service; do
    [ -e "$P/$f" ] || sp_fail "not installed: $f"
done
"$P/sbin/slowpath" --help >/dev/null || sp_fail "the installed daemon does not run"
"$P/bin/llm-sim" --help >/dev/null || sp_fail "the installed llm-sim does not run"
sp_log "installed into a temporary prefix"

export PKG_CONFIG_PATH="$P/lib/pkgconfig"
pkg-config --exists slowpath || sp_fail "pkg-config does not find slowpath"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
[ "$(pkg-config --modversion slowpath)" = "$version" ] || sp_fail "slowpath.pc's version is not $version"
read -r -a cflags <<<"$(pkg-config --cflags slowpath)"
read -r -a libs <<<"$(pkg-config --libs slowpath)"
# A sanitizer build's library needs its runtime in the program too.
san=()
# shellcheck disable=SC2054 # one flag whose value has a comma
grep -q '^SLOWPATH_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" && san=(-fsanitize=address,undefined)

# Every public header stands alone, in strict C11 (plus POSIX, which libuv's headers need).
n=0
while IFS= read -r h; do
    rel=${h#"$P/include/"}
    printf '#define _DEFAULT_SOURCE\n#include <%s>\n' "$rel" |
        cc -std=c11 -Wall -Wextra -Werror "${cflags[@]}" -x c -fsyntax-only - 2>"$SP_TMP/hdr.err" ||
        sp_fail "$rel does not compile alone: $(head -n 3 "$SP_TMP/hdr.err")"
    n=$((n + 1))
done < <(find "$P/include/slowpath" -name '*.h' ! -name 'layer_*.h')
sp_log "$n installed headers compile alone"

# The example, against the installed package only (no include or library path of the tree).
cc -std=c11 -Wall -Wextra -Werror "${san[@]}" -o "$SP_TMP/tap_host" "$P/share/doc/slowpath/examples/tap_host.c" \
    "${cflags[@]}" "${libs[@]}" -Wl,-rpath,"$P/lib" 2>"$SP_TMP/cc.err" || sp_fail "tap_host does not build: $(head -n 5 "$SP_TMP/cc.err")"
grep -qF "$P/lib/libslowpath.so.0" <<<"$(ldd "$SP_TMP/tap_host")" || sp_fail "tap_host does not use the installed libslowpath"
ip netns exec "$SP_NS" "$SP_TMP/tap_host" tap0 "$SP_IP/24" >"$SP_TMP/host.out" 2>"$SP_TMP/host.err" &
SP_PID=$!
# shellcheck disable=SC2034 # lib.sh's sp_fail shows it
SP_LOG="$SP_TMP/host.err"
sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "tap_host to answer ARP" sp_answers_arp "$SP_NS" "$SP_IP" || sp_fail "tap_host did not come up"
out=$(sp_in ping -n -c 5 -i 0.1 -W 2 "$SP_IP" 2>&1) || true
echo "$out" | grep -q " 5 received" || sp_fail "tap_host ping: $(echo "$out" | tail -n 2)"
reply=$(echo "embedded" | sp_in nc -u -w 1 "$SP_IP" 7) || true
[ "$reply" = "embedded" ] || sp_fail "tap_host UDP echo returned '$reply'"
kill -TERM "$SP_PID"
rc=0
wait "$SP_PID" || rc=$?
SP_PID=""
[ "$rc" = 0 ] || sp_fail "tap_host exited $rc: $(tail -n 5 "$SP_TMP/host.err")"
grep -q "5 echo replies, 1 UDP echoed" "$SP_TMP/host.out" || sp_fail "tap_host's counters: $(cat "$SP_TMP/host.out")"
sp_log "tap_host (built with pkg-config) answers ping 5/5 and UDP echo"

for page in "$P/share/man/man8/slowpath.8" "$P/share/man/man1/llm-sim.1"; do
    MANWIDTH=80 man -l "$page" >"$SP_TMP/page.txt" 2>"$SP_TMP/man.err" || sp_fail "man -l $page: $(cat "$SP_TMP/man.err")"
    grep -q "^SYNOPSIS" "$SP_TMP/page.txt" || sp_fail "man -l $page: no SYNOPSIS"
done
sp_log "man -l renders slowpath(8) and llm-sim(1)"

# The Debian package, built from the same build tree, unpacked into an empty root.
(cd "$SP_TMP" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$SP_TMP/deb" >"$SP_TMP/cpack.log" 2>&1) ||
    sp_fail "cpack -G DEB: $(tail -n 10 "$SP_TMP/cpack.log")"
deb=$(find "$SP_TMP/deb" -maxdepth 1 -name 'slowpath_*.deb' | head -n 1)
[ -n "$deb" ] || sp_fail "no slowpath_*.deb: $(tail -n 5 "$SP_TMP/cpack.log")"
[ "$(dpkg-deb -f "$deb" Package)" = slowpath ] || sp_fail "package name $(dpkg-deb -f "$deb" Package)"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libuv1 libcurl4 libcjson1 libpcap0.8 libc6; do
    grep -qE "(^|, )$lib( |,|$)" <<<"$depends" || sp_fail "Depends lacks $lib: $depends"
done
root="$SP_TMP/root"
dpkg -x "$deb" "$root"
for f in usr/sbin/slowpath usr/bin/llm-sim usr/lib/libslowpath.so.0 usr/lib/pkgconfig/slowpath.pc \
    usr/include/slowpath/iface.h usr/share/man/man8/slowpath.8 usr/share/man/man1/llm-sim.1 \
    usr/share/doc/slowpath/examples/tap_host.c usr/share/doc/slowpath/examples/slowpath.service; do
    [ -e "$root/$f" ] || sp_fail "not in the package: /$f"
done
"$root/usr/sbin/slowpath" --print-config >/dev/null || sp_fail "the packaged daemon does not run"
[ "$(PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" pkg-config --variable=includedir slowpath)" -ef "$root/usr/include" ] ||
    sp_fail "the packaged slowpath.pc does not find its own prefix"
sp_log "$(basename "$deb"): Depends: $depends; unpacked into a clean root"
sp_log "PASS"
