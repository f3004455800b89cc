export { PcapReader, CaptureFormatError } from "./reader.js";
export type { PacketHandler, ReaderStats } from "./reader.js";
export { readCaptureStream, readCaptureFile, openCaptureSource } from "./stream.js";
