/* Envoy/Istio sidecar detection and loopback capture inside meshed pods (SPEC §2).
 *
 * In a service mesh the pod-to-pod bytes on a node's veths are mTLS; the
 * plaintext crosses the loopback of the pod's own network namespace, between
 * the app and its Envoy sidecar:
 *   inbound   Envoy (127.0.0.6 or 127.0.0.1) -> the app's port
 *   outbound  app -> iptables REDIRECT -> 127.0.0.1:15001 (Envoy)
 * `--mesh` finds namespaces that hold an Envoy or pilot-agent process (by
 * /proc/PID/comm or argv[0], grouped by /proc/PID/ns/net), opens an AF_PACKET
 * ring on `lo` inside each (setns, socket, bind, setns back: a packet socket
 * stays in the namespace it was created in) and marks its packets
 * (sll2.h, TAPLINE_ARPHRD_MESH_LOOPBACK). Namespaces are rescanned every
 * TL_MESH_SCAN_MS; one whose proxy is gone is closed at once (our socket
 * would otherwise keep a dead pod's namespace alive).
 */
#ifndef TAPLINE_MESH_H
#define TAPLINE_MESH_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "source.h"

#define TL_MESH_MAX 64		/* namespaces captured at once */
#define TL_MESH_SCAN_MS 2000
#define TL_MESH_ADDRS 8		/* addresses kept per namespace (scope matching, status) */
#define TL_MESH_SCOPE_MAX 1024	/* addresses in a scope */

/*
 * Istio reserves 15000-15090 for the proxy itself (15000 admin, 15004 debug,
 * 15020/15021 pilot-agent health and merged metrics, 15053 DNS, 15090 Envoy
 * metrics); on the loopback those are control traffic between pilot-agent,
 * Envoy and the kubelet's rewritten probes. 15001 is the exception: it is
 * where iptables redirects the app's outbound connections, so its bytes are
 * the app's own plaintext requests. Everything else on a meshed pod's
 * loopback has an app port at one end.
 */
#define TL_MESH_DEFAULT_FILTER "tcp and (port 15001 or not portrange 15000-15090)"

/* One proxy process found by a scan. */
struct tl_mesh_proc {
	int pid;
	uint64_t netns; /* inode of /proc/PID/ns/net */
	char name[16];	/* "envoy" or "pilot-agent" */
};

/* Whether a process is a mesh proxy, by its comm or the basename of argv[0] (either may be NULL). */
int tl_mesh_is_proxy(const char *comm, const char *argv0);

/*
 * Scans proc_root (normally "/proc") for proxy processes and returns at most
 * max of them, one per network namespace (Envoy before pilot-agent, then the
 * lowest pid), skipping namespace own_netns. Unreadable entries are skipped:
 * processes come and go during a scan.
 */
int tl_mesh_scan(const char *proc_root, uint64_t own_netns, struct tl_mesh_proc *out, int max);

/* Parses "net:[4026532000]" (what /proc/PID/ns/net links to); 0 when it is not one. */
uint64_t tl_mesh_parse_nslink(const char *link);

/* Splits a comma/space separated address list into normalized text forms; -1 and err on a bad address. */
int tl_mesh_parse_scope(const char *list, char (*out)[46], int max, char *err, size_t errlen);

/*
 * Outbound connections are redirected by iptables (nat OUTPUT), and the
 * loopback shows them half translated: the app's packets go to
 * 127.0.0.1:15001, while the sidecar's replies, un-NATed by conntrack before
 * they reach the loopback, come from the original destination (the remote
 * service). Left like that the two directions are two unrelated 4-tuples and
 * no request meets its response. Each client SYN is remembered (client
 * address and port -> the server it reached); a later packet to that client
 * from another address gets its source set back to that server, checksums
 * updated (RFC 1624; a loopback packet whose TCP checksum was left to
 * offload stays as inconsistent as it was). IPv4 only; a slot is reused by the next SYN that
 * hashes to it.
 */
#define TL_MESH_NAT_SLOTS 1024
struct tl_mesh_nat_slot {
	uint32_t cli_ip, srv_ip; /* network order */
	uint16_t cli_port, srv_port;
};
struct tl_mesh_nat {
	struct tl_mesh_nat_slot slot[TL_MESH_NAT_SLOTS];
	uint64_t rewritten;
};

/* The rewrite above, on one IP packet of caplen bytes (a tl_source rewrite hook; ctx is a tl_mesh_nat). */
void tl_mesh_unnat(void *ctx, uint8_t *ip, uint32_t caplen);

enum tl_mesh_state { TL_MESH_CAPTURING, TL_MESH_OUT_OF_SCOPE, TL_MESH_ERROR };

struct tl_mesh_ns {
	uint64_t netns;
	int pid;
	char name[16];
	enum tl_mesh_state state;
	char error[200];
	char addrs[TL_MESH_ADDRS][46];
	int naddrs;
	struct tl_source *src; /* NULL unless capturing */
	struct tl_mesh_nat *nat; /* with src */
	uint64_t packets;
	int seen; /* in the latest scan */
};

struct tl_mesh {
	struct tl_args a;     /* the capture's options, with the mesh filter and a small ring */
	const char *proc_root;
	int own_ns_fd;
	uint64_t own_netns;
	char filter[1024];
	char (*scope)[46];    /* NULL: every meshed namespace */
	int nscope;
	struct tl_mesh_ns ns[TL_MESH_MAX];
	int n;
	uint64_t next_scan_ns;
	uint64_t scans, opened, closed, failed;
};

/*
 * Prepares mesh capture with the capture's options; the filter is `filter`
 * (NULL: TL_MESH_DEFAULT_FILTER), checked by compiling it. Nothing is opened
 * until the first tl_mesh_tick. -1 and err when the filter is bad or our own
 * namespace cannot be opened.
 */
int tl_mesh_open(struct tl_mesh *m, const struct tl_args *a, const char *filter, const char *scope,
		 char *err, size_t errlen);

/* Rescans when due (now in CLOCK_MONOTONIC ns); returns ms until the next scan. */
int tl_mesh_tick(struct tl_mesh *m, uint64_t now_ns);

/* Adds the capturing namespaces' sockets; returns how many (the same order tl_mesh_drain expects). */
int tl_mesh_pollfds(struct tl_mesh *m, struct pollfd *pfds, int max);

/* Drains the sockets tl_mesh_pollfds listed (pfds NULL: all); a socket in error is closed. */
void tl_mesh_drain(struct tl_mesh *m, const struct pollfd *pfds, int n, struct tl_sink *sink, int budget);

/* Adds the kernel counters of every mesh socket. */
void tl_mesh_stats(struct tl_mesh *m, struct tl_counters *c);

/* Replaces the filter of every mesh socket (all compile first, as for interfaces). */
int tl_mesh_set_filter(struct tl_mesh *m, const char *expr, char *err, size_t errlen);

/* Restricts capture to namespaces holding one of these addresses ("" = all, "none" = none); applied at once. */
int tl_mesh_set_scope(struct tl_mesh *m, const char *list, char *err, size_t errlen);

/* {"enabled":true,"filter":…,"scope":[…],"scans":…,"netns":[{…}]} */
size_t tl_mesh_status_json(const struct tl_mesh *m, char *out, size_t n);

/* Compact counters for the stats line: {"netns":…,"capturing":…,"packets":…}. */
size_t tl_mesh_counters_json(const struct tl_mesh *m, char *out, size_t n);

void tl_mesh_close(struct tl_mesh *m);

#endif
