// order-worker: consumes the "orders" topic (a Kafka consumer group: FindCoordinator, JoinGroup,
// SyncGroup, Heartbeat and Fetch calls to look at).
import { Kafka, logLevel } from "kafkajs";
import { layout, kafkaSocketFactory, stayWithParent } from "./lib.mjs";

stayWithParent();
const { kafka } = layout;
const consumer = new Kafka({
  clientId: "order-worker",
  brokers: [`${kafka.host}:${kafka.port}`],
  socketFactory: kafkaSocketFactory(kafka.from.consumer),
  logLevel: logLevel.NOTHING,
}).consumer({ groupId: "order-workers", maxWaitTimeInMs: 1000 });
let handled = 0;
await consumer.connect();
await consumer.subscribe({ topic: "orders", fromBeginning: true });
await consumer.run({ eachMessage: async () => void handled++ });
