import { describe, expect, it } from "vitest";
import { FlowTable4, type Chained4 } from "./flowtable4.js";

class F implements Chained4 {
  next4: Chained4 | null = null;
  hash4 = 0;
  constructor(
    readonly keyA: number,
    readonly keyB: number,
  ) {}
}

const key = (ip: number, port: number) => ip * 65536 + port;

describe("FlowTable4", () => {
  it("hashes an endpoint pair the same in both directions, and differs with the seed", () => {
    const t = new FlowTable4<F>();
    for (const [ipA, pA, ipB, pB] of [[0x0a000001, 40000, 0x7f000001, 80], [0xffffffff, 65535, 0, 0], [5, 1, 5, 2]]) {
      expect(t.hash(ipA, pA, ipB, pB)).toBe(t.hash(ipB, pB, ipA, pA));
      expect(Number.isInteger(t.hash(ipA, pA, ipB, pB))).toBe(true);
    }
    const seeds = new Set(Array.from({ length: 8 }, () => new FlowTable4<F>().hash(1, 2, 3, 4)));
    expect(seeds.size).toBeGreaterThan(1);
  });

  it("finds, chains and removes flows sharing one hash", () => {
    const t = new FlowTable4<F>();
    const flows = Array.from({ length: 5 }, (_, i) => new F(key(10, 1000 + i), key(20, 80)));
    for (const f of flows) t.add(f, 7); // one chain
    for (const f of flows) {
      expect(t.get(f.keyA, f.keyB, 7)).toBe(f);
      expect(t.get(f.keyB, f.keyA, 7)).toBe(f);
    }
    t.remove(flows[2]); // middle
    t.remove(flows[4]); // head (added last)
    t.remove(flows[0]); // tail
    expect(t.get(flows[2].keyA, flows[2].keyB, 7)).toBeUndefined();
    expect(t.get(flows[4].keyA, flows[4].keyB, 7)).toBeUndefined();
    expect(t.get(flows[1].keyA, flows[1].keyB, 7)).toBe(flows[1]);
    expect(t.get(flows[3].keyB, flows[3].keyA, 7)).toBe(flows[3]);
    t.remove(flows[1]);
    t.remove(flows[3]);
    expect(t.get(flows[3].keyA, flows[3].keyB, 7)).toBeUndefined();
  });

  it("keeps 20k random flows apart and finds each from either side", () => {
    const t = new FlowTable4<F>();
    const all: [F, number, number, number, number][] = [];
    let s = 1;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s);
    for (let i = 0; i < 20000; i++) {
      const ipA = rnd(), pA = rnd() & 0xffff, ipB = rnd(), pB = rnd() & 0xffff;
      const f = new F(key(ipA, pA), key(ipB, pB));
      t.add(f, t.hash(ipA, pA, ipB, pB));
      all.push([f, ipA, pA, ipB, pB]);
    }
    for (const [f, ipA, pA, ipB, pB] of all) expect(t.get(f.keyB, f.keyA, t.hash(ipB, pB, ipA, pA))).toBe(f);
    for (const [f] of all.slice(0, 10000)) t.remove(f);
    all.forEach(([f, ipA, pA, ipB, pB], i) => expect(t.get(f.keyA, f.keyB, t.hash(ipA, pA, ipB, pB))).toBe(i < 10000 ? undefined : f));
  });
});
