/* mesh.c: proxy detection over a fake /proc tree, scope parsing, control
 * commands, flags and the loopback filter prefix. Opening namespaces needs
 * root and is covered end to end by test/mesh. */
#include <arpa/inet.h>
#include <linux/filter.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "control.h"
#include "filter.h"
#include "harness.h"
#include "mesh.h"

static void put(const char *root, const char *pid, const char *file, const char *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/ns", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", root, pid, file);
	FILE *f = fopen(path, "w");
	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

/* One fake process: comm, argv (NUL-separated) and the ns/net link. */
static void proc(const char *root, const char *pid, const char *comm, const char *argv, size_t argvlen,
		 const char *nslink)
{
	char path[512], line[64];
	snprintf(line, sizeof(line), "%s\n", comm);
	put(root, pid, "comm", line, strlen(line));
	put(root, pid, "cmdline", argv, argvlen);
	if (nslink) {
		snprintf(path, sizeof(path), "%s/%s/ns/net", root, pid);
		if (symlink(nslink, path) < 0)
			perror("symlink");
	}
}

/* argv as /proc/PID/cmdline holds it: NUL-separated, with the final NUL (sizeof of the literal). */
#define PROC(root, pid, comm, argv, nslink) proc(root, pid, comm, argv, sizeof(argv), nslink)

static const struct tl_mesh_proc *find(const struct tl_mesh_proc *p, int n, uint64_t ns)
{
	for (int i = 0; i < n; i++)
		if (p[i].netns == ns)
			return &p[i];
	return NULL;
}

static void test_scan(void)
{
	char root[] = "/tmp/tl-mesh-test-XXXXXX";
	if (!mkdtemp(root)) {
		CHECK(!"mkdtemp");
		return;
	}
	/* pod A: envoy and pilot-agent share a namespace; envoy is kept */
	PROC(root, "120", "pilot-agent", "/usr/local/bin/pilot-agent\0proxy", "net:[500]");
	PROC(root, "130", "envoy", "/usr/local/bin/envoy\0-c\0envoy-rev.json", "net:[500]");
	/* pod B: a renamed argv[0] (`exec -a envoy`), comm is the real binary */
	PROC(root, "200", "python3", "envoy\0proxy.py", "net:[600]");
	/* our own namespace (a host-network proxy): left to -i lo */
	PROC(root, "300", "envoy", "envoy", "net:[1]");
	/* not proxies */
	PROC(root, "400", "nginx", "nginx: master", "net:[700]");
	PROC(root, "402", "envoyx", "/bin/envoyx", "net:[701]");
	PROC(root, "403", "python3", "/opt/envoy/run.py", "net:[702]");
	/* pod C: only pilot-agent (Envoy not started yet) */
	PROC(root, "410", "pilot-agent", "pilot-agent", "net:[800]");
	/* pod D: two envoys, the lower pid wins */
	PROC(root, "510", "envoy", "envoy", "net:[900]");
	PROC(root, "505", "envoy", "envoy", "net:[900]");
	/* a process whose ns link is unreadable, and one that vanished (no comm) */
	PROC(root, "600", "envoy", "envoy", "bogus");
	char path[600];
	snprintf(path, sizeof(path), "%s/700", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/self", root);
	mkdir(path, 0755);

	struct tl_mesh_proc p[8];
	int n = tl_mesh_scan(root, 1, p, 8);
	CHECK_EQ_INT(n, 4);
	const struct tl_mesh_proc *a = find(p, n, 500), *b = find(p, n, 600), *c = find(p, n, 800),
				  *d = find(p, n, 900);
	CHECK(a && a->pid == 130 && strcmp(a->name, "envoy") == 0);
	CHECK(b && b->pid == 200 && strcmp(b->name, "envoy") == 0);
	CHECK(c && c->pid == 410 && strcmp(c->name, "pilot-agent") == 0);
	CHECK(d && d->pid == 505);
	CHECK(find(p, n, 1) == NULL);
	CHECK(find(p, n, 700) == NULL && find(p, n, 701) == NULL && find(p, n, 702) == NULL);
	/* the cap on namespaces holds */
	CHECK_EQ_INT(tl_mesh_scan(root, 1, p, 2), 2);
	CHECK_EQ_INT(tl_mesh_scan("/nonexistent-proc", 1, p, 8), 0);

	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK_EQ_INT(system(cmd), 0);
}

/* One's complement sum over n bytes plus an initial value, folded. */
static uint16_t fold(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t pseudo(const uint8_t *ip, size_t tcplen)
{
	return fold(ip + 12, 8, 6 + (uint32_t)tcplen);
}

/* A 20-byte IPv4 header + 20-byte TCP header + 4 payload bytes, both checksums valid. */
static void segment(uint8_t *pkt, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags)
{
	memset(pkt, 0, 44);
	pkt[0] = 0x45;
	pkt[3] = 44;
	pkt[8] = 64;
	pkt[9] = 6;
	inet_pton(AF_INET, src, pkt + 12);
	inet_pton(AF_INET, dst, pkt + 16);
	uint16_t s = (uint16_t)~fold(pkt, 20, 0);
	pkt[10] = (uint8_t)(s >> 8);
	pkt[11] = (uint8_t)s;
	uint8_t *t = pkt + 20;
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	t[12] = 0x50;
	t[13] = flags;
	memcpy(t + 20, "HTTP", 4);
	s = (uint16_t)~fold(t, 24, pseudo(pkt, 24));
	t[16] = (uint8_t)(s >> 8);
	t[17] = (uint8_t)s;
}

static int sums_valid(const uint8_t *pkt)
{
	return fold(pkt, 20, 0) == 0xffff && fold(pkt + 20, 24, pseudo(pkt, 24)) == 0xffff;
}

static void test_unnat(void)
{
	static struct tl_mesh_nat nat;
	uint8_t pkt[44], before[44];
	memset(&nat, 0, sizeof(nat));
	/* the app's SYN after REDIRECT, then the sidecar's SYN-ACK as the loopback shows it */
	segment(pkt, "10.1.0.2", 40000, "127.0.0.1", 15001, 0x02);
	memcpy(before, pkt, sizeof(pkt));
	tl_mesh_unnat(&nat, pkt, sizeof(pkt));
	CHECK_MEM(pkt, before, sizeof(pkt)); /* a SYN is only remembered */
	segment(pkt, "10.1.9.9", 9000, "10.1.0.2", 40000, 0x12);
	CHECK(sums_valid(pkt));
	tl_mesh_unnat(&nat, pkt, sizeof(pkt));
	uint8_t want[4];
	inet_pton(AF_INET, "127.0.0.1", want);
	CHECK_MEM(pkt + 12, want, 4);
	CHECK_EQ_INT(pkt[20] << 8 | pkt[21], 15001);
	CHECK(sums_valid(pkt));
	CHECK_EQ_INT(nat.rewritten, 1);
	/* the request direction and an inbound connection's replies are left alone */
	segment(pkt, "10.1.0.2", 40000, "127.0.0.1", 15001, 0x18);
	memcpy(before, pkt, sizeof(pkt));
	tl_mesh_unnat(&nat, pkt, sizeof(pkt));
	CHECK_MEM(pkt, before, sizeof(pkt));
	segment(pkt, "127.0.0.6", 41000, "10.1.0.2", 8080, 0x02);
	tl_mesh_unnat(&nat, pkt, sizeof(pkt));
	segment(pkt, "10.1.0.2", 8080, "127.0.0.6", 41000, 0x12);
	memcpy(before, pkt, sizeof(pkt));
	tl_mesh_unnat(&nat, pkt, sizeof(pkt));
	CHECK_MEM(pkt, before, sizeof(pkt));
	/* a truncated packet or another protocol is not touched */
	segment(pkt, "10.1.9.9", 9000, "10.1.0.2", 40000, 0x10);
	memcpy(before, pkt, sizeof(pkt));
	tl_mesh_unnat(&nat, pkt, 37);
	pkt[9] = 17;
	tl_mesh_unnat(&nat, pkt, sizeof(pkt));
	pkt[9] = 6;
	CHECK_MEM(pkt, before, sizeof(pkt));
	CHECK_EQ_INT(nat.rewritten, 1);
}

void test_mesh(void)
{
	test_unnat();

	CHECK_EQ_INT(tl_mesh_is_proxy("envoy", NULL), 1);
	CHECK_EQ_INT(tl_mesh_is_proxy("python3", "/usr/local/bin/envoy"), 1);
	CHECK_EQ_INT(tl_mesh_is_proxy(NULL, "pilot-agent"), 2);
	CHECK_EQ_INT(tl_mesh_is_proxy("envoy-", "envoy/"), 0);
	CHECK_EQ_INT(tl_mesh_is_proxy("", ""), 0);

	CHECK_EQ_INT(tl_mesh_parse_nslink("net:[4026532177]"), 4026532177ull);
	CHECK_EQ_INT(tl_mesh_parse_nslink("net:[12]x"), 0);
	CHECK_EQ_INT(tl_mesh_parse_nslink("mnt:[12]"), 0);
	CHECK_EQ_INT(tl_mesh_parse_nslink("net:[]"), 0);

	test_scan();

	char scope[4][46], err[256];
	CHECK_EQ_INT(tl_mesh_parse_scope(" 10.0.0.1, FD00:0::1,10.0.0.2 ", scope, 4, err, sizeof(err)), 3);
	CHECK_STR(scope[1], "fd00::1");
	CHECK_STR(scope[2], "10.0.0.2");
	CHECK_EQ_INT(tl_mesh_parse_scope("", scope, 4, err, sizeof(err)), 0);
	CHECK_EQ_INT(tl_mesh_parse_scope("10.0.0.300", scope, 4, err, sizeof(err)), -1);
	CHECK(strstr(err, "10.0.0.300") != NULL);
	CHECK_EQ_INT(tl_mesh_parse_scope("1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5", scope, 4, err, sizeof(err)), -1);

	/* scopes on a mesh that has not scanned yet: "none" keeps a scope of zero addresses */
	struct tl_mesh *mm = calloc(1, sizeof(*mm));
	struct tl_args da;
	tl_args_defaults(&da);
	CHECK_EQ_INT(tl_mesh_open(mm, &da, NULL, "none", err, sizeof(err)), 0);
	CHECK(mm->scope != NULL && mm->nscope == 0);
	CHECK_EQ_INT(tl_mesh_set_scope(mm, "", err, sizeof(err)), 0);
	CHECK(mm->scope == NULL);
	CHECK_EQ_INT(tl_mesh_set_scope(mm, "10.0.0.1", err, sizeof(err)), 0);
	CHECK_EQ_INT(mm->nscope, 1);
	CHECK_EQ_INT(tl_mesh_set_scope(mm, "bogus", err, sizeof(err)), -1);
	CHECK_EQ_INT(mm->nscope, 1); /* a bad scope leaves the old one */
	tl_mesh_close(mm);
	CHECK_EQ_INT(tl_mesh_open(mm, &da, "tcp port", NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, "bad filter") != NULL);
	tl_mesh_close(mm);
	free(mm);

	/* control commands */
	struct tl_command c;
	char line[256];
	strcpy(line, "{\"mesh\":true}");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_MESH);
	strcpy(line, "mesh");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_MESH);
	strcpy(line, "{\"mesh_filter\":\"tcp port 8080\"}");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_MESH_FILTER);
	CHECK_STR(c.filter, "tcp port 8080");
	strcpy(line, "{\"mesh_scope\":\"10.1.0.5,10.1.0.6\"}");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_MESH_SCOPE);
	CHECK_STR(c.filter, "10.1.0.5,10.1.0.6");
	const char *bad[] = {"{\"mesh\":\"yes\"}", "{\"mesh_scope\":true}", "{\"mesh\":true,\"stats\":true}",
			     "{\"mesh\":false}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(line, bad[i]);
		tl_command_parse(line, &c);
		CHECK_EQ_INT(c.kind, TL_CMD_INVALID);
	}

	/* flags */
	struct tl_args a;
	const char *v1[] = {"x", "-i", "any", "--mesh-scope", "10.0.0.1", NULL};
	CHECK_EQ_INT(tl_args_parse(5, (char **)v1, &a, err, sizeof(err)), TL_ARGS_OK);
	CHECK(a.mesh && strcmp(a.mesh_scope, "10.0.0.1") == 0 && a.mesh_filter == NULL);
	const char *v2[] = {"x", "-r", "f.pcap", "--mesh", NULL};
	CHECK_EQ_INT(tl_args_parse(4, (char **)v2, &a, err, sizeof(err)), TL_ARGS_ERROR);
	CHECK(strstr(err, "--mesh") != NULL);

	/* the default filter compiles for loopback frames, and the outgoing-copy
	 * prefix goes in front of the program unchanged */
	struct bpf_program bp;
	struct tl_kfilter kf = {0};
	CHECK_EQ_INT(tl_filter_compile(DLT_EN10MB, 262144, TL_MESH_DEFAULT_FILTER, &bp, err, sizeof(err)), 0);
	CHECK_EQ_INT(tl_filter_from_bpf(&bp, DLT_EN10MB, &kf, err, sizeof(err)), 0);
	unsigned len = kf.len;
	struct sock_filter first = kf.insns[0];
	CHECK_EQ_INT(tl_filter_drop_outgoing(&kf, err, sizeof(err)), 0);
	CHECK_EQ_INT(kf.len, len + 3);
	CHECK_EQ_INT(kf.insns[0].k, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE));
	CHECK_EQ_INT(kf.insns[1].k, 4);
	CHECK_EQ_INT(BPF_CLASS(kf.insns[2].code), BPF_RET);
	CHECK_EQ_INT(kf.insns[2].k, 0);
	CHECK_MEM(&kf.insns[3], &first, sizeof(first));
	pcap_freecode(&bp);
	tl_filter_free(&kf);
}
