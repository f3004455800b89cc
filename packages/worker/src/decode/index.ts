export {
  Linktype,
  IpProto,
  TcpFlag,
  newPacketInfo,
  decodeLink,
  decodeLinkAt,
  decodeIPv4,
  decodeIPv6,
  decodeTcp,
  decodeUdp,
  ipv4ToString,
  ipv6ToString,
} from "./layers.js";
export type { PacketInfo } from "./layers.js";
export { FragmentTable, defaultFragmentLimits } from "./fragments.js";
export type { FragmentLimits, FragmentStats } from "./fragments.js";
