/* Events shared by tls.bpf.c (kernel side) and tls.c (user side).
 *
 * One event per captured chunk of an SSL_read/SSL_write call: this header,
 * then `caplen` plaintext bytes. Fixed-width fields only, so both sides
 * agree on the layout whatever the compiler.
 */
#ifndef TAPLINE_TLS_H
#define TAPLINE_TLS_H

/* A call's plaintext is copied in chunks of TLS_CHUNK bytes (a TLS record
 * holds at most 16 KiB, RFC 8446 §5.1), at most TLS_MAX_CHUNKS of them;
 * the rest of a larger call is counted as truncated and becomes a hole in
 * the synthesized stream (the sequence still advances by the true length). */
#define TLS_CHUNK 16384
#define TLS_MAX_CHUNKS 16

enum tls_fn {
	TLS_FN_READ = 0,
	TLS_FN_WRITE = 1,
	TLS_FN_READ_EX = 2,
	TLS_FN_WRITE_EX = 3,
	TLS_FN_GO_READ = 4,  /* crypto/tls.(*Conn).Read */
	TLS_FN_GO_WRITE = 5, /* crypto/tls.(*Conn).Write */
};

/* Direction of the plaintext as the process saw it. */
enum tls_dir { TLS_DIR_READ = 0, TLS_DIR_WRITE = 1 };

/* Indexes into the per-CPU counters map. */
enum tls_counter {
	TLS_CNT_CALLS = 0,     /* SSL_read/SSL_write (or Go Read/Write) returns with data */
	TLS_CNT_CHUNKS,	       /* events submitted */
	TLS_CNT_LOST,	       /* events the ring had no room for */
	TLS_CNT_TRUNCATED,     /* calls larger than TLS_CHUNK * TLS_MAX_CHUNKS */
	TLS_CNT_UNATTRIBUTED,  /* calls on a thread with no TCP socket known */
	TLS_CNT_READ_FAILED,   /* bpf_probe_read_user failed (page not present) */
	TLS_CNT_MAX,
};

struct tls_event {
	__u64 ts_ns;	  /* CLOCK_MONOTONIC (bpf_ktime_get_ns) at the call's return */
	__u64 stream_off; /* bytes of this socket and direction before this chunk */
	__u32 pid;	  /* tgid */
	__u32 tid;
	__u32 len;	  /* true length of the whole call */
	__u32 off;	  /* offset of this chunk within the call */
	__u32 caplen;	  /* plaintext bytes following this header */
	__s32 fd;
	__u16 family;	  /* AF_INET or AF_INET6 */
	__u16 lport;	  /* host order */
	__u16 rport;	  /* host order */
	__u8 dir;	  /* enum tls_dir */
	__u8 fn;	  /* enum tls_fn */
	__u8 laddr[16];	  /* IPv4 in the first 4 bytes, network order */
	__u8 raddr[16];
	char comm[16];
};

#endif
