#!/usr/bin/python3
"""Lets a process inside a network namespace reach one model server outside it, without changing
the configuration of either namespace (no veth, no route, no NAT): it listens on 127.0.0.1 at a
free port inside namespace NS and makes its connections from the namespace it was started in.
Prints "listening 127.0.0.1:PORT" once it listens; runs until killed.

    ns_bridge.py --netns NS --url URL

https URL: an HTTP CONNECT proxy (give it to the client as https_proxy) that tunnels only to the
URL's host and port, so TLS stays end to end and nothing here sees a key or a prompt in clear.
http URL (llama.cpp, Ollama): every connection is forwarded to the URL's host and port as it is.
Needs root (setns). Standard library only.
"""
import argparse
import ctypes
import os
import socket
import sys
import threading
import urllib.parse

CLONE_NEWNET = 0x40000000
HEAD_LIMIT = 8192


def fail(msg):
    sys.exit("ns_bridge: " + msg)


def listen_in(ns):
    """A listening socket on 127.0.0.1 inside ns: a socket stays in the namespace it was made in,
    so the thread enters ns, makes it and comes back before anything else runs."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open(os.path.join("/run/netns", ns), os.O_RDONLY)
    if libc.setns(there, CLONE_NEWNET) != 0:
        fail(f"setns {ns}: {os.strerror(ctypes.get_errno())}")
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(64)
    finally:
        if libc.setns(home, CLONE_NEWNET) != 0:
            os._exit(1)   # still inside ns: connecting out from here would be wrong
    os.close(home)
    os.close(there)
    return s


def pump(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
        try:
            s.shutdown(how)
        except OSError:
            pass


def relay(a, b):
    t = threading.Thread(target=pump, args=(b, a), daemon=True)
    t.start()
    pump(a, b)
    t.join()
    a.close()
    b.close()


def read_head(c):
    """The request head of a CONNECT (up to the blank line) and what came after it."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = c.recv(4096)
        if not b or len(buf) > HEAD_LIMIT:
            return None, b""
        buf += b
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def serve_connect(c, host, port):
    head, rest = read_head(c)
    parts = head.split("\r\n", 1)[0].split() if head else []
    if len(parts) != 3 or parts[0] != "CONNECT" or parts[1].lower() != f"{host}:{port}".lower():
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        c.close()
        return
    try:
        up = socket.create_connection((host, port), timeout=15)
        up.settimeout(None)
    except OSError as e:
        c.sendall(f"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nX-Error: {e.strerror}\r\n\r\n".encode())
        c.close()
        return
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    if rest:
        up.sendall(rest)
    relay(c, up)


def serve_forward(c, host, port):
    try:
        up = socket.create_connection((host, port), timeout=15)
        up.settimeout(None)
    except OSError:
        c.close()
        return
    relay(c, up)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--netns", required=True)
    p.add_argument("--url", required=True)
    a = p.parse_args()
    u = urllib.parse.urlsplit(a.url)
    if u.scheme not in ("http", "https") or not u.hostname:
        fail(f"not an http(s) URL: {a.url}")
    port = u.port or (443 if u.scheme == "https" else 80)
    serve = serve_connect if u.scheme == "https" else serve_forward
    s = listen_in(a.netns)
    print(f"listening 127.0.0.1:{s.getsockname()[1]}", flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, u.hostname, port), daemon=True).start()


if __name__ == "__main__":
    main()
