// Where the raw packets of an export come from when no worker is connected: a local capture
// (`tapline tap --local`) or a capture file (`tapline view capture.pcap`) implements this.
export interface PcapQuery {
  sinceNs: number;
  /** 0: up to now. */
  untilNs: number;
  /** Empty: every flow. Direction-insensitive: a flow matches either way round. */
  flows: { srcIp: string; srcPort: number; dstIp: string; dstPort: number }[];
}

export interface PcapSource {
  /** A pcapng (or classic pcap) stream of the matching packets; the caller merges and orders. */
  read(query: PcapQuery): Promise<Buffer>;
}
