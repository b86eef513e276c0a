/*
 * ignis-sandbox-exec: the first step of every process sandbox, run as root by the worker.
 *
 *   ignis-sandbox-exec [--kernel-nofile=N] CGROUP_PROCS... -- SECCOMP_FILE NETNS_PATH UID PROGRAM [ARG...]
 *   ignis-sandbox-exec --stdin
 *   ignis-sandbox-exec --await        (inside a ready sandbox: bwrap's program)
 *
 * The second form is started ahead of time and waits: its standard input then brings the same
 * arguments (one message, see read_instructions), after which it carries on exactly like the first
 * form, its standard input left to the program. The worker keeps one or two of these ready, so the
 * process start (fork + exec, 5 ms here) is no longer part of a cold start.
 *
 * No form passes an environment it was given to PROGRAM: bwrap runs on the host, in the host's mount
 * namespace and without seccomp, so it gets HOST_ENV and nothing else (a function that sets LD_PRELOAD
 * or LD_LIBRARY_PATH must not load its own library there). bwrap's program is always --await (the
 * third form), and the runtime's command and environment reach it as the next message on stdin.
 *
 * In this order, in this one process (so the pid that joins the cgroups is the pid that ends up
 * running bwrap and, under it, the runtime): writes its pid into each cgroup.procs file (v1: one per
 * controller; v2: one), opens SECCOMP_FILE as fd 4 for bwrap's --seccomp 4, enters the network
 * namespace NETNS_PATH, sets Lambda's limits (1,024 descriptors, no core files), drops every supplementary group, sets real/effective/saved gid and uid to UID
 * (never 0), checks that root is gone, and execs PROGRAM (bwrap). Nothing else: every namespace,
 * mount and capability decision stays with bwrap.
 *
 * The third form runs inside the sandbox, as bwrap's program: unprivileged, confined, it waits for
 * its standard input to bring the runtime's command and environment (same format, with the
 * environment), puts stdin on /dev/null, changes to /var/task again (in a "ready shell",
 * docs/sandbox-process.md, the function's code was mounted over it meanwhile) and execs the
 * runtime. No cgroup, uid or namespace work: that was done before, by the first form.
 *
 * It replaces `sh -c` + nsenter + setpriv (three execs; 16 ms of every cold start measured on a
 * 2-vCPU VM where an exec costs 2-4 ms). Compiled by the worker at start (cc -O2), cached by the hash
 * of this source in the worker's root-only data directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SANDBOX_NOFILE 1024

static void die(const char *what, const char *arg) {
    fprintf(stderr, "ignis-sandbox-exec: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
    _exit(126);
}

#define MAX_INSTRUCTIONS (4 << 20)
#define MAX_FIELDS 65536

/* The only environment a host-side program of the start path (bwrap) ever gets. */
static char *const HOST_ENV[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };

static void malformed(const char *what) {
    fprintf(stderr, "ignis-sandbox-exec: malformed instructions (%s)\n", what);
    _exit(2);
}

/* Reads exactly n bytes from fd 0 (never more: what follows belongs to the next reader). */
static void read_exactly(char *buf, size_t n) {
    for (size_t len = 0; len < n; ) {
        ssize_t r = read(0, buf + len, n - len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            die("cannot read instructions", NULL);
        }
        if (r == 0) {
            malformed("truncated");
        }
        len += (size_t) r;
    }
}

/*
 * One message from standard input: "LEN\0" (decimal), then exactly LEN bytes of NUL-terminated
 * fields: "ARGC", ARGC arguments (without the program name) and, when with_env, "ENVC" and ENVC
 * "NAME=value" strings. Anything else is refused. The launcher's message carries no environment:
 * bwrap and the launcher run on the host, before any confinement, with HOST_ENV only; the runtime's
 * environment is a second message, read by --await inside the sandbox from the same pipe.
 */
static void read_instructions(int *argc, char ***argv, char ***envp, int with_env) {
    char header[16];
    size_t h = 0;
    for (;;) {
        if (h == sizeof header) {
            malformed("length");
        }
        read_exactly(header + h, 1);
        if (header[h] == '\0') {
            break;
        }
        if (header[h] < '0' || header[h] > '9') {
            malformed("length");
        }
        h++;
    }
    char *end;
    long long total = h == 0 ? -1 : strtoll(header, &end, 10);
    if (total < 1 || total > MAX_INSTRUCTIONS) {
        malformed("length");
    }
    size_t len = (size_t) total;
    char *buf = malloc(len + 1);
    if (buf == NULL) {
        die("out of memory", NULL);
    }
    read_exactly(buf, len);
    if (buf[len - 1] != '\0') {
        malformed("unterminated field");
    }
    buf[len] = '\0';
    static char *fields[MAX_FIELDS];
    size_t count = 0;
    for (size_t at = 0; at < len; ) {
        char *nul = memchr(buf + at, '\0', len - at);
        if (count == MAX_FIELDS) {
            malformed("fields");
        }
        fields[count++] = buf + at;
        at = (size_t) (nul - buf) + 1;
    }
    size_t k = 0;
    long nargs = strtol(fields[k++], &end, 10);
    if (*end != '\0' || nargs < 1 || (size_t) nargs > count - k) {
        malformed("argc");
    }
    char **a = calloc((size_t) nargs + 2, sizeof(char *));
    a[0] = "ignis-sandbox-exec";
    for (long j = 0; j < nargs; j++) {
        a[j + 1] = fields[k++];
    }
    char **e;
    if (with_env) {
        long nenv = k < count ? strtol(fields[k++], &end, 10) : -1;
        if (nenv < 0 || *end != '\0' || (size_t) nenv != count - k) {
            malformed("envc");
        }
        e = calloc((size_t) nenv + 1, sizeof(char *));
        for (long j = 0; j < nenv; j++) {
            e[j] = fields[k++];
        }
    } else {
        if (k != count) {
            malformed("the launcher takes no environment");
        }
        e = calloc(1, sizeof(char *));
    }
    *argc = (int) nargs + 1;
    *argv = a;
    *envp = e;
}

/* Standard input on /dev/null, once the last message has been read from it. */
static void stdin_to_devnull(void) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0) {
        die("cannot reopen stdin on /dev/null", NULL);
    }
    if (devnull != 0) {
        close(devnull);
    }
}

int main(int argc, char **argv) {
    char **envp;
    if (argc == 2 && strcmp(argv[1], "--await") == 0) {
        read_instructions(&argc, &argv, &envp, 1);
        stdin_to_devnull();
        /* stdout and stderr block, as on Lambda: gVisor imports the log pipe non-blocking, and a runtime writing
           faster than the worker reads then failed with EAGAIN (python: BlockingIOError) instead of waiting */
        for (int fd = 1; fd <= 2; fd++) {
            int fl = fcntl(fd, F_GETFL);
            if (fl >= 0 && (fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
                die("cannot make blocking", fd == 1 ? "stdout" : "stderr");
            }
        }
        if (chdir("/var/task") != 0) {
            die("cannot enter", "/var/task");
        }
        execve(argv[1], argv + 1, envp);
        die("cannot exec", argv[1]);
    }
    if (argc == 2 && strcmp(argv[1], "--stdin") == 0) {
        read_instructions(&argc, &argv, &envp, 0); /* stdin stays: the sandbox's --await reads the rest */
    }
    int i = 1;
    /* --kernel-nofile=N: PROGRAM is a user-space kernel (gVisor's runsc), not the tenant's process. gVisor
     * enforces the sandbox's own 1,024 itself (the bundle's rlimits); its Sentry and Gofer hold about two host
     * descriptors per file the sandbox has open, so the host limit must be theirs (at 1,024 a sandbox could
     * open 433 files). Bounded here, still set soft and hard. */
    long nofile_limit = SANDBOX_NOFILE;
    if (i < argc && strncmp(argv[i], "--kernel-nofile=", 16) == 0) {
        char *nend;
        errno = 0;
        nofile_limit = strtol(argv[i] + 16, &nend, 10);
        if (errno != 0 || *nend != '\0' || nofile_limit < SANDBOX_NOFILE || nofile_limit > 65536) {
            fprintf(stderr, "ignis-sandbox-exec: bad %s (1024..65536)\n", argv[i]);
            return 2;
        }
        i++;
    }
    char pid[32];
    snprintf(pid, sizeof pid, "%d\n", (int) getpid());
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        int fd = open(argv[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            die("cannot open cgroup file", argv[i]);
        }
        if (write(fd, pid, strlen(pid)) < 0) {
            die("cannot join cgroup", argv[i]);
        }
        close(fd);
    }
    if (i + 5 > argc) {
        fprintf(stderr, "usage: ignis-sandbox-exec [--kernel-nofile=N] CGROUP_PROCS... -- SECCOMP_FILE NETNS_PATH UID PROGRAM [ARG...]\n");
        return 2;
    }
    const char *seccomp = argv[i + 1];
    const char *netns = argv[i + 2];
    char *end;
    errno = 0;
    long uid = strtol(argv[i + 3], &end, 10);
    if (errno != 0 || *argv[i + 3] == '\0' || *end != '\0' || uid <= 0 || uid > 0x7ffffffe) {
        fprintf(stderr, "ignis-sandbox-exec: bad uid %s\n", argv[i + 3]);
        return 2;
    }

    int sfd = open(seccomp, O_RDONLY);
    if (sfd < 0) {
        die("cannot open", seccomp);
    }
    if (sfd != 4) {
        if (dup2(sfd, 4) < 0) {
            die("cannot move to fd 4:", seccomp);
        }
        close(sfd);
    }

    int nfd = open(netns, O_RDONLY | O_CLOEXEC);
    if (nfd < 0) {
        die("cannot open", netns);
    }
    if (setns(nfd, CLONE_NEWNET) != 0) {
        die("cannot enter network namespace", netns);
    }
    close(nfd);

    /* Lambda's quotas: 1,024 file descriptors, no core files. Soft and hard, so the sandbox's uid cannot
     * raise them; otherwise it inherits the worker's (the JVM raises its own to the hard limit, 1M on
     * some hosts), and each descriptor pins kernel memory the host shares. */
    struct rlimit nofile = {(rlim_t) nofile_limit, (rlim_t) nofile_limit}, nocore = {0, 0};
    if (setrlimit(RLIMIT_NOFILE, &nofile) != 0 || setrlimit(RLIMIT_CORE, &nocore) != 0) {
        die("cannot set the sandbox's resource limits", NULL);
    }
    if (setgroups(0, NULL) != 0) {
        die("cannot drop supplementary groups", NULL);
    }
    if (setresgid((gid_t) uid, (gid_t) uid, (gid_t) uid) != 0) {
        die("cannot set gid", argv[i + 3]);
    }
    if (setresuid((uid_t) uid, (uid_t) uid, (uid_t) uid) != 0) {
        die("cannot set uid", argv[i + 3]);
    }
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0 || r == 0 || e == 0 || s == 0) {
        fprintf(stderr, "ignis-sandbox-exec: still root after setresuid\n");
        return 126;
    }
    execve(argv[i + 4], argv + i + 4, HOST_ENV); /* never the caller's environment, never the function's */
    die("cannot exec", argv[i + 4]);
    return 126;
}
