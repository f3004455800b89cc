/* A real-protocol Kafka broker for tests: librdkafka's mock cluster (no JVM broker is
 * installable here). Prints "BOOTSTRAP <host:port>" once listening, then serves until
 * SIGTERM/SIGINT. Usage: mock-broker [topic [partitions]]. The mock cluster picks a free
 * loopback port itself; callers read it from stdout. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  const char *topic = argc > 1 ? argv[1] : "orders";
  int partitions = argc > 2 ? atoi(argv[2]) : 1;
  char err[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* the handle only hosts the mock cluster's threads; it never connects anywhere */
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", err); return 1; }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
  if (!mc) { fprintf(stderr, "rd_kafka_mock_cluster_new failed\n"); rd_kafka_destroy(rk); return 1; }
  if (rd_kafka_mock_topic_create(mc, topic, partitions > 0 ? partitions : 1, 1))
    fprintf(stderr, "topic create failed\n");
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);
  while (!stop) usleep(50 * 1000);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
