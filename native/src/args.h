/* Command line of tapline-capture. */
#ifndef TAPLINE_ARGS_H
#define TAPLINE_ARGS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define TL_MAX_IFACES 64

enum tl_engine { TL_ENGINE_AFPACKET, TL_ENGINE_PCAP };

struct tl_args {
	const char *ifaces[TL_MAX_IFACES];
	int n_ifaces;
	const char *filter;	 /* "" captures everything */
	const char *write_path;	 /* "-" is stdout */
	const char *read_path;	 /* -r FILE, else NULL */
	const char *unix_connect; /* --unix-output */
	const char *unix_listen;  /* --unix-listen */
	const char *control_path;
	enum tl_engine engine;
	uint32_t snaplen;
	uint32_t block_size;
	uint32_t frame_size;
	uint32_t block_count;
	uint32_t block_timeout_ms;
	uint32_t flush_ms;
	uint32_t buffer_size;
	uint32_t stats_interval; /* seconds, 0 = only at exit */
	int quiet;
	int tls;		 /* --tls: SSL_read/SSL_write plaintext through eBPF */
	int tls_pid;		 /* --tls-pid: only this process */
	const char *tls_lib;	 /* --tls-lib: also hook this file */
	int verbose;		 /* -v: libbpf messages */
	int mesh;		 /* --mesh: capture the loopback of namespaces with an Envoy sidecar (mesh.h) */
	const char *mesh_filter; /* --mesh-filter: their filter (NULL: TL_MESH_DEFAULT_FILTER) */
	const char *mesh_scope;	 /* --mesh-scope: only namespaces holding one of these addresses */
};

enum tl_args_result {
	TL_ARGS_OK = 0,
	TL_ARGS_EXIT = 1, /* --help or --version was printed */
	TL_ARGS_ERROR = -1,
};

void tl_args_defaults(struct tl_args *a);

/* Parses argv into *a; on error writes a one-line message into err. */
enum tl_args_result tl_args_parse(int argc, char **argv, struct tl_args *a, char *err, size_t errlen);

void tl_usage(FILE *out);

#endif
