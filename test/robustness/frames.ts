// Synthesized TCP connections for the adversarial streams: Ethernet/IPv4/TCP frames with correct
// sequence numbers, built one at a time so a scenario of gigabytes holds nothing.
import { tcpFrame } from "../../packages/worker/src/flows/__fixtures__/testkit.js";

export const ETHERNET = 1;
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
/** Largest payload per frame (a TSO super-segment, as a capture on the sender sees them). */
const SEGMENT = 65_000;

/** The connection of the ordinary exchange each scenario interleaves. */
export const CONTROL = { src: "10.99.0.1", dst: "10.99.0.2", dport: 8080 };

export class Conn {
  private seq: [number, number] = [1000, 500_000];
  constructor(
    readonly client: string,
    readonly sport: number,
    readonly server: string,
    readonly dport: number,
  ) {}

  /** The three-way handshake. */
  *open(): Generator<Buffer> {
    const [c, s] = this.seq;
    yield tcpFrame({ src: this.client, dst: this.server, sport: this.sport, dport: this.dport, seq: c, flags: SYN });
    yield tcpFrame({ src: this.server, dst: this.client, sport: this.dport, dport: this.sport, seq: s, ack: c + 1, flags: SYN | ACK });
    this.seq = [c + 1, s + 1];
    yield tcpFrame({ src: this.client, dst: this.server, sport: this.sport, dport: this.dport, seq: this.seq[0], ack: this.seq[1], flags: ACK });
  }

  /** A lone SYN (a half-open connection). */
  synOnly(): Buffer {
    return tcpFrame({ src: this.client, dst: this.server, sport: this.sport, dport: this.dport, seq: this.seq[0], flags: SYN });
  }

  /** `payload` from the client (0) or the server (1), in segments. */
  *send(dir: 0 | 1, payload: Buffer): Generator<Buffer> {
    const [src, dst, sport, dport] = dir === 0 ? [this.client, this.server, this.sport, this.dport] : [this.server, this.client, this.dport, this.sport];
    for (let off = 0; off < payload.length; off += SEGMENT) {
      const piece = payload.subarray(off, off + SEGMENT);
      yield tcpFrame({ src, dst, sport, dport, seq: this.seq[dir], ack: this.seq[1 - dir], flags: ACK | PSH, payload: piece });
      this.seq[dir] = (this.seq[dir] + piece.length) >>> 0;
    }
  }
}

/**
 * Lone SYNs from `count` distinct client sockets (64,000 ports per source address) to one server:
 * one frame buffer rewritten in place (the pipeline reads a frame only during pushPacket).
 */
export function* synFlood(count: number, server: string, dport: number): Generator<Buffer> {
  const f = new Conn("10.3.0.1", 1024, server, dport).synOnly();
  for (let i = 0; i < count; i++) {
    f[28] = Math.floor(i / 64_000); // third octet of the IPv4 source (14-byte Ethernet header + 12 + 2)
    f.writeUInt16BE(1024 + (i % 64_000), 34);
    yield f;
  }
}
