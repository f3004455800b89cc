export { PcapRing, ringDiskBytes } from "./ring.js";
export type { FlowSelector, PcapRingOptions, PcapRingStats } from "./ring.js";
export { sectionHeader, interfaceDescription, writePacketBlock, epbSize } from "./pcapng.js";
