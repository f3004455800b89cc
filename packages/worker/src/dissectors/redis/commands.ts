// Command names and key positions, from the Redis command reference
// (https://redis.io/docs/latest/commands/): container commands take a subcommand as their
// second word (CLIENT SETNAME, CONFIG GET); most data commands take their key first.
import type { RedisRequestInit } from "@tapline/protocol";

const CONTAINERS = new Set([
  "ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "FUNCTION", "LATENCY", "MEMORY", "MODULE",
  "OBJECT", "PUBSUB", "SCRIPT", "SLOWLOG", "XGROUP", "XINFO", "DEBUG",
]);

/** Commands whose first argument is a key. */
const KEY_FIRST = new Set(
  (
    "APPEND BITCOUNT BITFIELD BITFIELD_RO BITPOS BLMOVE BRPOPLPUSH COPY DECR DECRBY DEL DUMP EXISTS EXPIRE EXPIREAT EXPIRETIME " +
    "GEOADD GEODIST GEOHASH GEOPOS GEORADIUS GEORADIUSBYMEMBER GEOSEARCH GEOSEARCHSTORE GET GETBIT GETDEL GETEX GETRANGE GETSET " +
    "HDEL HEXISTS HGET HGETALL HINCRBY HINCRBYFLOAT HKEYS HLEN HMGET HMSET HRANDFIELD HSCAN HSET HSETNX HSTRLEN HVALS " +
    "INCR INCRBY INCRBYFLOAT LINDEX LINSERT LLEN LMOVE LPOP LPOS LPUSH LPUSHX LRANGE LREM LSET LTRIM MGET MOVE MSET MSETNX " +
    "PERSIST PEXPIRE PEXPIREAT PEXPIRETIME PFADD PFCOUNT PFMERGE PSETEX PTTL RENAME RENAMENX RESTORE RPOP RPOPLPUSH RPUSH RPUSHX " +
    "SADD SCARD SDIFF SDIFFSTORE SET SETBIT SETEX SETNX SETRANGE SINTER SINTERSTORE SISMEMBER SMEMBERS SMISMEMBER SMOVE SORT SORT_RO " +
    "SPOP SRANDMEMBER SREM SSCAN STRLEN SUBSTR SUNION SUNIONSTORE TOUCH TTL TYPE UNLINK WATCH " +
    "XACK XADD XAUTOCLAIM XCLAIM XDEL XLEN XPENDING XRANGE XREVRANGE XSETID XTRIM " +
    "ZADD ZCARD ZCOUNT ZDIFFSTORE ZINCRBY ZINTERSTORE ZLEXCOUNT ZMSCORE ZPOPMAX ZPOPMIN ZRANDMEMBER ZRANGE ZRANGEBYLEX " +
    "ZRANGEBYSCORE ZRANGESTORE ZRANK ZREM ZREMRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREVRANGE ZREVRANGEBYLEX " +
    "ZREVRANGEBYSCORE ZREVRANK ZSCAN ZSCORE ZUNIONSTORE BLPOP BRPOP BZPOPMAX BZPOPMIN"
  ).split(" "),
);
/** Subcommands whose first argument (after the subcommand) is a key. */
const SUB_KEY_FIRST = new Set(["OBJECT ENCODING", "OBJECT FREQ", "OBJECT IDLETIME", "OBJECT REFCOUNT", "MEMORY USAGE", "XGROUP CREATE", "XGROUP DESTROY", "XGROUP SETID", "XGROUP CREATECONSUMER", "XGROUP DELCONSUMER", "XINFO STREAM", "XINFO GROUPS", "XINFO CONSUMERS"]);
/** EVAL-like commands: script, numkeys, keys... */
const NUMKEYS_SECOND = new Set(["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"]);

/** The pub/sub (un)subscribe family and the reply kind each one produces. */
export const SUBSCRIBE_FAMILY: ReadonlyMap<string, string> = new Map([
  ["SUBSCRIBE", "subscribe"], ["PSUBSCRIBE", "psubscribe"], ["SSUBSCRIBE", "ssubscribe"],
  ["UNSUBSCRIBE", "unsubscribe"], ["PUNSUBSCRIBE", "punsubscribe"], ["SUNSUBSCRIBE", "sunsubscribe"],
]);

/** Builds a request from the words of a command (array of bulk strings, or an inline line). */
export function toRequest(words: string[], maxItems: number, argCap: number, inline: boolean): RedisRequestInit {
  const first = (words[0] ?? "").toUpperCase();
  let argStart = 1;
  let command = first;
  if (CONTAINERS.has(first) && words.length > 1) {
    command = `${first} ${words[1].toUpperCase()}`;
    argStart = 2;
  }
  const rest = words.slice(argStart, argStart + maxItems).map((a) => (a.length > argCap ? a.slice(0, argCap) : a));
  const req: RedisRequestInit = { command, args: rest };
  if (inline) req.inline = true;
  if (KEY_FIRST.has(command) || SUB_KEY_FIRST.has(command)) {
    if (rest.length) req.key = rest[0];
  } else if (NUMKEYS_SECOND.has(command) && Number(rest[1]) > 0 && rest.length > 2) {
    req.key = rest[2];
  }
  return req;
}
