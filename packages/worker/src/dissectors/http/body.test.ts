import zlib from "node:zlib";
import { Entry } from "@tapline/protocol";
import { describe, expect, it } from "vitest";
import { defaultLimits } from "../types.js";
import { BodyCollector } from "./body.js";

function collect(data: Buffer, declared = data.length, cut = false, encoding = "gzip", counted: string[] = []) {
  const c = new BodyCollector();
  c.reset(defaultLimits.maxBodyBytes, declared);
  for (let i = 0; i < data.length; i += 1000) c.add(data, i, Math.min(data.length, i + 1000));
  return c.finish("text/plain", encoding, defaultLimits, cut, { count: (n: string) => void counted.push(n) })!;
}

describe("BodyCollector", () => {
  const text = Buffer.from("lazy decoding of a content-coded body; ".repeat(50));

  it("decodes a content-coded body only when a decoded field is first read, then keeps plain values", () => {
    const body = collect(zlib.gzipSync(text));
    expect(typeof Object.getOwnPropertyDescriptor(body, "data")?.get).toBe("function");
    expect(body.size).toBeGreaterThan(0); // eager fields need no decoding
    expect(Buffer.from(body.data!).toString()).toBe(text.toString());
    expect(body.decoded).toBe(true);
    expect(body.decodedSize).toBe(text.length);
    expect(body.truncated).toBe(false);
    const d = Object.getOwnPropertyDescriptor(body, "data")!;
    expect(d.get).toBeUndefined();
    expect(d.enumerable).toBe(true);
  });

  it("the protobuf encoder towards the hub sees the decoded body", () => {
    const body = collect(zlib.deflateSync(text), undefined, false, "deflate");
    const back = Entry.decode(Entry.encode({ id: "x", httpResponse: { status: 200, body } }).finish());
    expect(Buffer.from(back.httpResponse!.body!.data!).toString()).toBe(text.toString());
    expect(back.httpResponse!.body!.decoded).toBe(true);
  });

  it("counts body_truncated when a cut body is decoded, once", () => {
    const gz = zlib.gzipSync(text);
    const counted: string[] = [];
    const body = collect(gz.subarray(0, gz.length >> 1), gz.length, true, "gzip", counted);
    expect(counted).toEqual([]); // not decoded yet
    expect(body.truncated).toBe(true);
    expect(body.data!.length).toBeGreaterThan(0);
    expect(body.truncated).toBe(true);
    expect(counted).toEqual(["body_truncated"]);
  });

  it("keeps the raw bytes when the coding does not decode, and plain bodies stay plain", () => {
    const junk = Buffer.from("not gzip at all");
    const body = collect(junk);
    expect(Buffer.from(body.data!).toString()).toBe("not gzip at all");
    expect(body.decoded).toBeUndefined();
    const plain = collect(text, text.length, false, "");
    expect(Object.getOwnPropertyDescriptor(plain, "data")?.get).toBeUndefined();
    expect(Buffer.from(plain.data!).equals(text)).toBe(true);
  });

  it("a declared length far beyond what arrives does not make it hold the cap", () => {
    const c = new BodyCollector();
    c.reset(defaultLimits.maxBodyBytes, 1_000_000_000);
    c.add(Buffer.from("abc"), 0, 3);
    expect((c as unknown as { buf: Buffer }).buf.length).toBeLessThanOrEqual(24);
  });
});
