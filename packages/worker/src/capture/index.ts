export { PcapReader, CaptureFormatError } from "./reader.js";
export type { PacketHandler, PacketRangeHandler, PacketSink, ReaderStats } from "./reader.js";
export { readCaptureStream, readCaptureFile, openCaptureSource } from "./stream.js";
