// RFC 7541 Appendix C test vectors (C.2 single fields, C.3–C.6 sequences sharing one dynamic table).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { HpackDecoder, huffmanDecode } from "./hpack.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const decodeAll = (d: HpackDecoder, h: string) => {
  const b = hex(h);
  const r = d.decode(b, 0, b.length, 256);
  expect(r.error).toBe("");
  return r.fields.map((f) => `${f.name}: ${f.value}`);
};

const REQ1 = [":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com"];
const REQ2 = [...REQ1, "cache-control: no-cache"];
const REQ3 = [":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com", "custom-key: custom-value"];
const RES1 = [":status: 302", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT", "location: https://www.example.com"];
const RES2 = [":status: 307", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT", "location: https://www.example.com"];
const RES3 = [":status: 200", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:22 GMT", "location: https://www.example.com",
  "content-encoding: gzip", "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"];

describe("HPACK, RFC 7541 Appendix C", () => {
  it("C.2 header field representations", () => {
    const d = new HpackDecoder(true);
    expect(decodeAll(d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")).toEqual(["custom-key: custom-header"]);
    expect(d.dynamicCount).toBe(1);
    expect(decodeAll(new HpackDecoder(true), "040c 2f73 616d 706c 652f 7061 7468")).toEqual([":path: /sample/path"]);
    const never = new HpackDecoder(true);
    expect(decodeAll(never, "1008 7061 7373 776f 7264 0673 6563 7265 74")).toEqual(["password: secret"]);
    expect(never.dynamicCount).toBe(0);
    expect(decodeAll(new HpackDecoder(true), "82")).toEqual([":method: GET"]);
  });

  it("C.3 requests without Huffman coding", () => {
    const d = new HpackDecoder(true);
    expect(decodeAll(d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d")).toEqual(REQ1);
    expect(decodeAll(d, "8286 84be 5808 6e6f 2d63 6163 6865")).toEqual(REQ2);
    expect(decodeAll(d, "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65")).toEqual(REQ3);
    expect(d.dynamicCount).toBe(3);
  });

  it("C.4 requests with Huffman coding", () => {
    const d = new HpackDecoder(true);
    expect(decodeAll(d, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")).toEqual(REQ1);
    expect(decodeAll(d, "8286 84be 5886 a8eb 1064 9cbf")).toEqual(REQ2);
    expect(decodeAll(d, "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")).toEqual(REQ3);
  });

  it("C.5 responses without Huffman coding, 256-octet table with evictions", () => {
    const d = new HpackDecoder(true);
    decodeAll(d, "3fe1 01"); // dynamic table size update to 256 (§6.3), as the RFC's encoder was set up
    expect(decodeAll(d, `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32
      3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`)).toEqual(RES1);
    expect(decodeAll(d, "4803 3330 37c1 c0bf")).toEqual(RES2);
    expect(decodeAll(d, `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970
      7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630
      303b 2076 6572 7369 6f6e 3d31`)).toEqual(RES3);
    expect(d.dynamicCount).toBe(3); // 215 octets held after the evictions
  });

  it("C.6 responses with Huffman coding, 256-octet table with evictions", () => {
    const d = new HpackDecoder(true);
    decodeAll(d, "3fe1 01");
    expect(decodeAll(d, `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad
      1718 63c7 8f0b 97c8 e9ae 82ae 43d3`)).toEqual(RES1);
    expect(decodeAll(d, "4883 640e ffc1 c0bf")).toEqual(RES2);
    expect(decodeAll(d, `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2
      e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`)).toEqual(RES3);
  });
});

describe("HPACK robustness", () => {
  it("Huffman: EOS or padding that is not all ones is an error (§5.2)", () => {
    const scratch = new Uint8Array(64);
    expect(huffmanDecode(hex("f1e3c2e5f23a6ba0ab90f4ff"), 0, 12, scratch)).toBe("www.example.com");
    expect(huffmanDecode(hex("ffffffff"), 0, 4, scratch)).toBeUndefined(); // EOS
    expect(huffmanDecode(hex("f1e3c2e5f23a6ba0ab90f4fe"), 0, 12, scratch)).toBeUndefined(); // padding with a 0 bit
  });

  it("mid-connection: unseen dynamic entries are reported, not guessed; static and literal fields kept", () => {
    const d = new HpackDecoder(false);
    const b = hex("82 be 5808 6e6f 2d63 6163 6865 be");
    const r = d.decode(b, 0, b.length, 256);
    // 82 static; be (62) unseen; then a literal inserted as 62; the last be now refers to it
    expect(r.fields.map((f) => `${f.name}: ${f.value}`)).toEqual([":method: GET", "cache-control: no-cache", "cache-control: no-cache"]);
    expect(r.unknownRefs).toBe(1);
    expect(r.error).toBe("");
    // with a known (empty) table the same reference is an error
    expect(new HpackDecoder(true).decode(hex("be"), 0, 1, 256).error).toMatch(/out of range/);
  });

  it("random blocks never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, known) => {
        const b = Buffer.from(bytes);
        const r = new HpackDecoder(known).decode(b, 0, b.length, 16);
        expect(r.fields.length).toBeLessThanOrEqual(16);
      }),
      { numRuns: 3000 },
    );
  });
});
