#include "control.h"
#include "harness.h"

void test_control(void)
{
	struct tl_command c;
	char line[256];

	strcpy(line, "{\"filter\":\"host 10.0.0.1 and tcp\"}");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_FILTER);
	CHECK_STR(c.filter, "host 10.0.0.1 and tcp");

	strcpy(line, "  { \"filter\" : \"a\\\"b\\\\c\\u0041\" }\r");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_FILTER);
	CHECK_STR(c.filter, "a\"b\\cA");

	strcpy(line, "{\"filter\":\"\"}");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_FILTER);
	CHECK_STR(c.filter, "");

	strcpy(line, "{\"stats\":true}");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_STATS);

	strcpy(line, "stats");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_STATS);

	strcpy(line, "{\"tls\":true}");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_TLS);

	strcpy(line, "tls");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_TLS);

	strcpy(line, "filter tcp port 80");
	tl_command_parse(line, &c);
	CHECK_EQ_INT(c.kind, TL_CMD_FILTER);
	CHECK_STR(c.filter, "tcp port 80");

	const char *bad[] = {"{\"filter\":1}", "{\"filter\":\"x\"", "{\"nope\":true}", "{}",
			     "{\"stats\":true} x", "{\"tls\":1}", "{\"tls\":true,\"stats\":true}", "filterx", "{\"filter\":\"\\u0000\"}", "hello"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(line, bad[i]);
		tl_command_parse(line, &c);
		CHECK_EQ_INT(c.kind, TL_CMD_INVALID);
		CHECK(c.error[0] != '\0');
	}

	char out[64];
	tl_json_string(out, sizeof(out), "say \"hi\"\n\\");
	CHECK_STR(out, "\"say \\\"hi\\\"\\u000a\\\\\"");
	tl_json_string(out, 8, "abcdefghijkl");
	CHECK_STR(out, "\"abcde\"");
}
