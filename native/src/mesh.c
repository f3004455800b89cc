#include "mesh.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "sll2.h"

/* A meshed pod's loopback carries one pod's traffic: 4 x 1 MiB per namespace
 * instead of the interfaces' default 32 MiB keeps 64 pods under 256 MiB. */
#define MESH_BLOCK_COUNT 4

int tl_mesh_is_proxy(const char *comm, const char *argv0)
{
	static const char *const names[] = {"envoy", "pilot-agent"};
	const char *base = NULL;
	if (argv0 && *argv0) {
		const char *slash = strrchr(argv0, '/');
		base = slash ? slash + 1 : argv0;
	}
	for (int i = 0; i < 2; i++) {
		if ((comm && strcmp(comm, names[i]) == 0) || (base && strcmp(base, names[i]) == 0))
			return i + 1;
	}
	return 0;
}

uint64_t tl_mesh_parse_nslink(const char *link)
{
	if (strncmp(link, "net:[", 5) != 0 || !isdigit((unsigned char)link[5]))
		return 0;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(link + 5, &end, 10);
	if (errno || strcmp(end, "]") != 0)
		return 0;
	return v;
}

/* Reads up to n-1 bytes of a small /proc file; returns the length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return r;
}

static uint64_t netns_of(const char *proc_root, const char *pid)
{
	char path[512], link[64];
	snprintf(path, sizeof(path), "%s/%s/ns/net", proc_root, pid);
	ssize_t r = readlink(path, link, sizeof(link) - 1);
	if (r <= 0)
		return 0;
	link[r] = '\0';
	return tl_mesh_parse_nslink(link);
}

int tl_mesh_scan(const char *proc_root, uint64_t own_netns, struct tl_mesh_proc *out, int max)
{
	DIR *d = opendir(proc_root);
	int n = 0;
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *p = de->d_name;
		if (!isdigit((unsigned char)*p))
			continue;
		char path[512], comm[32], argv0[256];
		snprintf(path, sizeof(path), "%s/%s/comm", proc_root, p);
		ssize_t cl = read_small(path, comm, sizeof(comm));
		if (cl < 0)
			continue;
		if (cl && comm[cl - 1] == '\n')
			comm[cl - 1] = '\0';
		/* argv[0]: what `exec -a envoy` or a wrapper sets, while comm
		 * names the executable file (a copied or renamed binary). */
		snprintf(path, sizeof(path), "%s/%s/cmdline", proc_root, p);
		if (read_small(path, argv0, sizeof(argv0)) < 0)
			argv0[0] = '\0';
		int kind = tl_mesh_is_proxy(comm, argv0);
		if (!kind)
			continue;
		uint64_t ns = netns_of(proc_root, p);
		if (!ns || ns == own_netns)
			continue;
		int pid = atoi(p);
		const char *name = kind == 1 ? "envoy" : "pilot-agent";
		int i = 0;
		while (i < n && out[i].netns != ns)
			i++;
		if (i == n) {
			if (n == max)
				continue;
			n++;
		} else {
			int old_envoy = strcmp(out[i].name, "envoy") == 0;
			if (old_envoy && kind != 1)
				continue;
			if (old_envoy == (kind == 1) && out[i].pid < pid)
				continue;
		}
		out[i].pid = pid;
		out[i].netns = ns;
		snprintf(out[i].name, sizeof(out[i].name), "%s", name);
	}
	closedir(d);
	return n;
}

int tl_mesh_parse_scope(const char *list, char (*out)[46], int max, char *err, size_t errlen)
{
	int n = 0;
	const char *p = list;
	while (*p) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, ", \t");
		char tok[64];
		unsigned char bin[16];
		if (len >= sizeof(tok)) {
			snprintf(err, errlen, "mesh scope: address too long");
			return -1;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		int fam = strchr(tok, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(fam, tok, bin) != 1) {
			snprintf(err, errlen, "mesh scope: '%s' is not an IP address", tok);
			return -1;
		}
		if (n == max) {
			snprintf(err, errlen, "mesh scope: more than %d addresses", max);
			return -1;
		}
		inet_ntop(fam, bin, out[n++], 46);
		p += len;
	}
	return n;
}

static void json_str(char *out, size_t n, const char *s)
{
	tl_json_string(out, n, s);
}

static int check_filter(const struct tl_args *a, const char *expr, char *err, size_t errlen)
{
	struct bpf_program bp;
	/* lo frames are Ethernet-framed (afpacket.c), so that is what the sockets will compile for */
	if (tl_filter_compile(DLT_EN10MB, a->snaplen, expr, &bp, err, errlen) < 0)
		return -1;
	pcap_freecode(&bp);
	return 0;
}

int tl_mesh_open(struct tl_mesh *m, const struct tl_args *a, const char *filter, const char *scope,
		 char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->own_ns_fd = -1;
	m->proc_root = "/proc";
	m->a = *a;
	m->a.block_count = MESH_BLOCK_COUNT;
	m->a.n_ifaces = 0;
	snprintf(m->filter, sizeof(m->filter), "%s", filter ? filter : TL_MESH_DEFAULT_FILTER);
	m->a.filter = m->filter;
	if (check_filter(&m->a, m->filter, err, errlen) < 0)
		return -1;
	if (scope && tl_mesh_set_scope(m, scope, err, errlen) < 0)
		return -1;
	/* thread-self: setns applies to the calling thread */
	m->own_ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	char link[64];
	ssize_t r = readlink("/proc/thread-self/ns/net", link, sizeof(link) - 1);
	if (m->own_ns_fd < 0 || r <= 0) {
		snprintf(err, errlen, "--mesh: cannot open our own network namespace: %s", strerror(errno));
		tl_mesh_close(m);
		return -1;
	}
	link[r] = '\0';
	m->own_netns = tl_mesh_parse_nslink(link);
	return 0;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word. */
static uint16_t csum_update16(uint16_t hc, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~hc + (uint16_t)~old + (uint32_t) new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Replaces the 16-bit word at w, updating the checksums at c1 (and c2, when not NULL). */
static void swap16(uint8_t *w, uint16_t v, uint8_t *c1, uint8_t *c2)
{
	uint16_t old = get16(w);
	put16(c1, csum_update16(get16(c1), old, v));
	if (c2)
		put16(c2, csum_update16(get16(c2), old, v));
	put16(w, v);
}

void tl_mesh_unnat(void *ctx, uint8_t *ip, uint32_t caplen)
{
	struct tl_mesh_nat *t = ctx;
	if (caplen < 20 || (ip[0] >> 4) != 4 || ip[9] != 6 || (get16(ip + 6) & 0x1fff))
		return; /* not IPv4 TCP, or a later fragment */
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || caplen < ihl + 18)
		return; /* the TCP checksum (offset 16) must be there */
	uint8_t *tcp = ip + ihl;
	uint32_t saddr, daddr;
	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	uint16_t sport, dport;
	memcpy(&sport, tcp, 2);
	memcpy(&dport, tcp + 2, 2);
	uint8_t flags = tcp[13];
	if ((flags & 0x12) == 0x02) { /* SYN without ACK: a client opens */
		struct tl_mesh_nat_slot *sl = &t->slot[(ntohl(saddr) * 31u + ntohs(sport)) % TL_MESH_NAT_SLOTS];
		*sl = (struct tl_mesh_nat_slot){.cli_ip = saddr, .cli_port = sport, .srv_ip = daddr, .srv_port = dport};
		return;
	}
	/* Toward a known client, from somewhere else than the server it reached. */
	struct tl_mesh_nat_slot *sl = &t->slot[(ntohl(daddr) * 31u + ntohs(dport)) % TL_MESH_NAT_SLOTS];
	if (sl->cli_ip != daddr || sl->cli_port != dport || (sl->srv_ip == saddr && sl->srv_port == sport))
		return;
	uint8_t *ipsum = ip + 10, *tcpsum = tcp + 16;
	/* the TCP checksum covers the addresses through the pseudo-header */
	for (int i = 0; i < 2; i++)
		swap16(ip + 12 + 2 * i, get16((const uint8_t *)&sl->srv_ip + 2 * i), ipsum, tcpsum);
	swap16(tcp, ntohs(sl->srv_port), tcpsum, NULL);
	t->rewritten++;
}

static int in_scope(const struct tl_mesh *m, const struct tl_mesh_ns *e)
{
	if (!m->scope)
		return 1;
	for (int i = 0; i < e->naddrs; i++)
		for (int j = 0; j < m->nscope; j++)
			if (strcmp(e->addrs[i], m->scope[j]) == 0)
				return 1;
	return 0;
}

/* The namespace's own addresses (loopback left out): the pod IPs a scope names. */
static void read_addrs(struct tl_mesh_ns *e)
{
	struct ifaddrs *ifa = NULL;
	e->naddrs = 0;
	if (getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *i = ifa; i && e->naddrs < TL_MESH_ADDRS; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		int fam = i->ifa_addr->sa_family;
		const void *bin;
		if (fam == AF_INET) {
			const struct in_addr *a4 = &((const struct sockaddr_in *)i->ifa_addr)->sin_addr;
			if ((ntohl(a4->s_addr) >> 24) == 127)
				continue;
			bin = a4;
		} else if (fam == AF_INET6) {
			const struct in6_addr *a6 = &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			if (IN6_IS_ADDR_LOOPBACK(a6) || IN6_IS_ADDR_LINKLOCAL(a6))
				continue;
			bin = a6;
		} else {
			continue;
		}
		inet_ntop(fam, bin, e->addrs[e->naddrs++], 46);
	}
	freeifaddrs(ifa);
}

static void close_ns_source(struct tl_mesh *m, struct tl_mesh_ns *e)
{
	if (e->src) {
		e->src->ops->close(e->src);
		e->src = NULL;
		m->closed++;
	}
	free(e->nat);
	e->nat = NULL;
}

static void set_error(struct tl_mesh *m, struct tl_mesh_ns *e, const char *fmt, const char *detail)
{
	e->state = TL_MESH_ERROR;
	snprintf(e->error, sizeof(e->error), fmt, detail);
	m->failed++;
}

/* Enters the namespace, reads its addresses and, when in scope, opens `lo` there; always comes back. */
static void try_open(struct tl_mesh *m, struct tl_mesh_ns *e)
{
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/%d/ns/net", m->proc_root, e->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_ino != e->netns) {
		/* gone, or the pid was reused since the scan: the next scan decides */
		if (fd >= 0)
			close(fd);
		set_error(m, e, "%s", "namespace went away during the scan");
		return;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		int en = errno;
		close(fd);
		set_error(m, e, "setns: %s (needs CAP_SYS_ADMIN and the host PID namespace)", strerror(en));
		return;
	}
	close(fd);
	read_addrs(e);
	if (!in_scope(m, e)) {
		e->state = TL_MESH_OUT_OF_SCOPE;
	} else {
		e->src = afpacket_open("lo", &m->a, err, sizeof(err));
		e->nat = e->src ? calloc(1, sizeof(*e->nat)) : NULL;
		if (e->src && !e->nat) {
			close_ns_source(m, e);
			snprintf(err, sizeof(err), "out of memory");
		}
		if (e->src) {
			e->src->rewrite = tl_mesh_unnat;
			e->src->rewrite_ctx = e->nat;
			e->state = TL_MESH_CAPTURING;
			e->error[0] = '\0';
			m->opened++;
			struct tl_source_mark *mk = &e->src->mark;
			mk->hatype = TAPLINE_ARPHRD_MESH_LOOPBACK;
			mk->halen = 8;
			uint32_t pid = htonl((uint32_t)e->pid), ino = htonl((uint32_t)e->netns);
			memcpy(mk->addr, &pid, 4);
			memcpy(mk->addr + 4, &ino, 4);
			snprintf(e->src->name, sizeof(e->src->name), "lo@netns:%llu", (unsigned long long)e->netns);
		} else {
			set_error(m, e, "%s", err);
		}
	}
	if (setns(m->own_ns_fd, CLONE_NEWNET) < 0)
		fprintf(stderr, "tapline-capture: warning: --mesh: cannot return to our network namespace: %s\n",
			strerror(errno));
}

static void remove_at(struct tl_mesh *m, int i)
{
	close_ns_source(m, &m->ns[i]);
	memmove(&m->ns[i], &m->ns[i + 1], (size_t)(m->n - i - 1) * sizeof(m->ns[0]));
	m->n--;
}

static void rescan(struct tl_mesh *m)
{
	static struct tl_mesh_proc procs[TL_MESH_MAX];
	int np = tl_mesh_scan(m->proc_root, m->own_netns, procs, TL_MESH_MAX);
	m->scans++;
	for (int i = 0; i < m->n; i++)
		m->ns[i].seen = 0;
	for (int k = 0; k < np; k++) {
		int i = 0;
		while (i < m->n && m->ns[i].netns != procs[k].netns)
			i++;
		if (i == m->n) {
			if (m->n == TL_MESH_MAX)
				continue;
			memset(&m->ns[i], 0, sizeof(m->ns[i]));
			m->ns[i].netns = procs[k].netns;
			m->ns[i].state = TL_MESH_ERROR; /* until opened */
			m->n++;
		}
		struct tl_mesh_ns *e = &m->ns[i];
		e->seen = 1;
		e->pid = procs[k].pid;
		snprintf(e->name, sizeof(e->name), "%s", procs[k].name);
		if (e->src) {
			uint32_t pid = htonl((uint32_t)e->pid); /* a restarted proxy: new pid, same namespace */
			memcpy(e->src->mark.addr, &pid, 4);
		} else {
			try_open(m, e);
		}
	}
	for (int i = m->n - 1; i >= 0; i--)
		if (!m->ns[i].seen)
			remove_at(m, i);
}

int tl_mesh_tick(struct tl_mesh *m, uint64_t now_ns)
{
	if (now_ns >= m->next_scan_ns) {
		rescan(m);
		m->next_scan_ns = now_ns + (uint64_t)TL_MESH_SCAN_MS * 1000000ull;
	}
	uint64_t left = (m->next_scan_ns - now_ns + 999999) / 1000000;
	return left > TL_MESH_SCAN_MS ? TL_MESH_SCAN_MS : (int)left;
}

int tl_mesh_pollfds(struct tl_mesh *m, struct pollfd *pfds, int max)
{
	int n = 0;
	for (int i = 0; i < m->n && n < max; i++)
		if (m->ns[i].src)
			pfds[n++] = (struct pollfd){.fd = m->ns[i].src->fd, .events = POLLIN};
	return n;
}

void tl_mesh_drain(struct tl_mesh *m, const struct pollfd *pfds, int n, struct tl_sink *sink, int budget)
{
	int k = 0;
	for (int i = 0; i < m->n && !sink->stop; i++) {
		struct tl_mesh_ns *e = &m->ns[i];
		if (!e->src)
			continue;
		if (pfds) {
			if (k >= n || pfds[k].fd != e->src->fd)
				return; /* the set changed since poll: next round */
			short rev = pfds[k++].revents;
			if (rev & POLLERR) {
				int so = 0;
				socklen_t len = sizeof(so);
				getsockopt(e->src->fd, SOL_SOCKET, SO_ERROR, &so, &len);
				if (so && so != ENETDOWN) {
					close_ns_source(m, e);
					set_error(m, e, "capture socket: %s", strerror(so));
					continue;
				}
			}
		}
		uint64_t before = sink->c.received;
		e->src->ops->drain(e->src, sink, budget);
		e->packets += sink->c.received - before;
	}
}

void tl_mesh_stats(struct tl_mesh *m, struct tl_counters *c)
{
	for (int i = 0; i < m->n; i++)
		if (m->ns[i].src)
			m->ns[i].src->ops->stats(m->ns[i].src, c);
}

int tl_mesh_set_filter(struct tl_mesh *m, const char *expr, char *err, size_t errlen)
{
	static struct tl_kfilter kf[TL_MESH_MAX];
	int rc = 0, ok = 0;
	if (strlen(expr) >= sizeof(m->filter)) {
		snprintf(err, errlen, "mesh filter too long");
		return -1;
	}
	if (check_filter(&m->a, expr, err, errlen) < 0)
		return -1;
	memset(kf, 0, sizeof(kf));
	for (; ok < m->n; ok++)
		if (m->ns[ok].src && m->ns[ok].src->ops->prepare_filter(m->ns[ok].src, expr, &kf[ok], err, errlen) < 0)
			break;
	if (ok == m->n) {
		for (int i = 0; i < m->n && rc == 0; i++)
			if (m->ns[i].src)
				rc = m->ns[i].src->ops->commit_filter(m->ns[i].src, &kf[i], err, errlen);
	} else {
		rc = -1;
	}
	for (int i = 0; i < m->n; i++)
		tl_filter_free(&kf[i]);
	if (rc == 0)
		snprintf(m->filter, sizeof(m->filter), "%s", expr); /* m->a.filter points here: new opens use it */
	return rc;
}

int tl_mesh_set_scope(struct tl_mesh *m, const char *list, char *err, size_t errlen)
{
	char(*tmp)[46] = calloc(TL_MESH_SCOPE_MAX, 46);
	if (!tmp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* "none": a tap target without meshed pods; "" (no scope): every meshed namespace */
	int none = strcmp(list, "none") == 0;
	int n = none ? 0 : tl_mesh_parse_scope(list, tmp, TL_MESH_SCOPE_MAX, err, errlen);
	if (n < 0) {
		free(tmp);
		return -1;
	}
	free(m->scope);
	m->scope = NULL;
	m->nscope = 0;
	if (n > 0 || none) {
		m->scope = tmp;
		m->nscope = n;
	} else {
		free(tmp);
	}
	/* Applied now: a namespace leaving the scope stops at once, one entering opens. */
	for (int i = 0; i < m->n; i++) {
		struct tl_mesh_ns *e = &m->ns[i];
		if (e->src && !in_scope(m, e)) {
			close_ns_source(m, e);
			e->state = TL_MESH_OUT_OF_SCOPE;
		} else if (!e->src && m->own_ns_fd >= 0) {
			try_open(m, e);
		}
	}
	return 0;
}

#define APPEND(...)                                                              \
	do {                                                                     \
		if (o < n) {                                                     \
			int w_ = snprintf(out + o, n - o, __VA_ARGS__);          \
			o = w_ < 0 ? n : o + (size_t)w_ > n ? n : o + (size_t)w_; \
		}                                                                \
	} while (0)

size_t tl_mesh_status_json(const struct tl_mesh *m, char *out, size_t n)
{
	size_t o = 0;
	char s[2200];
	json_str(s, sizeof(s), m->filter);
	APPEND("{\"enabled\":true,\"filter\":%s,\"scope\":", s);
	if (!m->scope) {
		APPEND("null");
	} else {
		APPEND("[");
		for (int i = 0; i < m->nscope; i++)
			APPEND("%s\"%s\"", i ? "," : "", m->scope[i]);
		APPEND("]");
	}
	APPEND(",\"scans\":%llu,\"netns\":[", (unsigned long long)m->scans);
	for (int i = 0; i < m->n; i++) {
		const struct tl_mesh_ns *e = &m->ns[i];
		const char *state = e->state == TL_MESH_CAPTURING ? "capturing"
				    : e->state == TL_MESH_OUT_OF_SCOPE ? "out of scope"
								       : NULL;
		char st[260];
		if (state) {
			json_str(st, sizeof(st), state);
		} else {
			char tmp[230];
			snprintf(tmp, sizeof(tmp), "error: %s", e->error);
			json_str(st, sizeof(st), tmp);
		}
		APPEND("%s{\"netns\":%llu,\"pid\":%d,\"proxy\":\"%s\",\"state\":%s,\"packets\":%llu,\"addresses\":[",
		       i ? "," : "", (unsigned long long)e->netns, e->pid, e->name, st,
		       (unsigned long long)e->packets);
		for (int k = 0; k < e->naddrs; k++)
			APPEND("%s\"%s\"", k ? "," : "", e->addrs[k]);
		APPEND("]}");
	}
	APPEND("]}");
	if (o >= n && n) {
		/* never hand out a cut JSON document */
		snprintf(out, n, "{\"enabled\":true,\"error\":\"status too long\"}");
		o = strlen(out);
	}
	return o;
}

size_t tl_mesh_counters_json(const struct tl_mesh *m, char *out, size_t n)
{
	int capturing = 0;
	uint64_t packets = 0;
	for (int i = 0; i < m->n; i++) {
		capturing += m->ns[i].src != NULL;
		packets += m->ns[i].packets;
	}
	int w = snprintf(out, n, "{\"netns\":%d,\"capturing\":%d,\"packets\":%llu}", m->n, capturing,
			 (unsigned long long)packets);
	return w < 0 ? 0 : (size_t)w;
}

void tl_mesh_close(struct tl_mesh *m)
{
	for (int i = 0; i < m->n; i++)
		close_ns_source(m, &m->ns[i]);
	m->n = 0;
	free(m->scope);
	m->scope = NULL;
	if (m->own_ns_fd >= 0)
		close(m->own_ns_fd);
	m->own_ns_fd = -1;
}
