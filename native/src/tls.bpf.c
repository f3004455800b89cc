// SPDX-License-Identifier: GPL-2.0
/* Kernel side of the TLS plaintext capture.
 *
 * uprobes on SSL_read/SSL_write(_ex) entry keep the buffer pointer per
 * thread; the uretprobes copy what the call really moved (its return value,
 * or *readbytes / *written for the _ex forms) into the ring buffer.
 *
 * Which connection: kprobes do not exist on the target kernel, so the
 * socket is found from the thread's own I/O. Syscall tracepoints on the
 * read/write family note, for threads that ever called into libssl, the
 * last fd that was a TCP socket, with its 4-tuple read through CO-RE
 * (task->files->fdt->fd[fd]->private_data->sk). With a socket BIO (curl,
 * python, nginx) that syscall happens inside SSL_read/SSL_write itself;
 * with memory BIOs (node) it is the thread's latest socket I/O, which is
 * the connection the record just came from (SSL_read) or, usually, the one
 * being answered (SSL_write).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tls.h"

/* Not in vmlinux.h (they are macros in the kernel). */
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define S_IFMT 00170000
#define S_IFSOCK 0140000

char LICENSE[] SEC("license") = "GPL";

/* Filters, set through skel->rodata before load. */
const volatile __u32 targ_tgid = 0; /* 0: every process */
const volatile __u32 self_tgid = 0; /* never trace ourselves */

struct call {
	__u64 buf;
	__u64 lenp; /* _ex forms: where the byte count is written */
	__u8 fn;
};

/* The last TCP socket a thread did I/O on. */
struct sockref {
	__u64 sk;
	__s32 fd;
	__u16 family;
	__u16 lport;
	__u16 rport;
	__u8 laddr[16];
	__u8 raddr[16];
};

/* The ports belong to the key because the kernel reuses a freed sock's
 * memory for a later connection: keyed by the pointer alone, that connection
 * would continue the old one's offsets (seen with one server accepting after
 * another process's client had closed). */
struct offkey {
	__u64 sk;
	__u32 dir;
	__u16 lport;
	__u16 rport;
};

struct scratch {
	struct tls_event e;
	__u8 data[TLS_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct sockref);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct offkey);
	__type(value, __u64);
} offsets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TLS_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);
	if (c)
		*c += 1;
}

static __always_inline int wanted(__u32 tgid)
{
	if (tgid == self_tgid)
		return 0;
	return targ_tgid == 0 || tgid == targ_tgid;
}

/* A thread that calls into libssl gets a slot so its socket I/O is noted. */
static __always_inline void track_thread(__u32 tid)
{
	struct sockref empty = {.fd = -1};
	bpf_map_update_elem(&threads, &tid, &empty, BPF_NOEXIST);
}

static __always_inline int enter(void *buf, void *lenp, __u8 fn)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	if (!wanted(id >> 32))
		return 0;
	struct call c = {.buf = (__u64)buf, .lenp = (__u64)lenp, .fn = fn};
	bpf_map_update_elem(&calls, &tid, &c, BPF_ANY);
	track_thread(tid);
	return 0;
}

/* Copies the len bytes a call moved at buf into the ring, as chunks attributed
 * to the socket ref. */
static __always_inline int emit(__u64 id, __u64 buf, __u64 len, __u8 fn, const struct sockref *ref)
{
	__u32 tid = (__u32)id;
	if (len == 0 || len > 0x7fffffff)
		return 0;
	count(TLS_CNT_CALLS);
	if (!ref->sk) {
		count(TLS_CNT_UNATTRIBUTED);
		return 0;
	}
	__u8 dir = fn == TLS_FN_WRITE || fn == TLS_FN_WRITE_EX || fn == TLS_FN_GO_WRITE ? TLS_DIR_WRITE : TLS_DIR_READ;
	/* The socket's byte offset per direction: lost events leave holes in
	 * the synthesized stream instead of shifting later bytes. */
	struct offkey ok = {.sk = ref->sk, .dir = dir, .lport = ref->lport, .rport = ref->rport};
	__u64 base = 0, next;
	__u64 *p = bpf_map_lookup_elem(&offsets, &ok);
	if (p)
		base = *p;
	next = base + len;
	bpf_map_update_elem(&offsets, &ok, &next, BPF_ANY);
	if (len > (__u64)TLS_CHUNK * TLS_MAX_CHUNKS)
		count(TLS_CNT_TRUNCATED);

	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	struct tls_event *e = &s->e;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = tid;
	e->len = (__u32)len;
	e->fd = ref->fd;
	e->family = ref->family;
	e->lport = ref->lport;
	e->rport = ref->rport;
	e->dir = dir;
	e->fn = fn;
	__builtin_memcpy(e->laddr, ref->laddr, 16);
	__builtin_memcpy(e->raddr, ref->raddr, 16);
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	for (__u32 i = 0; i < TLS_MAX_CHUNKS; i++) {
		__u64 off = (__u64)i * TLS_CHUNK;
		if (off >= len)
			break;
		__u64 n = len - off;
		if (n > TLS_CHUNK)
			n = TLS_CHUNK;
		/* The verifier needs the bound on the very register it checks. */
		n &= (TLS_CHUNK << 1) - 1;
		if (n == 0 || n > TLS_CHUNK)
			break;
		e->off = (__u32)off;
		e->stream_off = base + off;
		e->caplen = (__u32)n;
		if (bpf_probe_read_user(s->data, n, (void *)(buf + off))) {
			count(TLS_CNT_READ_FAILED);
			continue;
		}
		/* ringbuf_output, not reserve: a reservation must be of constant
		 * size, and a 16 KiB slot per 100-byte write would waste the ring. */
		if (bpf_ringbuf_output(&events, s, sizeof(struct tls_event) + n, 0))
			count(TLS_CNT_LOST);
		else
			count(TLS_CNT_CHUNKS);
	}
	return 0;
}

static __always_inline int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct call *c = bpf_map_lookup_elem(&calls, &tid);
	if (!c)
		return 0;
	struct call call = *c;
	bpf_map_delete_elem(&calls, &tid);

	__u64 len = 0;
	if (call.fn == TLS_FN_READ_EX || call.fn == TLS_FN_WRITE_EX) {
		if (ret != 1 || bpf_probe_read_user(&len, sizeof(len), (void *)call.lenp))
			return 0;
	} else if (ret > 0) {
		len = (__u64)ret;
	}
	struct sockref none = {};
	struct sockref *ref = bpf_map_lookup_elem(&threads, &tid);
	return emit(id, call.buf, len, call.fn, ref ? ref : &none);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void *ssl, void *buf, int num)
{
	return enter(buf, NULL, TLS_FN_READ);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void *ssl, const void *buf, int num)
{
	return enter((void *)buf, NULL, TLS_FN_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	return enter(buf, readbytes, TLS_FN_READ_EX);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	return enter((void *)buf, written, TLS_FN_WRITE_EX);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_ret, long ret)
{
	return leave(ret);
}

/* The handshake runs before the first SSL_read on a connection; seeing it
 * lets a thread's socket be known before its first data call. */
SEC("uprobe")
int BPF_KPROBE(ssl_handshake_enter)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (wanted(id >> 32))
		track_thread((__u32)id);
	return 0;
}

/* The TCP socket behind fd in the current process, read through CO-RE
 * (task->files->fdt->fd[fd]->private_data->sk). Returns 0 when r is filled. */
static __always_inline int fd_sock(long fd, struct sockref *r)
{
	if (fd < 0)
		return -1;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (__u64)fd >= BPF_CORE_READ(fdt, max_fds))
		return -1;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return -1;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return -1;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != SOCK_STREAM)
		return -1;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return -1;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return -1;
	r->sk = (__u64)sk;
	r->fd = (__s32)fd;
	r->family = family;
	r->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	r->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		BPF_CORE_READ_INTO(&r->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO(&r->raddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&r->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&r->raddr, sk, __sk_common.skc_v6_daddr);
	}
	return 0;
}

static __always_inline void note_fd(long fd)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sockref *ref = bpf_map_lookup_elem(&threads, &tid);
	if (!ref)
		return;
	struct sockref r = {};
	if (fd_sock(fd, &r) == 0 && (r.sk != ref->sk || r.fd != ref->fd))
		bpf_map_update_elem(&threads, &tid, &r, BPF_EXIST);
}

/* Syscall numbers of the read/write family; all take the fd first. */
#if defined(__TARGET_ARCH_x86)
#define NR_read 0
#define NR_write 1
#define NR_readv 19
#define NR_writev 20
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#elif defined(__TARGET_ARCH_arm64)
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#else
#error "syscall numbers for this architecture are missing"
#endif

/* raw_tp, not the syscalls tracepoints: it attaches by name without tracefs,
 * which a sidecar's host may not have mounted. */
SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	switch (id) {
	case NR_read: case NR_write: case NR_readv: case NR_writev:
	case NR_sendto: case NR_recvfrom: case NR_sendmsg: case NR_recvmsg:
		note_fd((long)PT_REGS_PARM1_CORE_SYSCALL(regs));
		break;
	}
	return 0;
}

/* ---- Go crypto/tls.(*Conn).Read and .Write ----
 *
 * Go's internal register ABI (Go >= 1.18 is checked in user space): the
 * receiver and the slice's pointer and length arrive in the first integer
 * registers, the result n comes back in the first, and the current
 * goroutine's g stays in a fixed register (R14 on amd64, R28 on arm64).
 * A call is keyed by its goroutine, not its thread: a goroutine that blocks
 * inside Read resumes on whatever thread the scheduler picks. The returns
 * are uprobes on each RET instruction (gotls.c says why not uretprobes).
 *
 * Which connection: through the receiver, not the thread's syscalls.
 * tls.Conn begins with `conn net.Conn` (an interface: type word, then data
 * pointer); for a *net.TCPConn the data points at {fd *netFD}; netFD begins
 * with poll.FD {fdmu fdMutex (16 bytes); Sysfd int}. These layouts have held
 * from Go 1.9 to today; the fd found is only trusted when the process's fd
 * table has a TCP socket there (fd_sock), so another net.Conn (a unix
 * socket, a wrapper) gives an unattributed call, not wrong data.
 */
#if defined(__TARGET_ARCH_x86)
#define GO_ARG0(x) ((x)->ax)
#define GO_ARG1(x) ((x)->bx)
#define GO_G(x) ((x)->r14)
#elif defined(__TARGET_ARCH_arm64)
#define GO_ARG0(x) ((x)->regs[0])
#define GO_ARG1(x) ((x)->regs[1])
#define GO_G(x) ((x)->regs[28])
#endif

const volatile __u32 go_conn_data_off = 8; /* tls.Conn.conn: interface data word */
const volatile __u32 go_netfd_off = 0;	   /* net.TCPConn.conn.fd */
const volatile __u32 go_sysfd_off = 16;	   /* netFD.pfd.Sysfd */

struct gokey {
	__u64 g;
	__u32 tgid;
	__u32 pad;
};

struct gocall {
	__u64 buf;
	__s64 fd;
	__u8 fn;
};

/* LRU: a goroutine that never returns (its program exits mid-Read) must not
 * hold a slot forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct gokey);
	__type(value, struct gocall);
} gocalls SEC(".maps");

static __always_inline int go_enter(struct pt_regs *ctx, __u8 fn)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!wanted(id >> 32))
		return 0;
	struct gokey k = {.g = GO_G(ctx), .tgid = id >> 32};
	struct gocall c = {.buf = GO_ARG1(ctx), .fd = -1, .fn = fn};
	__u64 data = 0, netfd = 0;
	if (!bpf_probe_read_user(&data, sizeof(data), (void *)(GO_ARG0(ctx) + go_conn_data_off)) && data &&
	    !bpf_probe_read_user(&netfd, sizeof(netfd), (void *)(data + go_netfd_off)) && netfd)
		bpf_probe_read_user(&c.fd, sizeof(c.fd), (void *)(netfd + go_sysfd_off));
	/* A stack-growing entry runs the prologue twice: the second write is the same. */
	bpf_map_update_elem(&gocalls, &k, &c, BPF_ANY);
	return 0;
}

SEC("uprobe")
int go_read_enter(struct pt_regs *ctx)
{
	return go_enter(ctx, TLS_FN_GO_READ);
}

SEC("uprobe")
int go_write_enter(struct pt_regs *ctx)
{
	return go_enter(ctx, TLS_FN_GO_WRITE);
}

SEC("uprobe")
int go_ret(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gokey k = {.g = GO_G(ctx), .tgid = id >> 32};
	struct gocall *c = bpf_map_lookup_elem(&gocalls, &k);
	if (!c)
		return 0;
	struct gocall call = *c;
	bpf_map_delete_elem(&gocalls, &k);
	long n = (long)GO_ARG0(ctx);
	if (n <= 0)
		return 0;
	struct sockref ref = {};
	fd_sock(call.fd, &ref);
	return emit(id, call.buf, (__u64)n, call.fn, &ref);
}
