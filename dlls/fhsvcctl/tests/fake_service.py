#!/usr/bin/env python3
"""Development stand-in for `filehistory daemon` (docs/fh-protocol.md).

Only for developing dlls/fhsvcctl before the real service existed; the check
script uses build/filehistory when it is there.  Configured state comes from
FAKE_FH_CONFIGURED=1.  Runs in the foreground; `--detach` forks after the
endpoint file is written.
"""
import hashlib, hmac, os, re, secrets, socket, sys, threading

def endpoint_path():
    p = os.environ.get("FILEHISTORY_ENDPOINT")
    if p: return p
    d = os.environ.get("XDG_RUNTIME_DIR")
    if d: return os.path.join(d, "filehistory", "endpoint")
    import pwd
    home = os.environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir
    return os.path.join(home, ".cache", "filehistory", "endpoint")

def peer_uid(lport, rport):
    want_local, want_remote = "0100007F:%04X" % rport, "0100007F:%04X" % lport
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            c = line.split()
            if c[1] == want_local and c[2] == want_remote:
                return int(c[7])
    return None

lock = threading.Lock()
blocks = set()
state = {"maint": False, "migr": False}
configured = os.environ.get("FAKE_FH_CONFIGURED") == "1"

def serve(conn, secret, port):
    f = conn.makefile("rwb", buffering=0)
    def send(s): conn.sendall(s.encode() + b"\n")
    try:
        # the handshake (protocol section 2): the secret never crosses the wire
        line = f.readline(257).decode(errors="replace").rstrip("\r\n")
        peer = conn.getpeername()[1]
        m = re.fullmatch(r"HELLO ([0-9a-f]{32}) 2", line)
        if not m or peer_uid(peer, port) != os.getuid():
            send("ERR 80070005"); return
        cn, sn = m.group(1), secrets.token_hex(16)
        proof = lambda role: hmac.new(secret.encode(), ("%s %s %s" % (role, cn, sn)).encode(), hashlib.sha256).hexdigest()
        send("CHALLENGE %s %s" % (sn, proof("S")))
        line = f.readline(257).decode(errors="replace").rstrip("\r\n")
        if not hmac.compare_digest(line, "PROOF " + proof("C")):
            send("ERR 80070005"); return
        send("OK 00000000")
        while True:
            raw = f.readline(257)
            if not raw: return
            w = raw.decode(errors="replace").rstrip("\r\n").split(" ")
            with lock:
                if w[0] == "START" and len(w) == 2 and w[1] in ("0", "1"):
                    hr = 0x80040600 if (blocks or state["maint"] or state["migr"]) else (0 if configured else 0x80040601)
                    send("OK %08X" % hr)
                elif w[0] == "STOP" and len(w) == 2 and w[1] in ("0", "1"): send("OK 00000000")
                elif w == ["RELOAD"]: send("OK %08X" % (0 if configured else 0x80040601))
                elif w == ["BLOCK"]: blocks.add(conn); send("OK 00000000")
                elif w == ["UNBLOCK"]: blocks.discard(conn); send("OK 00000000")
                elif w[0] == "CLEAR" and (len(w) == 1 or (len(w) == 3 and all(len(x) == 8 for x in w[1:]))):
                    sys.stderr.write("filehistory: %s\n" % " ".join(w)); send("OK 00000000")
                elif w in (["MAINT_ENTER"], ["MAINT_EXIT"]): state["maint"] = w[0] == "MAINT_ENTER"; send("OK 00000000")
                elif w in (["MIGRATION_START"], ["MIGRATION_END"]): state["migr"] = w[0] == "MIGRATION_START"; send("OK 00000000")
                elif w == ["USERS"]: send("OK 00000000 %d" % (1 if configured else 0))
                elif w == ["STATUS"]: send("OK 00000000 %08X -" % (0xFF if configured else 0))
                elif w == ["QUIT"]: blocks.discard(conn); send("OK 00000000"); return
                else: send("OK 80070057")
    finally:
        with lock: blocks.discard(conn)
        conn.close()

def main():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
    port, secret = s.getsockname()[1], secrets.token_hex(16)
    path = endpoint_path()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = path + ".tmp%d" % os.getpid()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, ("%d %s\n" % (port, secret)).encode()); os.fsync(fd); os.close(fd)
    os.rename(tmp, path)
    if "--detach" in sys.argv and os.fork(): os._exit(0)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, secret, port), daemon=True).start()

main()
