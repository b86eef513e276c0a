package dev.ignis.worker;

/**
 * The hostile python function of {@link SandboxContract}'s isolation cases: dispatches on event["probe"], tries one
 * thing a sandbox must deny and returns what happened ("ALLOWED: …" or "DENIED: ERRNO"), never raises.
 */
final class ContractProbes {
    private ContractProbes() {}

    static final String HOSTILE = """
            import os, socket, ctypes, errno, time
            libc = ctypes.CDLL(None, use_errno=True)
            def attempt(f):
                try:
                    return "ALLOWED: " + repr(f())
                except OSError as e:
                    return "DENIED: " + errno.errorcode.get(e.errno, str(e.errno))
            def connect(host, port):
                s = socket.socket(); s.settimeout(2)
                try:
                    s.connect((host, port)); return "connected"
                finally:
                    s.close()
            def syscall(name, *args):
                r = getattr(libc, name)(*args)
                if r != 0:
                    e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
                return r
            def fill_tmp(mb):
                with open("/tmp/fill", "wb") as f:
                    for i in range(mb):
                        f.write(b"x" * 1048576); f.flush()
                return "wrote all"
            def fork_bomb():
                n = 0
                while True:
                    try:
                        pid = os.fork()
                    except OSError as e:
                        return "stopped after %d forks: %s" % (n, errno.errorcode.get(e.errno))
                    if pid == 0:
                        time.sleep(60); os._exit(0)
                    n += 1
            def comm(pid):
                # user-space processes only: a kernel thread has an empty cmdline
                try:
                    if not open("/proc/%d/cmdline" % pid, "rb").read(): return None
                    return open("/proc/%d/comm" % pid).read().strip()
                except OSError:
                    return None
            def handler(event):
                p = event["probe"]
                if p == "read": return attempt(lambda: open(event["path"]).read(100))
                if p == "list": return attempt(lambda: sorted(os.listdir(event["path"])))
                if p == "write": return attempt(lambda: open(event["path"], "w").write("x"))
                if p == "connect": return attempt(lambda: connect(event["host"], event["port"]))
                if p == "pids": return sorted(int(d) for d in os.listdir("/proc") if d.isdigit())
                if p == "procs": return [[pid, comm(pid)] for pid in sorted(int(d) for d in os.listdir("/proc") if d.isdigit()) if comm(pid)]
                if p == "stdio":
                    import fcntl
                    return [bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK) for fd in (1, 2)]
                if p == "tmpsize": return os.statvfs("/tmp").f_blocks * os.statvfs("/tmp").f_frsize
                if p == "ifaces": return sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:])
                if p == "listeners": return [l.split()[1] for l in open("/proc/net/tcp").read().splitlines()[1:] if l.split()[3] == "0A"]
                if p == "ptrace": return attempt(lambda: syscall("ptrace", 0, 0, 0, 0))
                if p == "mount": return attempt(lambda: syscall("mount", b"none", b"/tmp", b"tmpfs", 0, None))
                if p == "unshare": return attempt(lambda: syscall("unshare", 0x10000000))
                if p == "status": return {l.split(":")[0]: l.split(":")[1].strip() for l in open("/proc/self/status") if ":" in l}
                if p == "uid": return [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]
                if p == "fill": return attempt(lambda: fill_tmp(event["mb"]))
                if p == "forkbomb": return fork_bomb()
                if p == "flood":
                    socks, refused = [], 0
                    for i in range(50):
                        s = socket.socket(); s.settimeout(2); s.connect(("127.0.0.1", 9001)); socks.append(s)
                    time.sleep(0.3)
                    for s in socks:
                        try:
                            s.send(b"GET /2018-06-01/runtime/restore/next HTTP/1.1\\r\\n\\r\\n")
                            if s.recv(100) == b"": refused += 1
                        except OSError:
                            refused += 1
                        s.close()
                    return refused
                if p == "rlimits":
                    import resource
                    fds, err = [], "none"
                    try:
                        for i in range(2000):
                            fds.append(os.open("/dev/null", os.O_RDONLY))
                    except OSError as e:
                        err = errno.errorcode.get(e.errno)
                    for fd in fds:
                        os.close(fd)
                    lim = (ctypes.c_ulong * 2)(4096, 4096)  # the kernel, not python's own check
                    raise_hard = attempt(lambda: syscall("setrlimit", resource.RLIMIT_NOFILE, ctypes.byref(lim)))
                    return {"nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)), "core": list(resource.getrlimit(resource.RLIMIT_CORE)),
                            "opened": len(fds), "error": err, "raise": raise_hard}
                if p == "marker": return attempt(lambda: open("/tmp/marker-" + event["name"], "w").write("secret"))
                return "unknown probe"
            """;
}
