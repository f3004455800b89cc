#include <stdio.h>

#include "harness.h"

int t_passed, t_failed;

int main(void)
{
	test_args();
	test_pcap_writer();
	test_sll2();
	test_control();
	test_filter();
	test_tls_emit();
	test_gotls();
	test_gopclntab();
	test_mesh();
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}
