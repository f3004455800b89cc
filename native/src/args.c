#include "args.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TL_VERSION "0.1.0"

enum {
	OPT_ENGINE = 0x100,
	OPT_BLOCK_SIZE,
	OPT_FRAME_SIZE,
	OPT_BLOCK_COUNT,
	OPT_BLOCK_TIMEOUT,
	OPT_FLUSH_MS,
	OPT_BUFFER_SIZE,
	OPT_STATS_INTERVAL,
	OPT_CONTROL,
	OPT_UNIX_OUTPUT,
	OPT_UNIX_LISTEN,
	OPT_TLS,
	OPT_TLS_PID,
	OPT_TLS_LIB,
	OPT_MESH,
	OPT_MESH_FILTER,
	OPT_MESH_SCOPE,
};

static const struct option long_opts[] = {
	{"interface", required_argument, NULL, 'i'},
	{"filter", required_argument, NULL, 'f'},
	{"write", required_argument, NULL, 'w'},
	{"read", required_argument, NULL, 'r'},
	{"snaplen", required_argument, NULL, 's'},
	{"engine", required_argument, NULL, OPT_ENGINE},
	{"block-size", required_argument, NULL, OPT_BLOCK_SIZE},
	{"frame-size", required_argument, NULL, OPT_FRAME_SIZE},
	{"block-count", required_argument, NULL, OPT_BLOCK_COUNT},
	{"block-timeout", required_argument, NULL, OPT_BLOCK_TIMEOUT},
	{"flush-ms", required_argument, NULL, OPT_FLUSH_MS},
	{"buffer-size", required_argument, NULL, OPT_BUFFER_SIZE},
	{"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
	{"control", required_argument, NULL, OPT_CONTROL},
	{"unix-output", required_argument, NULL, OPT_UNIX_OUTPUT},
	{"unix-listen", required_argument, NULL, OPT_UNIX_LISTEN},
	{"tls", no_argument, NULL, OPT_TLS},
	{"tls-pid", required_argument, NULL, OPT_TLS_PID},
	{"tls-lib", required_argument, NULL, OPT_TLS_LIB},
	{"mesh", no_argument, NULL, OPT_MESH},
	{"mesh-filter", required_argument, NULL, OPT_MESH_FILTER},
	{"mesh-scope", required_argument, NULL, OPT_MESH_SCOPE},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

void tl_usage(FILE *out)
{
	fputs("Usage: tapline-capture -i IFACE [-i IFACE ...] [options]\n"
	      "       tapline-capture -r FILE [options]\n"
	      "Writes a pcap stream (nanosecond timestamps, linktype LINUX_SLL2).\n"
	      "\n"
	      "Input:\n"
	      "  -i, --interface IFACE    capture on IFACE ('any' = all); repeatable\n"
	      "  -r, --read FILE          read a pcap or pcapng file instead\n"
	      "  -e, --engine NAME        afpacket (TPACKET_V3 ring, default) or pcap (libpcap)\n"
	      "  -f, --filter EXPR        pcap filter expression, run in the kernel\n"
	      "  -s, --snaplen N          max bytes per record incl. 20-byte SLL2 header\n"
	      "                           (default 262144)\n"
	      "Ring (per interface; N accepts K, M, G suffixes):\n"
	      "      --block-size N       TPACKET_V3 block size (default 1M, multiple of page size)\n"
	      "      --frame-size N       nominal frame size (default 2048)\n"
	      "      --block-count N      blocks in the ring (default 32)\n"
	      "      --block-timeout MS   hand a partly filled block over after MS (default 10)\n"
	      "Output (one of; default -w -):\n"
	      "  -w, --write FILE|-       write to FILE, or stdout with '-'\n"
	      "      --unix-output PATH   connect to a unix stream socket and write there\n"
	      "      --unix-listen PATH   listen on PATH; each reader that connects gets a new stream\n"
	      "      --flush-ms MS        flush buffered records at least every MS (default 100)\n"
	      "      --buffer-size N      output batch buffer (default 1M)\n"
	      "TLS plaintext (eBPF uprobes; packets marked ARPHRD 0xFFFD, see README):\n"
	      "      --tls                hook SSL_read/SSL_write of libssl and of binaries that\n"
	      "                           link OpenSSL statically, in every process\n"
	      "      --tls-pid PID        only in process PID (implies --tls)\n"
	      "      --tls-lib PATH       also hook this library or binary (implies --tls)\n"
	      "  -v, --verbose            libbpf messages on stderr\n"
	      "Service mesh (Envoy/Istio sidecars; packets marked ARPHRD 0xFFFC, see README):\n"
	      "      --mesh               find network namespaces running envoy or pilot-agent\n"
	      "                           and capture their loopback (app <-> sidecar plaintext)\n"
	      "      --mesh-filter EXPR   filter for those captures (implies --mesh; default\n"
	      "                           'tcp and (port 15001 or not portrange 15000-15090)')\n"
	      "      --mesh-scope IPS     only namespaces holding one of these comma-separated\n"
	      "                           addresses (implies --mesh)\n"
	      "Control and counters:\n"
	      "      --control PATH       unix socket taking newline-delimited commands:\n"
	      "                           {\"filter\":\"EXPR\"} swaps the kernel filter, {\"stats\":true},\n"
	      "                           {\"tls\":true} per-process TLS status, {\"mesh\":true}\n"
	      "                           meshed namespaces, {\"mesh_filter\":…}, {\"mesh_scope\":…}\n"
	      "      --stats-interval SEC print a JSON counters line on stderr every SEC\n"
	      "  -q, --quiet              no counters line on stderr at exit\n"
	      "  -h, --help               this text\n"
	      "  -V, --version            print the version\n"
	      "Exit status: 0 on success, SIGINT/SIGTERM or a closed reader; 2 on bad input;\n"
	      "1 on a runtime failure.\n",
	      out);
}

void tl_args_defaults(struct tl_args *a)
{
	memset(a, 0, sizeof(*a));
	a->filter = "";
	a->engine = TL_ENGINE_AFPACKET;
	a->snaplen = 262144;
	a->block_size = 1u << 20;
	a->frame_size = 2048;
	a->block_count = 32;
	a->block_timeout_ms = 10;
	a->flush_ms = 100;
	a->buffer_size = 1u << 20;
	a->stats_interval = 0;
}

/* Unsigned decimal with an optional K/M/G (binary) suffix, within [min, max]. */
static int parse_size(const char *s, uint64_t min, uint64_t max, int allow_suffix, uint32_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end && allow_suffix) {
		unsigned shift = 0;
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -1;
		}
		end++;
		if (v > (max >> shift))
			return -1;
		v <<= shift;
	}
	if (*end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

#define FAIL(...)                                      \
	do {                                           \
		snprintf(err, errlen, __VA_ARGS__);     \
		return TL_ARGS_ERROR;                  \
	} while (0)

enum tl_args_result tl_args_parse(int argc, char **argv, struct tl_args *a, char *err, size_t errlen)
{
	int c, longidx;
	int outputs = 0;
	tl_args_defaults(a);
	optind = 0; /* GNU: full re-initialisation, so the parser can run more than once */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:f:w:r:s:e:qvhV", long_opts, &longidx)) != -1) {
		switch (c) {
		case 'i':
			if (a->n_ifaces == TL_MAX_IFACES)
				FAIL("too many interfaces (at most %d)", TL_MAX_IFACES);
			if (!*optarg || strlen(optarg) >= 16)
				FAIL("invalid interface name '%s'", optarg);
			a->ifaces[a->n_ifaces++] = optarg;
			break;
		case 'f':
			a->filter = optarg;
			break;
		case 'w':
			a->write_path = optarg;
			outputs++;
			break;
		case 'r':
			a->read_path = optarg;
			break;
		case 's':
			if (parse_size(optarg, 64, 262144, 0, &a->snaplen) < 0)
				FAIL("invalid --snaplen '%s' (64..262144)", optarg);
			break;
		case 'e':
		case OPT_ENGINE:
			if (strcmp(optarg, "afpacket") == 0)
				a->engine = TL_ENGINE_AFPACKET;
			else if (strcmp(optarg, "pcap") == 0)
				a->engine = TL_ENGINE_PCAP;
			else
				FAIL("invalid --engine '%s' (afpacket or pcap)", optarg);
			break;
		case OPT_BLOCK_SIZE: {
			long page = sysconf(_SC_PAGESIZE);
			if (parse_size(optarg, 4096, 1u << 30, 1, &a->block_size) < 0 ||
			    a->block_size % (uint32_t)page)
				FAIL("invalid --block-size '%s' (a multiple of %ld up to 1G)", optarg, page);
			break;
		}
		case OPT_FRAME_SIZE:
			if (parse_size(optarg, 128, 1u << 30, 1, &a->frame_size) < 0 || a->frame_size % 16)
				FAIL("invalid --frame-size '%s' (a multiple of 16, at least 128)", optarg);
			break;
		case OPT_BLOCK_COUNT:
			if (parse_size(optarg, 1, 65536, 0, &a->block_count) < 0)
				FAIL("invalid --block-count '%s' (1..65536)", optarg);
			break;
		case OPT_BLOCK_TIMEOUT:
			if (parse_size(optarg, 1, 60000, 0, &a->block_timeout_ms) < 0)
				FAIL("invalid --block-timeout '%s' (1..60000 ms)", optarg);
			break;
		case OPT_FLUSH_MS:
			if (parse_size(optarg, 1, 60000, 0, &a->flush_ms) < 0)
				FAIL("invalid --flush-ms '%s' (1..60000)", optarg);
			break;
		case OPT_BUFFER_SIZE:
			if (parse_size(optarg, 65536, 1u << 30, 1, &a->buffer_size) < 0)
				FAIL("invalid --buffer-size '%s' (64K..1G)", optarg);
			break;
		case OPT_STATS_INTERVAL:
			if (parse_size(optarg, 0, 86400, 0, &a->stats_interval) < 0)
				FAIL("invalid --stats-interval '%s' (0..86400 seconds)", optarg);
			break;
		case OPT_CONTROL:
			a->control_path = optarg;
			break;
		case OPT_UNIX_OUTPUT:
			a->unix_connect = optarg;
			outputs++;
			break;
		case OPT_UNIX_LISTEN:
			a->unix_listen = optarg;
			outputs++;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'v':
			a->verbose = 1;
			break;
		case OPT_TLS:
			a->tls = 1;
			break;
		case OPT_TLS_PID: {
			uint32_t pid;
			if (parse_size(optarg, 1, 4194304, 0, &pid) < 0)
				FAIL("invalid --tls-pid '%s'", optarg);
			a->tls_pid = (int)pid;
			a->tls = 1;
			break;
		}
		case OPT_TLS_LIB:
			if (!*optarg)
				FAIL("--tls-lib needs a path");
			a->tls_lib = optarg;
			a->tls = 1;
			break;
		case OPT_MESH:
			a->mesh = 1;
			break;
		case OPT_MESH_FILTER:
			a->mesh_filter = optarg;
			a->mesh = 1;
			break;
		case OPT_MESH_SCOPE:
			a->mesh_scope = optarg;
			a->mesh = 1;
			break;
		case 'h':
			tl_usage(stdout);
			return TL_ARGS_EXIT;
		case 'V':
			printf("tapline-capture %s (%s)\n", TL_VERSION, "libpcap");
			return TL_ARGS_EXIT;
		case ':':
			FAIL("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt)
				FAIL("unknown option '-%c'", optopt);
			FAIL("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		FAIL("unexpected argument '%s'", argv[optind]);
	if (a->read_path && a->n_ifaces)
		FAIL("-r and -i cannot be combined");
	if (a->read_path && a->tls)
		FAIL("--tls captures live processes; it cannot be combined with -r");
	if (a->read_path && a->mesh)
		FAIL("--mesh captures live namespaces; it cannot be combined with -r");
	if (!a->read_path && a->n_ifaces == 0)
		FAIL("no input: give -i IFACE or -r FILE");
	for (int i = 0; i < a->n_ifaces; i++) {
		if (strcmp(a->ifaces[i], "any") == 0 && a->n_ifaces > 1)
			FAIL("interface 'any' cannot be combined with other interfaces");
		for (int j = 0; j < i; j++)
			if (strcmp(a->ifaces[i], a->ifaces[j]) == 0)
				FAIL("interface '%s' given twice", a->ifaces[i]);
	}
	if (outputs > 1)
		FAIL("give only one of -w, --unix-output, --unix-listen");
	if (outputs == 0)
		a->write_path = "-";
	if (a->frame_size > a->block_size)
		FAIL("--frame-size %u exceeds --block-size %u", a->frame_size, a->block_size);
	if ((uint64_t)a->block_size * a->block_count > (1ull << 32) - 1)
		FAIL("ring too large: --block-size x --block-count must stay under 4G");
	return TL_ARGS_OK;
}
