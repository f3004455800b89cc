// The IPv4 TCP flow table: both directions of a 4-tuple find one flow, per packet, without
// allocating. Endpoint keys are ip * 65536 + port (48 bits: a double, not a small integer), and
// a Map keyed by them boxed two numbers per packet; nested Maps keyed by one endpoint cost a Map
// per client port. Here the key is a seeded 32-bit hash of the ordered endpoint pair (a small
// integer) and flows sharing a hash are chained through `next4`.
//
// The seed is random per table, so an attacker who controls the 4-tuples (spoofed SYNs) cannot
// aim many flows at one chain and make every lookup walk it.

export interface Chained4 {
  readonly keyA: number | string;
  readonly keyB: number | string;
  /** The next flow with the same hash, or null. */
  next4: Chained4 | null;
  /** The hash this flow is filed under. */
  hash4: number;
}

/** One round of MurmurHash3's 32-bit mixing (k into h). */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

export class FlowTable4<T extends Chained4> {
  private readonly buckets = new Map<number, T>();
  private readonly seed = (Math.random() * 0x7fffffff) | 0;

  /** The hash of an endpoint pair, the same whichever endpoint is given first. */
  hash(ipA: number, portA: number, ipB: number, portB: number): number {
    const aFirst = ipA < ipB || (ipA === ipB && portA <= portB);
    const h = aFirst ? mix(mix(mix(this.seed, ipA), portA), ipB) : mix(mix(mix(this.seed, ipB), portB), ipA);
    return mix(h, aFirst ? portB : portA);
  }

  /** The flow between endpoint keys a and b (either order), filed under hash h. */
  get(a: number, b: number, h: number): T | undefined {
    let f = this.buckets.get(h) as Chained4 | undefined | null;
    while (f) {
      if ((f.keyA === a && f.keyB === b) || (f.keyA === b && f.keyB === a)) return f as T;
      f = f.next4;
    }
    return undefined;
  }

  add(flow: T, h: number): void {
    flow.hash4 = h;
    flow.next4 = this.buckets.get(h) ?? null;
    this.buckets.set(h, flow);
  }

  remove(flow: T): void {
    const h = flow.hash4;
    let f = this.buckets.get(h) as Chained4 | undefined | null;
    if (f === flow) {
      if (flow.next4) this.buckets.set(h, flow.next4 as T);
      else this.buckets.delete(h);
    } else {
      while (f && f.next4 !== flow) f = f.next4;
      if (f) f.next4 = flow.next4;
    }
    flow.next4 = null;
  }
}
