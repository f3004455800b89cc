// Fixture traffic from a real client: kafkajs 2.2.4 produces (plain and gzip batches, keys,
// headers) and consumes in a group against the broker given as argv[2]. Run by capture.sh.
// Plain JS because the workspace has no TypeScript runner outside vitest.
import { Kafka, CompressionTypes, logLevel } from "kafkajs";

const [, , broker, topic = "orders"] = process.argv;
const kafka = new Kafka({ clientId: "tapline-fixture", brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 2 } });

const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
await producer.send({
  topic,
  messages: [
    { key: "order-1", value: JSON.stringify({ id: 1, item: "socks" }), headers: { "trace-id": "abc123" } },
    { key: "order-2", value: JSON.stringify({ id: 2, item: "shoes" }) },
    { key: null, value: "x".repeat(300) },
  ],
});
await producer.send({
  topic,
  compression: CompressionTypes.GZIP,
  messages: [{ key: "zipped", value: "compressed ".repeat(40) }, { value: "second" }],
});
await producer.disconnect();

const consumer = kafka.consumer({ groupId: "fixture-group", heartbeatInterval: 300, sessionTimeout: 6000 });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
let seen = 0;
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`consumed only ${seen} messages`)), 15_000);
  consumer
    .run({
      eachMessage: async () => {
        seen += 1;
        if (seen >= 5) {
          clearTimeout(timer);
          resolve();
        }
      },
    })
    .catch(reject);
});
// a heartbeat and an offset commit happen while the group stays up a moment
await new Promise((r) => setTimeout(r, 800));
await consumer.disconnect();
console.log(`kafkajs: produced 5, consumed ${seen}`);
