// Redis hash fields (and stream fields, CONFIG parameters, RESP3 map keys) are names, as JSON keys
// are: the value beside a sensitive name is redacted, in requests and in replies. Redis key names
// are not matched: `user:1` holds "user", and redacting by key would hide most of the traffic.
// Command syntax from the Redis command reference (https://redis.io/docs/latest/commands/).
import { RedisKind } from "@tapline/protocol";
import type { RedisRequestInit, RedisValueInit } from "@tapline/protocol";
import type { NameMatcher } from "./names.js";

/**
 * Indexes of request arguments that are values of sensitive hash or stream fields:
 * HSET/HMSET/HSETNX key field value [field value ...]; HSETEX key [options] FIELDS n field value ...;
 * XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] id field value ...
 */
export function redisFieldValueArgs(command: string, args: string[], names: NameMatcher, out: Set<number>): void {
  let start = -1;
  switch (command) {
    case "HSET":
    case "HMSET":
    case "HSETNX":
      start = 1;
      break;
    case "HSETEX":
      start = fieldsStart(args);
      break;
    case "XADD": {
      let i = 1;
      for (;;) {
        const a = (args[i] ?? "").toUpperCase();
        if (a === "NOMKSTREAM") i++;
        else if (a === "MAXLEN" || a === "MINID") i += args[i + 1] === "=" || args[i + 1] === "~" ? 3 : 2;
        else if (a === "LIMIT") i += 2;
        else break;
      }
      start = i + 1; // past the entry id
      break;
    }
  }
  if (start < 0) return;
  for (let i = start; i + 1 < args.length; i += 2) if (names.isSensitive(args[i])) out.add(i + 1);
}

/** Index of the first field after `FIELDS numfields` (HSETEX, HGETEX, HGETDEL), or -1. */
function fieldsStart(args: string[]): number {
  for (let i = 1; i + 1 < args.length; i++) if (args[i].toUpperCase() === "FIELDS") return i + 2;
  return -1;
}

const isText = (v: RedisValueInit | undefined): v is RedisValueInit => !!v && !v.elements?.length;
const STREAM_ID = /^\d+-\d+$/;

/**
 * Calls `secret` on each reply value that belongs to a sensitive name. Maps (RESP3) pair keys
 * with values for every command; flat RESP2 arrays are pairs only for the commands that reply
 * with field/value lists; HGET/HMGET/HGETDEL/HGETEX replies follow the fields of the request.
 */
export function redisReplySecrets(req: RedisRequestInit | null | undefined, reply: RedisValueInit, names: NameMatcher, secret: (v: RedisValueInit) => void): void {
  const command = req?.command ?? "";
  const args = req?.args ?? [];
  const pairs = (list: RedisValueInit[] | null | undefined) => {
    if (!list) return;
    for (let i = 0; i + 1 < list.length; i += 2) if (isText(list[i]) && names.isSensitive(list[i]!.text ?? "")) secret(list[i + 1]!);
  };
  const els = reply.elements ?? [];
  switch (command) {
    case "HGETALL":
    case "CONFIG GET":
      if (reply.kind !== RedisKind.MAP) pairs(els);
      break;
    case "HRANDFIELD":
      // RESP2: field, value, ...; RESP3: [field, value] arrays.
      if (els.some((e) => e.kind === RedisKind.ARRAY)) for (const e of els) pairs(e.elements);
      else if (args.some((a) => a.toUpperCase() === "WITHVALUES")) pairs(els);
      break;
    case "HSCAN":
      if (!args.some((a) => a.toUpperCase() === "NOVALUES")) pairs(els[1]?.elements);
      break;
    case "HGET":
      if (args.length > 1 && names.isSensitive(args[1])) secret(reply);
      break;
    case "HMGET":
    case "HGETDEL":
    case "HGETEX": {
      const first = command === "HMGET" ? 1 : fieldsStart(args);
      if (first < 0) break;
      for (let i = first; i < args.length; i++) if (names.isSensitive(args[i]) && els[i - first]) secret(els[i - first]!);
      break;
    }
  }
  walk(reply, names, secret, command.startsWith("X"), pairs);
}

/** Every RESP3 map, and for stream commands every `[id, [field, value, ...]]` entry, at any depth. */
function walk(v: RedisValueInit, names: NameMatcher, secret: (v: RedisValueInit) => void, stream: boolean, pairs: (l: RedisValueInit[] | null | undefined) => void): void {
  const els = v.elements;
  if (!els || els.length === 0) return;
  if (v.kind === RedisKind.MAP) pairs(els);
  if (stream && els.length === 2 && isText(els[0]) && STREAM_ID.test(els[0]!.text ?? "") && els[1]!.elements) pairs(els[1]!.elements);
  for (const e of els) walk(e, names, secret, stream, pairs);
}
