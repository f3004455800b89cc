#include "args.h"
#include "harness.h"

static enum tl_args_result parse(struct tl_args *a, char *err, const char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	err[0] = '\0';
	return tl_args_parse(argc, (char **)argv, a, err, 256);
}

void test_args(void)
{
	struct tl_args a;
	char err[256];

	{
		const char *v[] = {"x", "-i", "lo", "--tls-pid", "42", "--tls-lib", "/usr/bin/node", NULL};
		CHECK_EQ_INT(parse(&a, err, v), TL_ARGS_OK);
		CHECK_EQ_INT(a.tls, 1);
		CHECK_EQ_INT(a.tls_pid, 42);
		CHECK_STR(a.tls_lib, "/usr/bin/node");
		const char *bad_pid[] = {"x", "-i", "lo", "--tls-pid", "0", NULL};
		CHECK_EQ_INT(parse(&a, err, bad_pid), TL_ARGS_ERROR);
		const char *with_file[] = {"x", "-r", "f.pcap", "--tls", NULL};
		CHECK_EQ_INT(parse(&a, err, with_file), TL_ARGS_ERROR);
		CHECK(strstr(err, "-r") != NULL);
	}

	{
		const char *v[] = {"x", "-i", "eth0", NULL};
		CHECK_EQ_INT(parse(&a, err, v), TL_ARGS_OK);
		CHECK_EQ_INT(a.n_ifaces, 1);
		CHECK_STR(a.ifaces[0], "eth0");
		CHECK_STR(a.write_path, "-");
		CHECK_STR(a.filter, "");
		CHECK_EQ_INT(a.engine, TL_ENGINE_AFPACKET);
		CHECK_EQ_INT(a.snaplen, 262144);
		CHECK_EQ_INT(a.block_size, 1 << 20);
		CHECK_EQ_INT(a.block_count, 32);
		CHECK_EQ_INT(a.flush_ms, 100);
	}
	{
		const char *v[] = {"x", "-i", "veth1", "--interface", "veth2", "-f", "tcp and host 10.0.0.1",
				   "-w", "/tmp/o.pcap", "-s", "1500", "--engine", "pcap",
				   "--block-size", "4M", "--frame-size", "4096", "--block-count", "8",
				   "--stats-interval", "5", "--control", "/tmp/c.sock", NULL};
		CHECK_EQ_INT(parse(&a, err, v), TL_ARGS_OK);
		CHECK_EQ_INT(a.n_ifaces, 2);
		CHECK_STR(a.ifaces[1], "veth2");
		CHECK_STR(a.filter, "tcp and host 10.0.0.1");
		CHECK_STR(a.write_path, "/tmp/o.pcap");
		CHECK_EQ_INT(a.snaplen, 1500);
		CHECK_EQ_INT(a.engine, TL_ENGINE_PCAP);
		CHECK_EQ_INT(a.block_size, 4 << 20);
		CHECK_EQ_INT(a.frame_size, 4096);
		CHECK_EQ_INT(a.block_count, 8);
		CHECK_EQ_INT(a.stats_interval, 5);
		CHECK_STR(a.control_path, "/tmp/c.sock");
	}
	{
		const char *v[] = {"x", "-r", "in.pcapng", "--unix-output", "/run/s", NULL};
		CHECK_EQ_INT(parse(&a, err, v), TL_ARGS_OK);
		CHECK_STR(a.read_path, "in.pcapng");
		CHECK_STR(a.unix_connect, "/run/s");
		CHECK(a.write_path == NULL);
	}
	/* Each bad input yields an error naming the problem. */
	struct {
		const char *argv[8];
		const char *needle;
	} bad[] = {
		{{"x", NULL}, "no input"},
		{{"x", "-i", "eth0", "--bogus", NULL}, "--bogus"},
		{{"x", "-i", "eth0", "-s", "10", NULL}, "--snaplen"},
		{{"x", "-i", "eth0", "-s", "12abc", NULL}, "--snaplen"},
		{{"x", "-i", "eth0", "--engine", "dpdk", NULL}, "--engine 'dpdk'"},
		{{"x", "-i", "eth0", "--block-size", "5000", NULL}, "--block-size"},
		{{"x", "-i", "eth0", "--block-count", "0", NULL}, "--block-count"},
		{{"x", "-i", "eth0", "-w", "a", "--unix-output", "b", NULL}, "only one"},
		{{"x", "-i", "any", "-i", "eth0", NULL}, "'any'"},
		{{"x", "-i", "eth0", "-i", "eth0", NULL}, "twice"},
		{{"x", "-i", "eth0", "-r", "f", NULL}, "-r and -i"},
		{{"x", "-i", "eth0", "-f", NULL}, "needs a value"},
		{{"x", "-i", "eth0", "extra", NULL}, "unexpected argument 'extra'"},
		{{"x", "-i", "a-name-longer-than-ifnamsiz", NULL}, "interface name"},
		{{"x", "-i", "eth0", "--frame-size", "8M", "--block-size", "4M", NULL}, "--frame-size"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(parse(&a, err, bad[i].argv), TL_ARGS_ERROR);
		CHECK(strstr(err, bad[i].needle) != NULL);
		CHECK(strchr(err, '\n') == NULL);
		if (!strstr(err, bad[i].needle))
			fprintf(stderr, "  case %zu: got '%s'\n", i, err);
	}
}
