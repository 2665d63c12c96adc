/* vc-supervisor: starts the processes of one host from a spec file, restarts
 * the ones marked `restart`, and stops them all together. Not an init system:
 * no dependencies, no log capture (children's stdout/stderr pass straight
 * through), no daemonizing.
 *
 * Usage: vc-supervisor SPEC
 *
 * SPEC, one entry per line ('#' starts a comment, blank lines ignored):
 *
 *   env KEY=VALUE                       set in the environment of children
 *                                       started after this line
 *   <name> <restart|once> <cmd> [args]  a child; arguments are separated by
 *                                       whitespace (no quoting)
 *
 * A `restart` child that exits is started again after a backoff of 0.2 s,
 * doubling up to 5 s, back to 0.2 s once it has run for 10 s. When a `once`
 * child exits, everything is stopped and the supervisor exits (0 if that
 * child exited 0, else 1). SIGINT/SIGTERM: SIGTERM to every child, SIGKILL
 * after 5 s to what is left, reap, exit 0. Children get PR_SET_PDEATHSIG, so
 * none outlives the supervisor even if it is killed with SIGKILL. */
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SV_BACKOFF_MIN_MS 200
#define SV_BACKOFF_MAX_MS 5000
#define SV_STABLE_MS 10000
#define SV_STOP_GRACE_MS 5000
#define SV_MAX_ARGS 128

typedef enum {
    SV_RESTART,
    SV_ONCE,
} sv_mode_t;

typedef struct {
    char *name;
    sv_mode_t mode;
    char **argv; /* NULL-terminated, owned */
    char **envp; /* NULL-terminated, owned: environ plus the env lines above it */
    pid_t pid;   /* 0 while not running */
    uint64_t started_ms;
    uint64_t restart_at_ms; /* 0: not scheduled */
    uint64_t backoff_ms;
    unsigned restarts;
} sv_child_t;

typedef struct {
    sv_child_t *children;
    size_t n;
    char **env; /* KEY=VALUE lines seen so far, NULL-terminated */
    size_t nenv;
} sv_spec_t;

extern char **environ;

static char **sv_env_snapshot(const sv_spec_t *spec)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **envp = vc_calloc(n + spec->nenv + 1, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* An env line overrides an inherited variable of the same name. */
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int overridden = 0;
        for (size_t j = 0; j < spec->nenv; j++)
            if (strncmp(spec->env[j], environ[i], klen) == 0 && spec->env[j][klen] == '=')
                overridden = 1;
        if (!overridden)
            envp[k++] = vc_strdup(environ[i]);
    }
    for (size_t j = 0; j < spec->nenv; j++) {
        /* A later env line for the same key replaces an earlier one. */
        const char *eq = strchr(spec->env[j], '=');
        size_t klen = (size_t)(eq - spec->env[j]);
        int later = 0;
        for (size_t m = j + 1; m < spec->nenv; m++)
            if (strncmp(spec->env[m], spec->env[j], klen + 1) == 0)
                later = 1;
        if (!later)
            envp[k++] = vc_strdup(spec->env[j]);
    }
    envp[k] = NULL;
    return envp;
}

/* Parses the spec text. Returns 0, or -1 with a message naming the line. */
static int sv_spec_parse(sv_spec_t *spec, char *text, char *err, size_t errlen)
{
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *words[SV_MAX_ARGS + 3];
        size_t nw = 0;
        char *wsave = NULL;
        for (char *w = strtok_r(line, " \t\r", &wsave); w != NULL;
             w = strtok_r(NULL, " \t\r", &wsave)) {
            if (nw == VC_ARRAY_LEN(words) - 1) {
                snprintf(err, errlen, "line %d: too many arguments", lineno);
                return -1;
            }
            words[nw++] = w;
        }
        if (nw == 0)
            continue;
        if (strcmp(words[0], "env") == 0) {
            if (nw != 2 || strchr(words[1], '=') == NULL || words[1][0] == '=') {
                snprintf(err, errlen, "line %d: expected 'env KEY=VALUE'", lineno);
                return -1;
            }
            spec->env = vc_realloc(spec->env, (spec->nenv + 2) * sizeof(char *));
            spec->env[spec->nenv++] = vc_strdup(words[1]);
            spec->env[spec->nenv] = NULL;
            continue;
        }
        if (nw < 3) {
            snprintf(err, errlen, "line %d: expected '<name> <restart|once> <command> [args...]'",
                     lineno);
            return -1;
        }
        sv_mode_t mode;
        if (strcmp(words[1], "restart") == 0)
            mode = SV_RESTART;
        else if (strcmp(words[1], "once") == 0)
            mode = SV_ONCE;
        else {
            snprintf(err, errlen, "line %d: mode must be 'restart' or 'once', not '%s'", lineno,
                     words[1]);
            return -1;
        }
        for (size_t i = 0; i < spec->n; i++)
            if (strcmp(spec->children[i].name, words[0]) == 0) {
                snprintf(err, errlen, "line %d: duplicate name '%s'", lineno, words[0]);
                return -1;
            }
        spec->children = vc_realloc(spec->children, (spec->n + 1) * sizeof(sv_child_t));
        sv_child_t *c = &spec->children[spec->n++];
        memset(c, 0, sizeof(*c));
        c->name = vc_strdup(words[0]);
        c->mode = mode;
        c->argv = vc_calloc(nw - 1, sizeof(char *));
        for (size_t i = 2; i < nw; i++)
            c->argv[i - 2] = vc_strdup(words[i]);
        c->argv[nw - 2] = NULL;
        c->envp = sv_env_snapshot(spec);
        c->backoff_ms = SV_BACKOFF_MIN_MS;
    }
    if (spec->n == 0) {
        snprintf(err, errlen, "no children");
        return -1;
    }
    return 0;
}

static void sv_spec_free(sv_spec_t *spec)
{
    for (size_t i = 0; i < spec->n; i++) {
        sv_child_t *c = &spec->children[i];
        for (char **a = c->argv; *a; a++)
            free(*a);
        for (char **e = c->envp; *e; e++)
            free(*e);
        free(c->argv);
        free(c->envp);
        free(c->name);
    }
    for (size_t j = 0; j < spec->nenv; j++)
        free(spec->env[j]);
    free(spec->env);
    free(spec->children);
    memset(spec, 0, sizeof(*spec));
}

static char *sv_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = vc_malloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (cap - len - 1 == 0)
            buf = vc_realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* Forks and execs c. The child gets the signal mask and dispositions of a
 * fresh process and dies with the supervisor. */
static int sv_start(sv_child_t *c, const sigset_t *orig_mask)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        VC_ERROR("%s: fork: %s", c->name, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* The supervisor may have died between fork and prctl. */
        if (getppid() != parent)
            _exit(1);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, orig_mask, NULL);
        execvpe(c->argv[0], c->argv, c->envp);
        fprintf(stderr, "vc-supervisor: %s: exec %s: %s\n", c->name, c->argv[0], strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    c->started_ms = vc_now_ms();
    c->restart_at_ms = 0;
    VC_INFO("started %s (pid %d)%s", c->name, (int)pid, c->restarts ? " again" : "");
    return 0;
}

static void sv_describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "stopped (status 0x%x)", status);
}

static sv_child_t *sv_find(sv_spec_t *spec, pid_t pid)
{
    for (size_t i = 0; i < spec->n; i++)
        if (spec->children[i].pid == pid)
            return &spec->children[i];
    return NULL;
}

static size_t sv_running(const sv_spec_t *spec)
{
    size_t n = 0;
    for (size_t i = 0; i < spec->n; i++)
        if (spec->children[i].pid > 0)
            n++;
    return n;
}

/* Waits for a signal in set for up to timeout_ms (-1: forever). Returns the
 * signal number or 0 on timeout. */
static int sv_wait_signal(const sigset_t *set, int64_t timeout_ms)
{
    for (;;) {
        int sig;
        if (timeout_ms < 0) {
            sig = sigwaitinfo(set, NULL);
        } else {
            struct timespec ts = {.tv_sec = timeout_ms / 1000,
                                  .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
            sig = sigtimedwait(set, NULL, &ts);
        }
        if (sig > 0)
            return sig;
        if (errno == EAGAIN)
            return 0;
        if (errno != EINTR) {
            VC_ERROR("sigwait: %s", strerror(errno));
            return 0;
        }
    }
}

/* Stops every running child: SIGTERM, up to SV_STOP_GRACE_MS, then SIGKILL. */
static void sv_stop_all(sv_spec_t *spec, const sigset_t *set)
{
    for (size_t i = 0; i < spec->n; i++) {
        sv_child_t *c = &spec->children[i];
        c->restart_at_ms = 0;
        if (c->pid > 0)
            kill(c->pid, SIGTERM);
    }
    uint64_t deadline = vc_now_ms() + SV_STOP_GRACE_MS;
    for (;;) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            sv_child_t *c = sv_find(spec, pid);
            if (c == NULL)
                continue;
            char how[96];
            sv_describe_status(status, how, sizeof(how));
            VC_INFO("%s (pid %d) %s", c->name, (int)pid, how);
            c->pid = 0;
        }
        if (sv_running(spec) == 0)
            return;
        uint64_t now = vc_now_ms();
        if (now >= deadline)
            break;
        /* SIGINT/SIGTERM again during the grace period: keep waiting. */
        sv_wait_signal(set, (int64_t)(deadline - now));
    }
    for (size_t i = 0; i < spec->n; i++) {
        sv_child_t *c = &spec->children[i];
        if (c->pid <= 0)
            continue;
        VC_WARN("%s (pid %d) still running after %d ms: SIGKILL", c->name, (int)c->pid,
                SV_STOP_GRACE_MS);
        kill(c->pid, SIGKILL);
        int status;
        while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
            ;
        c->pid = 0;
    }
}

int main(int argc, char **argv)
{
    vc_log_init("supervisor", VC_LOG_INFO);
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s SPEC\n", argv[0]);
        return 2;
    }
    char *text = sv_read_file(argv[1]);
    if (text == NULL) {
        VC_ERROR("%s: %s", argv[1], strerror(errno));
        return 2;
    }
    sv_spec_t spec = {0};
    char err[256];
    int rc = sv_spec_parse(&spec, text, err, sizeof(err));
    free(text);
    if (rc != 0) {
        VC_ERROR("%s: %s", argv[1], err);
        sv_spec_free(&spec);
        return 2;
    }

    /* All signals we care about are taken synchronously with sigtimedwait:
     * no handlers, nothing async-signal-unsafe. */
    sigset_t set, orig;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &orig);
    signal(SIGPIPE, SIG_IGN);

    int exit_code = 0;
    int stopping = 0;
    for (size_t i = 0; i < spec.n; i++) {
        if (sv_start(&spec.children[i], &orig) != 0) {
            exit_code = 1;
            stopping = 1;
            break;
        }
    }
    if (!stopping)
        VC_INFO("ready: %zu children", spec.n);

    while (!stopping) {
        /* Reap everything that exited. */
        int status;
        pid_t pid;
        uint64_t now = vc_now_ms();
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            sv_child_t *c = sv_find(&spec, pid);
            if (c == NULL)
                continue;
            char how[96];
            sv_describe_status(status, how, sizeof(how));
            c->pid = 0;
            if (c->mode == SV_ONCE) {
                VC_WARN("%s (pid %d) %s; stopping everything", c->name, (int)pid, how);
                exit_code = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
                stopping = 1;
                continue;
            }
            if (now - c->started_ms >= SV_STABLE_MS)
                c->backoff_ms = SV_BACKOFF_MIN_MS;
            c->restart_at_ms = now + c->backoff_ms;
            c->restarts++;
            VC_WARN("%s (pid %d) %s; restart #%u in %llu ms", c->name, (int)pid, how, c->restarts,
                    (unsigned long long)c->backoff_ms);
            c->backoff_ms *= 2;
            if (c->backoff_ms > SV_BACKOFF_MAX_MS)
                c->backoff_ms = SV_BACKOFF_MAX_MS;
        }
        if (stopping)
            break;

        /* Restart what is due; find the next deadline. */
        int64_t timeout = -1;
        for (size_t i = 0; i < spec.n; i++) {
            sv_child_t *c = &spec.children[i];
            if (c->pid != 0 || c->restart_at_ms == 0)
                continue;
            if (c->restart_at_ms <= now) {
                if (sv_start(c, &orig) != 0)
                    c->restart_at_ms = now + SV_BACKOFF_MAX_MS;
                else
                    continue;
            }
            int64_t wait = (int64_t)(c->restart_at_ms - now);
            if (timeout < 0 || wait < timeout)
                timeout = wait;
        }

        int sig = sv_wait_signal(&set, timeout);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            VC_INFO("signal %d (%s): stopping %zu children", sig, strsignal(sig),
                    sv_running(&spec));
            stopping = 1;
        }
    }

    sv_stop_all(&spec, &set);
    VC_INFO("stopped");
    sv_spec_free(&spec);
    return exit_code;
}
