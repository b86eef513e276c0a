/*
 * ignis-guest-agent: PID 1 of every microVM sandbox (docs/sandbox-microvm.md). Static, no libc beyond glibc's
 * static archive; compiled on the host by the worker (cc -O2 -static) and put into the initramfs as /init.
 *
 * Boot: mounts /dev, /proc, /sys; loads the kernel modules listed in /ignis/modules (virtio-mmio, virtio-serial,
 * 9p), in that order; finds its two virtio-serial ports by name (ignis.mux, ignis.log); says HELLO on the mux port
 * and reads the host's CONFIG: guest memory limit for the runtime, /tmp size, the 9p tags to mount read-only and
 * where, the runtime's argv and environment. The function's environment thus never appears on the host's command
 * line. Then: /tmp as a sized tmpfs, a cgroup v2 group with memory.max = MemorySize for the runtime, lo up, a
 * listener on 127.0.0.1:9001, and the runtime started as uid/gid 993 with no capabilities, stdout and stderr on the
 * log port, cwd /var/task.
 *
 * Runtime API: every connection the runtime opens to 127.0.0.1:9001 is relayed as frames over the mux port (OPEN,
 * DATA, CLOSE per connection, at most MAXCONN at once); the host turns each into a TCP connection to the worker's
 * own Runtime API server, so there is one implementation of the API. Before each chunk the runtime sends, a STATS
 * frame carries the runtime cgroup's memory.peak and OOM kills (REPORT's Max Memory Used). When the runtime exits the agent sends EXIT
 * (wait status, the cgroup's oom_kill count, memory.peak) and the host stops the VM.
 *
 * Frame: u8 type, u8 connection, u16 length (big endian), then length bytes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { F_HELLO = 1, F_CONFIG = 2, F_OPEN = 3, F_DATA = 4, F_CLOSE = 5, F_STARTED = 6, F_EXIT = 7, F_STATS = 8,
       F_RESUME = 9 };
#define MAXCONN 8
/* What the runtime sent on one connection since the host last answered on it: replayed to a new host after a restore */
#define REPLAY_MAX 16384
#define RUNTIME_UID 993
#define MAXCONFIG (1 << 20)

static int mux = -1;

static void fail(const char *what) {
    char buf[256];
    int n = snprintf(buf, sizeof buf, "ignis-guest-agent: %s: %s\n", what, strerror(errno));
    int k = open("/dev/kmsg", O_WRONLY);
    if (k >= 0) { (void) !write(k, buf, n); close(k); }
    (void) !write(2, buf, n);
    reboot(RB_POWER_OFF);
    _exit(1);
}

static long uptime_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) { if (errno == EINTR) continue; fail("write"); }
        c += w; n -= (size_t) w;
    }
}

static void send_frame(int type, int conn, const void *p, size_t n) {
    unsigned char h[4] = { (unsigned char) type, (unsigned char) conn, (unsigned char) (n >> 8), (unsigned char) n };
    char buf[4 + 65535];
    memcpy(buf, h, 4);
    if (n) memcpy(buf + 4, p, n);
    write_all(mux, buf, 4 + n);
}

/* Reads exactly n bytes from the mux port (blocking). */
static void read_exact(void *p, size_t n) {
    char *c = p;
    while (n > 0) {
        ssize_t r = read(mux, c, n);
        if (r < 0) { if (errno == EINTR) continue; fail("read mux"); }
        if (r == 0) { usleep(1000); continue; } /* host side not connected yet */
        c += r; n -= (size_t) r;
    }
}

static void write_file(const char *path, const char *value) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) fail(path);
    write_all(fd, value, strlen(value));
    close(fd);
}

static long read_keyed(const char *path, const char *key) {
    char buf[4096];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    size_t kl = strlen(key);
    if (kl == 0) return atol(buf);
    for (char *l = buf; l && *l; ) {
        if (strncmp(l, key, kl) == 0 && (l[kl] == ' ' || l[kl] == '\n' || l[kl] == 0)) return atol(l + kl);
        l = strchr(l, '\n');
        if (l) l++;
    }
    return -1;
}

static void mkdirs(const char *path) {
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') { *s = 0; mkdir(p, 0755); *s = '/'; }
    }
    mkdir(p, 0755);
}

static void load_modules(void) {
    FILE *f = fopen("/ignis/modules", "r");
    if (!f) fail("/ignis/modules");
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line) continue;
        int fd = open(line, O_RDONLY | O_CLOEXEC);
        if (fd < 0) fail(line);
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST) fail(line);
        close(fd);
    }
    fclose(f);
}

/* /dev/vportNpM whose /sys/class/virtio-ports/<dev>/name is name; waits up to 10 s for it to appear. */
static int open_port(const char *name) {
    for (int tries = 0; tries < 10000; tries++) {
        DIR *d = opendir("/sys/class/virtio-ports");
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (e->d_name[0] == '.') continue;
                char p[512], n[128] = {0};
                snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
                int fd = open(p, O_RDONLY);
                if (fd < 0) continue;
                ssize_t r = read(fd, n, sizeof n - 1);
                close(fd);
                if (r > 0 && n[r - 1] == '\n') n[r - 1] = 0;
                if (strcmp(n, name) == 0) {
                    snprintf(p, sizeof p, "/dev/%s", e->d_name);
                    closedir(d);
                    int pfd = open(p, O_RDWR | O_CLOEXEC);
                    if (pfd < 0) fail(p);
                    return pfd;
                }
            }
            closedir(d);
        }
        usleep(1000);
    }
    errno = ENOENT;
    fail(name);
    return -1;
}

/* /dev/vdX whose virtio serial is serial (a read-only ext4 image of a host directory); waits up to 10 s for it */
static void block_device(const char *serial, char *dev, size_t n) {
    for (int tries = 0; tries < 10000; tries++) {
        DIR *d = opendir("/sys/block");
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (strncmp(e->d_name, "vd", 2) != 0) continue;
                char p[512], v[128] = {0};
                snprintf(p, sizeof p, "/sys/block/%s/serial", e->d_name);
                int fd = open(p, O_RDONLY);
                if (fd < 0) continue;
                ssize_t r = read(fd, v, sizeof v - 1);
                close(fd);
                if (r > 0 && v[r - 1] == '\n') v[r - 1] = 0;
                snprintf(dev, n, "/dev/%s", e->d_name);
                if (strcmp(v, serial) == 0 && access(dev, F_OK) == 0) { /* devtmpfs makes the node a moment later */
                    closedir(d);
                    return;
                }
            }
            closedir(d);
        }
        usleep(1000);
    }
    errno = ENOENT;
    fail(serial);
}

/* After a restore: the host's fresh entropy into the pool, and the CRNG reseeded from it at once, so that clones of one
 * snapshot draw different random numbers from here on (the kernel also reseeds on a vmgenid change where it has one). */
static void reseed(const unsigned char *p, size_t n) {
    int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail("/dev/urandom");
    struct { int entropy_count; int buf_size; unsigned char buf[256]; } info;
    if (n > sizeof info.buf) n = sizeof info.buf;
    info.entropy_count = (int) n * 8;
    info.buf_size = (int) n;
    memcpy(info.buf, p, n);
    if (ioctl(fd, RNDADDENTROPY, &info) != 0) fail("RNDADDENTROPY");
    if (ioctl(fd, RNDRESEEDCRNG) != 0) fail("RNDRESEEDCRNG");
    close(fd);
}

static void loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail("SIOCGIFFLAGS lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail("SIOCSIFFLAGS lo");
    close(s);
}

int main(void) {
    mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    long t_agent = uptime_ms();
    load_modules();
    mux = open_port("ignis.mux");
    int logfd = open_port("ignis.log");
    char hello[64];
    int hn = snprintf(hello, sizeof hello, "ignis-agent 1 %ld", t_agent);
    send_frame(F_HELLO, 0, hello, (size_t) hn);

    /* HELLO again every 200 ms until the host answers: its side of the port may connect after the first one, and a VM
     * restored from a snapshot meets a new host side (the snapshot issue) */
    for (;;) {
        struct pollfd hp = { .fd = mux, .events = POLLIN };
        if (poll(&hp, 1, 200) > 0) {
            if (hp.revents & POLLIN) break;
            usleep(200000); /* POLLHUP: nobody on the host side yet */
        }
        send_frame(F_HELLO, 0, hello, (size_t) hn);
    }
    /* CONFIG: NUL-terminated fields: memory_bytes, tmp_bytes, pids_max, nmounts, (tag, path)*, nbinds, (src, dst)*,
     * argc, argv*, env* */
    unsigned char h[4];
    read_exact(h, 4);
    size_t len = ((size_t) h[2] << 8) | h[3];
    if (h[0] != F_CONFIG) { errno = EPROTO; fail("expected CONFIG"); }
    /* a CONFIG may span several frames: a zero-length CONFIG frame ends it */
    char *cfg = malloc(MAXCONFIG);
    size_t clen = 0;
    while (len > 0) {
        if (clen + len > MAXCONFIG) { errno = E2BIG; fail("CONFIG"); }
        read_exact(cfg + clen, len);
        clen += len;
        read_exact(h, 4);
        len = ((size_t) h[2] << 8) | h[3];
        if (h[0] != F_CONFIG) { errno = EPROTO; fail("expected CONFIG"); }
    }
    char *fields[65536];
    int nf = 0;
    for (size_t i = 0; i < clen && nf < 65536; ) {
        fields[nf++] = cfg + i;
        size_t l = strnlen(cfg + i, clen - i);
        if (i + l >= clen) { errno = EPROTO; fail("CONFIG field"); }
        i += l + 1;
    }
    int fi = 0;
#define NEXT() (fi < nf ? fields[fi++] : (errno = EPROTO, fail("CONFIG short"), (char *) 0))
    const char *memory = NEXT();
    const char *tmp = NEXT();
    const char *pids = NEXT();
    int nmounts = atoi(NEXT());
    for (int i = 0; i < nmounts; i++) {
        const char *tag = NEXT();
        const char *path = NEXT();
        mkdirs(path);
        if (strncmp(tag, "blk:", 4) == 0) {
            /* a snapshottable VM's read-only ext4 image (no journal: nothing to replay, nothing written) */
            char dev[300];
            block_device(tag + 4, dev, sizeof dev);
            if (mount(dev, path, "ext4", MS_RDONLY | MS_NOSUID | MS_NODEV, "noload") != 0) {
                char what[600];
                snprintf(what, sizeof what, "mount %s (%s) at %s", dev, tag + 4, path);
                fail(what);
            }
        } else if (mount(tag, path, "9p", MS_RDONLY | MS_NOSUID | MS_NODEV,
                  "trans=virtio,version=9p2000.L,cache=loose,msize=262144") != 0) fail(path);
    }
    /* single files (the interpreter, a CA bundle): bound read-only from the files share onto their own path */
    int nbinds = atoi(NEXT());
    for (int i = 0; i < nbinds; i++) {
        const char *src = NEXT();
        const char *dst = NEXT();
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", dst);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) { *slash = 0; mkdirs(parent); }
        int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
        if (fd >= 0) close(fd);
        if (mount(src, dst, NULL, MS_BIND, NULL) != 0) fail(dst);
        if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0) fail(dst);
    }
    int argc = atoi(NEXT());
    if (argc < 1 || argc > 4096) { errno = EPROTO; fail("argc"); }
    char **argv = calloc((size_t) argc + 1, sizeof(char *));
    for (int i = 0; i < argc; i++) argv[i] = NEXT();
    char **envp = calloc((size_t) (nf - fi) + 1, sizeof(char *));
    for (int i = 0; fi < nf; i++) envp[i] = NEXT();

    mkdirs("/tmp");
    char opts[128];
    snprintf(opts, sizeof opts, "size=%s,mode=1777", tmp);
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) fail("/tmp");
    mkdirs("/sys/fs/cgroup");
    if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) fail("cgroup2");
    write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory +pids");
    mkdir("/sys/fs/cgroup/runtime", 0755);
    write_file("/sys/fs/cgroup/runtime/memory.max", memory);
    write_file("/sys/fs/cgroup/runtime/memory.swap.max", "0");
    write_file("/sys/fs/cgroup/runtime/pids.max", pids);
    write_file("/proc/sys/vm/overcommit_memory", "0");
    /* As the other drivers: no user namespace for the runtime (in one it would hold every capability of the guest
       kernel's), and the initramfs root (tmpfs, mode 1777 by default) not writable: nothing stored outside /tmp's cap. */
    write_file("/proc/sys/user/max_user_namespaces", "0");
    if (chmod("/", 0755) != 0) fail("chmod /");
    loopback_up();

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9001), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(lfd, (struct sockaddr *) &a, sizeof a) != 0 || listen(lfd, 16) != 0) fail("listen 127.0.0.1:9001");

    long t_exec = uptime_ms();
    pid_t pid = fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
        char self[32];
        snprintf(self, sizeof self, "%d", getpid());
        write_file("/sys/fs/cgroup/runtime/cgroup.procs", self);
        setsid();
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        if (chdir("/var/task") != 0) fail("/var/task");
        /* Lambda's quota: 1,024 descriptors and no core files, soft and hard; and an empty capability bounding set */
        struct rlimit nofile = { 1024, 1024 }, core = { 0, 0 };
        if (setrlimit(RLIMIT_NOFILE, &nofile) != 0 || setrlimit(RLIMIT_CORE, &core) != 0) fail("setrlimit");
        for (int c = 0; c < 64; c++) prctl(PR_CAPBSET_DROP, c, 0, 0, 0); /* EINVAL past the kernel's last: ignored */
        /* no supplementary group, as the other drivers' runtimes */
        if (setgroups(0, NULL) != 0 || setresgid(RUNTIME_UID, RUNTIME_UID, RUNTIME_UID) != 0
            || setresuid(RUNTIME_UID, RUNTIME_UID, RUNTIME_UID) != 0) fail("drop to the runtime's uid");
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        execve(argv[0], argv, envp);
        dprintf(2, "ignis-guest-agent: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(logfd);
    char started[64];
    int sn = snprintf(started, sizeof started, "%ld", t_exec);
    send_frame(F_STARTED, 0, started, (size_t) sn);

    /* A slot is free again only once both sides sent CLOSE for it, so a late CLOSE never hits its next connection. */
    int conns[MAXCONN], busy[MAXCONN], sent_close[MAXCONN];
    for (int i = 0; i < MAXCONN; i++) conns[i] = -1, busy[i] = 0, sent_close[i] = 0;
    static char replay[MAXCONN][REPLAY_MAX];
    size_t replay_len[MAXCONN] = {0};
    int replay_lost[MAXCONN] = {0};
    static char buf[65535];
    unsigned char fh[4];
    size_t fhave = 0, fneed = 0; /* mux frame parsing state: header bytes, then payload */
    int ftype = 0, fconn = 0;
    static char fbody[65535];
    size_t fbody_have = 0;
    int exited = 0;
    for (;;) {
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
            if (w == pid && !exited) {
                exited = 1;
                char e[128];
                long ooms = read_keyed("/sys/fs/cgroup/runtime/memory.events", "oom_kill");
                long peak = read_keyed("/sys/fs/cgroup/runtime/memory.peak", "");
                int en = snprintf(e, sizeof e, "%d %ld %ld", st, ooms, peak);
                send_frame(F_EXIT, 0, e, (size_t) en);
            }
        }
        struct pollfd p[2 + MAXCONN];
        p[0] = (struct pollfd) { .fd = mux, .events = POLLIN };
        p[1] = (struct pollfd) { .fd = lfd, .events = POLLIN };
        for (int i = 0; i < MAXCONN; i++) p[2 + i] = (struct pollfd) { .fd = conns[i], .events = POLLIN };
        int r = poll(p, 2 + MAXCONN, 50); /* 50 ms: also the bound on noticing the runtime's exit */
        if (r < 0 && errno != EINTR) fail("poll");
        if (r <= 0) continue;
        if (p[1].revents & POLLIN) {
            int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) {
                int slot = -1;
                for (int i = 0; i < MAXCONN; i++) if (!busy[i]) { slot = i; break; }
                if (slot < 0) close(c); /* the worker allows 8 connections per sandbox, as here */
                else {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[slot] = c;
                    busy[slot] = 1;
                    sent_close[slot] = 0;
                    replay_len[slot] = 0;
                    replay_lost[slot] = 0;
                    send_frame(F_OPEN, slot, NULL, 0);
                }
            }
        }
        for (int i = 0; i < MAXCONN; i++) {
            if (conns[i] >= 0 && (p[2 + i].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t n = read(conns[i], buf, sizeof buf);
                if (n > 0) {
                    /* the runtime's memory so far, ahead of its bytes: the worker's REPORT (Max Memory Used) reads it */
                    char st[64];
                    int sn2 = snprintf(st, sizeof st, "%ld %ld",
                                       read_keyed("/sys/fs/cgroup/runtime/memory.peak", ""),
                                       read_keyed("/sys/fs/cgroup/runtime/memory.events", "oom_kill"));
                    send_frame(F_STATS, 0, st, (size_t) sn2);
                    send_frame(F_DATA, i, buf, (size_t) n);
                    if (replay_len[i] + (size_t) n <= REPLAY_MAX) {
                        memcpy(replay[i] + replay_len[i], buf, (size_t) n);
                        replay_len[i] += (size_t) n;
                    } else replay_lost[i] = 1;
                }
                else if (n == 0 || errno != EINTR) {
                    close(conns[i]);
                    conns[i] = -1;
                    sent_close[i] = 1;
                    send_frame(F_CLOSE, i, NULL, 0);
                }
            }
        }
        if (p[0].revents & POLLIN) {
            ssize_t n = read(mux, buf, sizeof buf);
            for (ssize_t off = 0; off < n; ) {
                if (fhave < 4) {
                    fh[fhave++] = (unsigned char) buf[off++];
                    if (fhave == 4) {
                        ftype = fh[0];
                        fconn = fh[1] % MAXCONN;
                        fneed = ((size_t) fh[2] << 8) | fh[3];
                        fbody_have = 0;
                    } else continue;
                } else {
                    size_t take = fneed - fbody_have;
                    if (take > (size_t) (n - off)) take = (size_t) (n - off);
                    memcpy(fbody + fbody_have, buf + off, take);
                    fbody_have += take;
                    off += (ssize_t) take;
                }
                if (fhave == 4 && fbody_have == fneed) {
                    if (ftype == F_DATA) { replay_len[fconn] = 0; replay_lost[fconn] = 0; } /* the host answered */
                    if (ftype == F_RESUME) {
                        /* a restore: this is a new host, which knows none of our connections. Reseed first; then each
                         * connection whose unanswered request we still hold (the runtime's /next the snapshot was taken
                         * on) is opened anew and its request sent again, so the runtime never sees the restore; any
                         * other connection ends. */
                        reseed((const unsigned char *) fbody, fneed);
                        for (int k = 0; k < MAXCONN; k++) {
                            if (!busy[k]) continue;
                            if (conns[k] >= 0 && !replay_lost[k]) {
                                send_frame(F_OPEN, k, NULL, 0);
                                for (size_t o = 0; o < replay_len[k]; o += 65535) {
                                    size_t m = replay_len[k] - o < 65535 ? replay_len[k] - o : 65535;
                                    send_frame(F_DATA, k, replay[k] + o, m);
                                }
                                sent_close[k] = 0;
                            } else {
                                if (conns[k] >= 0) close(conns[k]);
                                conns[k] = -1;
                                busy[k] = 0;
                            }
                        }
                    } else if (ftype == F_DATA && conns[fconn] >= 0) {
                        const char *c = fbody;
                        size_t left = fneed;
                        while (left > 0) {
                            ssize_t wr = write(conns[fconn], c, left);
                            if (wr < 0) { if (errno == EINTR) continue; break; }
                            c += wr; left -= (size_t) wr;
                        }
                    } else if (ftype == F_CLOSE && busy[fconn]) {
                        if (conns[fconn] >= 0) close(conns[fconn]);
                        conns[fconn] = -1;
                        if (!sent_close[fconn]) send_frame(F_CLOSE, fconn, NULL, 0);
                        busy[fconn] = 0;
                    }
                    fhave = 0;
                }
            }
        }
    }
}
