import { describe, expect, it } from "vitest";
import * as enums from "./gen/enums.js";
import { tapline } from "./gen/tapline.js";
import { EntryStatus, Protocol, RedisKind } from "./schema.js";

/** Names by number and numbers by name, as a plain object of both directions. */
function bothWays(e: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, id] of Object.entries(e)) {
    out[name] = id;
    out[String(id)] = (e as Record<number, string>)[id as number];
  }
  return out;
}

describe("gen/enums (the enums without the protobuf module)", () => {
  it("has every enum of the generated module, with the same names and numbers both ways", () => {
    expect(bothWays(enums.Protocol)).toEqual(bothWays(Protocol));
    expect(bothWays(enums.EntryStatus)).toEqual(bothWays(EntryStatus));
    expect(bothWays(enums.RedisKind)).toEqual(bothWays(RedisKind));
    expect(Object.keys(enums.Protocol)).toEqual(Object.keys(tapline.v1.Protocol));
    // numbers map to names through the prototype only, as in protobufjs's static code
    expect(Object.keys(enums.EntryStatus)).not.toContain("1");
    expect(enums.EntryStatus[1]).toBe("COMPLETE");
    expect(Object.keys(enums).sort()).toEqual(["EntryStatus", "Protocol", "RedisKind"]);
  });
});
