// The capture file formats on their own (no dissectors, no Kubernetes or hub client): the
// pcap/pcapng reader and the pcapng block writers, for the hub's PCAP export merge.
export { PcapReader, CaptureFormatError } from "./capture/reader.js";
export type { PacketHandler, ReaderStats } from "./capture/reader.js";
export { sectionHeader, interfaceDescription, writePacketBlock, epbSize } from "./pcapring/pcapng.js";
