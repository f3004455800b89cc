// The Kafka dissector: detection of a client's first request, and a session per connection.
import { Protocol } from "@tapline/protocol/enums";
import { Direction, type Detection, type Dissector } from "../types.js";
import { MAX_API_KEY, MAX_PLAUSIBLE_VERSION, requestHeaderVersion } from "./apis.js";
import { KafkaSession, MAX_MESSAGE_BYTES } from "./session.js";

/**
 * A client's first bytes look like Size:INT32 api_key:INT16 api_version:INT16 correlation_id:INT32
 * client_id:NULLABLE_STRING. The checks together (length within Kafka's ceiling, a known api key,
 * a plausible version, a non-negative correlation id, a client_id that fits and is printable)
 * reject HTTP, RESP and TLS, whose first bytes read as lengths over 100 MiB.
 */
export function detectKafka(data: Buffer, _direction: Direction): Detection {
  if (data.length < 4) return "more";
  const size = data.readInt32BE(0);
  if (size < 10 || size > MAX_MESSAGE_BYTES) return "no";
  if (data.length < 8) return "more";
  const apiKey = data.readInt16BE(4);
  const version = data.readInt16BE(6);
  if (apiKey < 0 || apiKey > MAX_API_KEY || version < 0 || version > MAX_PLAUSIBLE_VERSION) return "no";
  if (data.length < 14) return "more";
  if (data.readInt32BE(8) < 0) return "no";
  if (requestHeaderVersion(apiKey, version) === 0) return { match: true, senderRole: "client" };
  const idLen = data.readInt16BE(12);
  if (idLen < -1 || 10 + Math.max(idLen, 0) > size) return "no";
  const seen = Math.min(data.length, 14 + Math.max(idLen, 0));
  for (let i = 14; i < seen; i++) if (data[i]! < 0x20 || data[i] === 0x7f) return "no";
  return { match: true, senderRole: "client" };
}

export const kafkaDissector: Dissector = {
  name: "kafka",
  protocol: Protocol.KAFKA,
  transport: "tcp",
  defaultPorts: [9092],
  detect: detectKafka,
  createSession: (ctx) => new KafkaSession(ctx),
};

export { KafkaSession, MAX_MESSAGE_BYTES } from "./session.js";
export { apiName, errorName, isFlexible } from "./apis.js";
