/* User side of --tls: load tls.bpf.c, find libssl, binaries that link
 * OpenSSL statically and Go binaries using crypto/tls, attach uprobes once
 * per file (by inode), and turn ring-buffer events into synthesized packets. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "control.h"
#include "elfsym.h"
#include "gotls.h"
#include "tls.h"
#include "tls.skel.h"
#include "tls_capture.h"
#include "tls_emit.h"
#include "util.h"

#define MAX_HOOKS 4096 /* files checked, with or without OpenSSL in them */
#define MAX_PROCS 4096
#define PATH_MAX_ 512

enum hook_state { HOOK_HOOKED, HOOK_NO_SYMBOLS, HOOK_ERROR };

static const char *const fn_names[] = {"SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex",
				       "SSL_do_handshake"};
#define N_FNS 5

struct hook {
	dev_t dev;
	ino_t ino;
	int is_lib; /* a libssl; else an executable probed for static OpenSSL */
	enum hook_state state;
	char path[PATH_MAX_];
	char error[160];
	struct bpf_link **links; /* OpenSSL: entry + return per function; Go: entries + every RET */
	int nlinks;
};

struct proc {
	int pid; /* 0: free slot */
	int hook;  /* index into hooks, -1 when only seen through events */
	int seen;  /* scan generation */
	char comm[16];
	uint64_t bytes;
};

struct tl_tls {
	struct tl_tls_opts o;
	struct tls_bpf *skel;
	struct ring_buffer *rb;
	tls_packet_fn fn; /* set while draining */
	void *fn_ctx;
	struct hook *hooks;
	int nhooks;
	struct proc *procs;
	int gen;
	uint64_t next_scan_ns;
	int64_t mono_to_real_ns;
	int ncpus;
	struct bpf_link *sys_link;
	struct tls_emitter em;
};

static int g_verbose;

/* Quiet unless verbose: failures are reported in our own words. */
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return g_verbose ? vfprintf(stderr, fmt, ap) : 0;
}

static int64_t clock_offset(void)
{
	struct timespec r, m;
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000ll + (r.tv_nsec - m.tv_nsec);
}

/* ---- per-process status ---- */

static struct proc *proc_slot(struct tl_tls *t, int pid, int create)
{
	uint32_t h = (uint32_t)pid * 2654435761u;
	for (int i = 0; i < MAX_PROCS; i++) {
		struct proc *p = &t->procs[(h + (uint32_t)i) % MAX_PROCS];
		if (p->pid == pid)
			return p;
		if (p->pid == 0) {
			if (!create)
				return NULL;
			memset(p, 0, sizeof(*p));
			p->pid = pid;
			p->hook = -1;
			return p;
		}
	}
	return NULL;
}

/* Backward-shift deletion keeps every probe chain intact. */
static void proc_remove(struct tl_tls *t, struct proc *p)
{
	uint32_t i = (uint32_t)(p - t->procs);
	for (;;) {
		t->procs[i].pid = 0;
		uint32_t j = i;
		for (;;) {
			j = (j + 1) % MAX_PROCS;
			if (t->procs[j].pid == 0)
				return;
			uint32_t home = ((uint32_t)t->procs[j].pid * 2654435761u) % MAX_PROCS;
			/* j's entry may move into hole i when its home is not in (i, j]. */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		t->procs[i] = t->procs[j];
		i = j;
	}
}

static const char *state_name(const struct hook *h, char *buf, size_t n)
{
	switch (h->state) {
	case HOOK_HOOKED:
		return "hooked";
	case HOOK_NO_SYMBOLS:
		return "no symbols";
	default:
		snprintf(buf, n, "error: %s", h->error);
		return buf;
	}
}

static size_t proc_json(struct tl_tls *t, const struct proc *p, char *out, size_t n)
{
	char comm[64], lib[PATH_MAX_ + 32], state[256], sbuf[200];
	const struct hook *h = p->hook >= 0 ? &t->hooks[p->hook] : NULL;
	tl_json_string(comm, sizeof(comm), p->comm);
	tl_json_string(lib, sizeof(lib), h ? h->path : "");
	tl_json_string(state, sizeof(state), h ? state_name(h, sbuf, sizeof(sbuf)) : "hooked");
	int r = snprintf(out, n, "{\"pid\":%d,\"comm\":%s,\"library\":%s,\"state\":%s,\"bytes\":%llu}",
			 p->pid, comm, lib, state, (unsigned long long)p->bytes);
	return r < 0 ? 0 : (size_t)r >= n ? n - 1 : (size_t)r;
}

/* One JSON line on stderr when a process is first tied to a library. */
static void report(struct tl_tls *t, const struct proc *p)
{
	char line[1024];
	proc_json(t, p, line, sizeof(line));
	fprintf(stderr, "{\"type\":\"tls\",%s\n", line + 1);
}

/* ---- hooking ---- */

static int hook_find(struct tl_tls *t, dev_t dev, ino_t ino)
{
	for (int i = 0; i < t->nhooks; i++)
		if (t->hooks[i].dev == dev && t->hooks[i].ino == ino)
			return i;
	return -1;
}

static struct bpf_program *entry_prog(struct tl_tls *t, int fn)
{
	switch (fn) {
	case 0: return t->skel->progs.ssl_read_enter;
	case 1: return t->skel->progs.ssl_write_enter;
	case 2: return t->skel->progs.ssl_read_ex_enter;
	case 3: return t->skel->progs.ssl_write_ex_enter;
	default: return t->skel->progs.ssl_handshake_enter;
	}
}

static void unhook(struct hook *h)
{
	for (int k = 0; k < h->nlinks; k++)
		bpf_link__destroy(h->links[k]);
	free(h->links);
	h->links = NULL;
	h->nlinks = 0;
}

/* Attaches prog at off of the file; links[] was sized for every probe of the file. */
static int attach(struct tl_tls *t, struct hook *h, struct bpf_program *prog, bool ret, const char *path,
		  uint64_t off, const char *what)
{
	struct bpf_link *l = bpf_program__attach_uprobe(prog, ret, t->o.pid ? t->o.pid : -1, path, off);
	long e = libbpf_get_error(l);
	if (e) {
		h->state = HOOK_ERROR;
		snprintf(h->error, sizeof(h->error), "attaching to %s: %s", what, strerror((int)-e));
		unhook(h);
		return -1;
	}
	h->links[h->nlinks++] = l;
	return 0;
}

/* crypto/tls in a Go executable: entry probes and one probe per RET. */
static void hook_go(struct tl_tls *t, struct hook *h, const char *open_path)
{
	struct gotls_probes g;
	char err[160];
	int r = gotls_find(open_path, &g, err, sizeof(err));
	if (r <= 0) {
		h->state = r == 0 ? HOOK_NO_SYMBOLS : HOOK_ERROR;
		snprintf(h->error, sizeof(h->error), "%s", err);
		return;
	}
	int n = 0;
	for (int k = 0; k < GOTLS_NFN; k++)
		n += 1 + g.fn[k].nrets;
	if (!(h->links = calloc((size_t)n, sizeof(*h->links)))) {
		h->state = HOOK_ERROR;
		snprintf(h->error, sizeof(h->error), "out of memory");
		return;
	}
	struct bpf_program *entries[GOTLS_NFN] = {t->skel->progs.go_read_enter, t->skel->progs.go_write_enter};
	static const char *const what[GOTLS_NFN] = {"crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write"};
	for (int k = 0; k < GOTLS_NFN; k++) {
		if (attach(t, h, entries[k], false, open_path, g.fn[k].entry, what[k]))
			return;
		for (int i = 0; i < g.fn[k].nrets; i++)
			if (attach(t, h, t->skel->progs.go_ret, false, open_path, g.fn[k].rets[i], what[k]))
				return;
	}
	h->state = HOOK_HOOKED;
	if (t->o.verbose)
		fprintf(stderr,
			"tapline-capture: %s (%s, symbols from %s): crypto/tls Read with %d returns, Write with %d returns\n",
			h->path, g.version, g.source, g.fn[GOTLS_READ].nrets, g.fn[GOTLS_WRITE].nrets);
}

/*
 * Checks `open_path` (a path valid in our mount namespace for the file
 * `shown_path` of some process) once per inode; attaches when it defines
 * SSL_read and SSL_write, or, for an executable, Go's crypto/tls. An
 * executable with neither is remembered as such so it is not parsed again.
 * Returns the hook index, or -1 when full.
 */
static int hook_file(struct tl_tls *t, const char *open_path, const char *shown_path, int is_lib)
{
	struct stat st;
	if (stat(open_path, &st) < 0)
		return -1;
	int i = hook_find(t, st.st_dev, st.st_ino);
	if (i >= 0 || t->nhooks == MAX_HOOKS)
		return i;
	struct hook *h = &t->hooks[i = t->nhooks++];
	memset(h, 0, sizeof(*h));
	h->dev = st.st_dev;
	h->ino = st.st_ino;
	h->is_lib = is_lib;
	snprintf(h->path, sizeof(h->path), "%s", shown_path);

	uint64_t offs[N_FNS];
	char err[256];
	int found = elf_func_offsets(open_path, fn_names, N_FNS, offs, err, sizeof(err));
	if (found < 0) {
		h->state = is_lib ? HOOK_ERROR : HOOK_NO_SYMBOLS;
		snprintf(h->error, sizeof(h->error), "%s", err);
		return i;
	}
	if (!offs[0] || !offs[1]) {
		if (is_lib)
			h->state = HOOK_NO_SYMBOLS;
		else
			hook_go(t, h, open_path);
		return i;
	}
	if (!(h->links = calloc(2 * N_FNS, sizeof(*h->links)))) {
		h->state = HOOK_ERROR;
		snprintf(h->error, sizeof(h->error), "out of memory");
		return i;
	}
	for (int f = 0; f < N_FNS; f++) {
		if (!offs[f])
			continue;
		if (attach(t, h, entry_prog(t, f), false, open_path, offs[f], fn_names[f]))
			return i;
		/* SSL_do_handshake only marks the thread: no return probe. */
		if (f < 4 && attach(t, h, t->skel->progs.ssl_ret, true, open_path, offs[f], fn_names[f]))
			return i;
	}
	h->state = HOOK_HOOKED;
	return i;
}

static void tie(struct tl_tls *t, int pid, int hook, const char *comm)
{
	if (hook < 0)
		return;
	struct proc *p = proc_slot(t, pid, 1);
	if (!p)
		return;
	p->seen = t->gen;
	if (p->hook == hook)
		return;
	/* A process that maps libssl and also carries OpenSSL is shown with its libssl. */
	if (p->hook >= 0 && t->hooks[p->hook].state == HOOK_HOOKED)
		return;
	p->hook = hook;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	report(t, p);
}

/* Files hooked for every process (the host's libssl, --tls-lib) get a
 * line with pid 0, so a reader knows hooking is in place before traffic. */
static void report_file(struct tl_tls *t, int h)
{
	if (h < 0)
		return;
	char lib[PATH_MAX_ + 32], state[256], sbuf[200];
	tl_json_string(lib, sizeof(lib), t->hooks[h].path);
	tl_json_string(state, sizeof(state), state_name(&t->hooks[h], sbuf, sizeof(sbuf)));
	fprintf(stderr, "{\"type\":\"tls\",\"pid\":0,\"comm\":\"\",\"library\":%s,\"state\":%s,\"bytes\":0}\n",
		lib, state);
}

static int is_libssl(const char *path)
{
	const char *base = strrchr(path, '/');
	return base && strncmp(base + 1, "libssl.so", 9) == 0;
}

static void scan_pid(struct tl_tls *t, int pid)
{
	char path[PATH_MAX_ + 64], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (!(f = fopen(path, "re")))
		return;
	char line[PATH_MAX_ + 256], last[PATH_MAX_] = "";
	while (fgets(line, sizeof(line), f)) {
		char *lib = strchr(line, '/');
		if (!lib)
			continue;
		lib[strcspn(lib, "\n")] = '\0';
		if (!is_libssl(lib) || strstr(lib, " (deleted)") || strcmp(lib, last) == 0)
			continue;
		snprintf(last, sizeof(last), "%s", lib);
		/* Through the process's root, so a container's own libssl is found. */
		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, lib);
		tie(t, pid, hook_file(t, path, lib, 1), comm);
	}
	fclose(f);

	char exe[PATH_MAX_];
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	ssize_t n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return; /* kernel thread */
	exe[n] = '\0';
	int h = hook_file(t, path, exe, 0);
	/* A program that carries a TLS stack is listed even when hooking it
	 * failed, so the user learns why its traffic stays unreadable. */
	if (h >= 0 && t->hooks[h].state != HOOK_NO_SYMBOLS)
		tie(t, pid, h, comm);
}

static void scan(struct tl_tls *t)
{
	t->gen++;
	int self = getpid();
	if (t->o.pid) {
		scan_pid(t, t->o.pid);
	} else {
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char *end;
			long pid = strtol(de->d_name, &end, 10);
			if (*end || pid <= 0 || pid == self)
				continue;
			scan_pid(t, (int)pid);
		}
		if (d)
			closedir(d);
	}
	/* Gone processes leave the table (their bytes were already reported). */
	for (int i = 0; i < MAX_PROCS; i++) {
		struct proc *p = &t->procs[i];
		if (!p->pid || p->seen == t->gen)
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d", p->pid);
		if (access(path, F_OK) < 0) {
			proc_remove(t, p);
			i--; /* a later entry may have moved here */
		}
	}
}

/* The host's own libssl is hooked before any process maps it, so a client
 * that starts, talks and exits between two scans is still seen. */
static void hook_system_libs(struct tl_tls *t)
{
	static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
					   "/usr/lib64", "/usr/lib", "/lib64", "/lib"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (strncmp(de->d_name, "libssl.so.", 10) != 0)
				continue;
			char path[PATH_MAX_];
			snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name);
			int before = t->nhooks, h = hook_file(t, path, path, 1);
			if (h >= before)
				report_file(t, h);
		}
		if (d)
			closedir(d);
	}
}

/* ---- events ---- */

static void on_packet(void *ctx, uint64_t ts_ns, const struct sll2_meta *m, const uint8_t *pkt, uint32_t len)
{
	struct tl_tls *t = ctx;
	t->fn(t->fn_ctx, (uint64_t)((int64_t)ts_ns + t->mono_to_real_ns), m, pkt, len);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct tl_tls *t = ctx;
	const struct tls_event *e = data;
	if (size < sizeof(*e) || e->caplen > size - sizeof(*e))
		return 0;
	struct proc *p = proc_slot(t, (int)e->pid, 0);
	if (!p) {
		/* A process that started after the last scan, through a file
		 * already hooked: name its library while it still runs. */
		scan_pid(t, (int)e->pid);
		if ((p = proc_slot(t, (int)e->pid, 1)) && p->hook < 0) {
			snprintf(p->comm, sizeof(p->comm), "%.15s", e->comm);
			report(t, p);
		}
	}
	if (p) {
		p->seen = t->gen;
		p->bytes += e->caplen;
	}
	tls_emit(&t->em, e, (const uint8_t *)data + sizeof(*e), on_packet, t);
	return 0;
}

/* ---- API ---- */

static const char *load_reason(int e, char *buf, size_t n)
{
	if (e == EPERM || e == EACCES)
		return "permission denied loading BPF programs (needs root, or CAP_BPF and CAP_PERFMON)";
	snprintf(buf, n, "loading BPF programs failed: %s", strerror(e));
	return buf;
}

struct tl_tls *tl_tls_open(const struct tl_tls_opts *o, char *err, size_t errlen)
{
	char buf[256];
	g_verbose = o->verbose;
	libbpf_set_print(print_libbpf);
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		snprintf(err, errlen, "no kernel BTF at /sys/kernel/btf/vmlinux (kernel built without "
				      "CONFIG_DEBUG_INFO_BTF): CO-RE programs cannot load");
		return NULL;
	}
	struct tl_tls *t = calloc(1, sizeof(*t));
	if (!t || !(t->hooks = calloc(MAX_HOOKS, sizeof(*t->hooks))) ||
	    !(t->procs = calloc(MAX_PROCS, sizeof(*t->procs)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	t->o = *o;
	if (!t->o.rescan_ms)
		t->o.rescan_ms = 2000;
	tls_emitter_init(&t->em);
	t->mono_to_real_ns = clock_offset();
	t->ncpus = libbpf_num_possible_cpus();

	if (!(t->skel = tls_bpf__open())) {
		snprintf(err, errlen, "opening the BPF object failed: %s", strerror(errno));
		goto fail;
	}
	t->skel->rodata->targ_tgid = (__u32)o->pid;
	t->skel->rodata->self_tgid = (__u32)getpid();
	int e = tls_bpf__load(t->skel);
	if (e) {
		snprintf(err, errlen, "%s", load_reason(-e, buf, sizeof(buf)));
		goto fail;
	}
	/* The syscall hook attaches by name; uprobes per file below. */
	t->sys_link = bpf_program__attach(t->skel->progs.sys_enter);
	if ((e = (int)libbpf_get_error(t->sys_link))) {
		t->sys_link = NULL;
		snprintf(err, errlen, "attaching raw tracepoint sys_enter failed: %s", strerror(-e));
		goto fail;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_event, t, NULL);
	if (!t->rb) {
		snprintf(err, errlen, "ring buffer: %s", strerror(errno));
		goto fail;
	}
	if (o->lib) {
		int h = hook_file(t, o->lib, o->lib, 1);
		if (h < 0) {
			snprintf(err, errlen, "--tls-lib '%s': %s", o->lib, strerror(errno));
			goto fail;
		}
		if (t->hooks[h].state != HOOK_HOOKED) {
			snprintf(err, errlen, "--tls-lib '%s': %s", o->lib,
				 state_name(&t->hooks[h], buf, sizeof(buf)));
			goto fail;
		}
		report_file(t, h);
	}
	if (!o->pid)
		hook_system_libs(t);
	scan(t);
	t->next_scan_ns = mono_ns() + (uint64_t)t->o.rescan_ms * 1000000ull;
	return t;
fail:
	tl_tls_close(t);
	return NULL;
}

int tl_tls_fd(const struct tl_tls *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

void tl_tls_drain(struct tl_tls *t, tls_packet_fn fn, void *ctx)
{
	t->fn = fn;
	t->fn_ctx = ctx;
	ring_buffer__consume(t->rb);
}

int tl_tls_tick(struct tl_tls *t, uint64_t now_ns)
{
	if (now_ns >= t->next_scan_ns) {
		scan(t);
		t->next_scan_ns = now_ns + (uint64_t)t->o.rescan_ms * 1000000ull;
	}
	uint64_t ms = (t->next_scan_ns - now_ns + 999999) / 1000000;
	return ms > 1000 ? 1000 : (int)ms;
}

static uint64_t counter(struct tl_tls *t, __u32 idx)
{
	uint64_t vals[t->ncpus > 0 ? t->ncpus : 1], sum = 0;
	if (t->ncpus <= 0 || bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.counters), &idx, vals))
		return 0;
	for (int i = 0; i < t->ncpus; i++)
		sum += vals[i];
	return sum;
}

void tl_tls_counters_json(struct tl_tls *t, char *out, size_t n)
{
	int hooked = 0;
	for (int i = 0; i < t->nhooks; i++)
		hooked += t->hooks[i].state == HOOK_HOOKED;
	snprintf(out, n,
		 "{\"calls\":%llu,\"events\":%llu,\"lost\":%llu,\"truncated\":%llu,\"unattributed\":%llu,"
		 "\"read_failed\":%llu,\"packets\":%llu,\"files_hooked\":%d}",
		 (unsigned long long)counter(t, TLS_CNT_CALLS), (unsigned long long)counter(t, TLS_CNT_CHUNKS),
		 (unsigned long long)counter(t, TLS_CNT_LOST), (unsigned long long)counter(t, TLS_CNT_TRUNCATED),
		 (unsigned long long)counter(t, TLS_CNT_UNATTRIBUTED),
		 (unsigned long long)counter(t, TLS_CNT_READ_FAILED), (unsigned long long)t->em.packets, hooked);
}

size_t tl_tls_targets_json(struct tl_tls *t, char *out, size_t n)
{
	size_t o = 0;
	if (n < 3)
		return 0;
	out[o++] = '[';
	for (int i = 0; i < MAX_PROCS; i++) {
		if (!t->procs[i].pid)
			continue;
		char item[1024];
		size_t l = proc_json(t, &t->procs[i], item, sizeof(item));
		if (o + l + 3 > n)
			break; /* the reply has a size limit; the rest is left out */
		if (o > 1)
			out[o++] = ',';
		memcpy(out + o, item, l);
		o += l;
	}
	out[o++] = ']';
	out[o] = '\0';
	return o;
}

void tl_tls_close(struct tl_tls *t)
{
	if (!t)
		return;
	if (t->hooks)
		for (int i = 0; i < t->nhooks; i++)
			unhook(&t->hooks[i]);
	bpf_link__destroy(t->sys_link);
	ring_buffer__free(t->rb);
	tls_bpf__destroy(t->skel);
	free(t->hooks);
	free(t->procs);
	free(t);
}
