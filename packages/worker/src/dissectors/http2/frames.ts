// HTTP/2 framing (RFC 9113 §4.1, §6):
//
//   connection preface (client, §3.4) = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", then a SETTINGS frame
//   server preface                    = a SETTINGS frame (possibly empty)
//   HTTP Frame {
//     Length (24), Type (8), Flags (8), Reserved (1), Stream Identifier (31),
//     Frame Payload (..)
//   }
//   DATA          [Pad Length (8)] Data [Padding]                                  flags END_STREAM, PADDED
//   HEADERS       [Pad Length (8)] [E(1) Stream Dependency (31) Weight (8)] Field Block Fragment [Padding]
//                                                       flags END_STREAM, END_HEADERS, PADDED, PRIORITY
//   PRIORITY      E(1) Stream Dependency (31) Weight (8)
//   RST_STREAM    Error Code (32)
//   SETTINGS      (Identifier (16) Value (32))*                                     flag ACK
//   PUSH_PROMISE  [Pad Length (8)] R(1) Promised Stream ID (31) Field Block Fragment [Padding]
//   PING          Opaque Data (64)                                                  flag ACK
//   GOAWAY        R(1) Last-Stream-ID (31) Error Code (32) Additional Debug Data
//   WINDOW_UPDATE R(1) Window Size Increment (31)
//   CONTINUATION  Field Block Fragment                                              flag END_HEADERS

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
export const FRAME_HEADER = 9;

export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** §6.5.2 */
export const Setting = { HEADER_TABLE_SIZE: 1, MAX_FRAME_SIZE: 5 } as const;

// §7 error codes
const ERRORS = [
  "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
  "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
  "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
];

export function errorCodeName(code: number): string {
  return ERRORS[code] ?? `0x${code.toString(16)}`;
}

/** How many leading bytes of `data` agree with the client preface (-1 at the first difference). */
export function prefaceMatch(data: Buffer, offset = 0): number {
  const n = Math.min(data.length - offset, PREFACE.length);
  for (let i = 0; i < n; i++) if (data[offset + i] !== PREFACE[i]) return -1;
  return n;
}

/**
 * Whether `data` starts with a server preface: a SETTINGS frame on stream 0 without ACK whose
 * length is a multiple of 6 (§6.5). "more" while fewer than 9 bytes agree so far.
 */
export function looksLikeServerPreface(data: Buffer): "yes" | "no" | "more" {
  // a preface SETTINGS frame is short: its first length byte is 0
  if (data.length >= 1 && data[0] !== 0) return "no";
  if (data.length >= 4 && data[3] !== FrameType.SETTINGS) return "no";
  if (data.length >= 5 && data[4] !== 0) return "no";
  if (data.length < FRAME_HEADER) return "more";
  const len = data.readUIntBE(0, 3);
  if (len % 6 !== 0 || len > 6 * 64 || (data.readUInt32BE(5) & 0x7fffffff) !== 0) return "no";
  return "yes";
}

/** Flags defined per frame type (§6); other bits set make a frame implausible for detection. */
const KNOWN_FLAGS = [0x09, 0x2d, 0, 0, 0x01, 0x0c, 0x01, 0, 0, 0x04];
/** Stream 0 required (1), forbidden (2) or either (0), per type (§6). */
const STREAM_RULE = [2, 2, 2, 2, 1, 2, 1, 1, 0, 2];
/** Default SETTINGS_MAX_FRAME_SIZE (§6.5.2): a larger frame needs a setting we did not see. */
const DEFAULT_MAX_FRAME = 16384;

function plausibleFrame(data: Buffer, p: number): boolean {
  const len = data.readUIntBE(p, 3);
  const type = data[p + 3]!;
  if (type > 9 || len > DEFAULT_MAX_FRAME || data[p + 4]! & ~KNOWN_FLAGS[type]! || data[p + 5]! & 0x80) return false;
  const sid = data.readUInt32BE(p + 5);
  const rule = STREAM_RULE[type]!;
  if ((rule === 1 && sid !== 0) || (rule === 2 && sid === 0)) return false;
  switch (type) {
    case FrameType.PRIORITY:
      return len === 5;
    case FrameType.RST_STREAM:
    case FrameType.WINDOW_UPDATE:
      return len === 4;
    case FrameType.PING:
      return len === 8;
    case FrameType.SETTINGS:
      return len % 6 === 0;
    case FrameType.GOAWAY:
      return len >= 8;
    default:
      return true;
  }
}

/**
 * Who sent a header block, from its first field (§8.3): request pseudo-headers are static
 * entries 1..7 (:authority, :method, :path, :scheme), :status is 8..14 (RFC 7541 Appendix A).
 */
function blockRole(first: number): "client" | "server" | "" {
  const index = first & 0x80 ? first & 0x7f : first & 0x40 ? first & 0x3f : first & 0x0f;
  if (index >= 1 && index <= 7) return "client";
  if (index >= 8 && index <= 14) return "server";
  return "";
}

/**
 * Mid-connection detection (the capture began after the prefaces): at least two complete,
 * plausible frames from the first byte on, and a HEADERS or PUSH_PROMISE frame telling the
 * sender's role. "more" while everything so far is plausible but not yet conclusive.
 */
export function looksLikeMidStream(data: Buffer): "client" | "server" | "no" | "more" {
  let frames = 0;
  let role: "client" | "server" | "" = "";
  let p = 0;
  for (; p + FRAME_HEADER <= data.length; frames++) {
    if (!plausibleFrame(data, p)) return "no";
    const len = data.readUIntBE(p, 3);
    const type = data[p + 3]!;
    const flags = data[p + 4]!;
    if (p + FRAME_HEADER + len > data.length) break;
    if (type === FrameType.PUSH_PROMISE) role = "server";
    else if (type === FrameType.HEADERS && !role && len > 0) {
      let q = p + FRAME_HEADER + (flags & Flag.PADDED ? 1 : 0) + (flags & Flag.PRIORITY ? 5 : 0);
      // a table size update may come first (RFC 7541 §4.2): look past it
      while (q < p + FRAME_HEADER + len && (data[q]! & 0xe0) === 0x20) {
        q++;
        while (q < p + FRAME_HEADER + len && data[q - 1]! & 0x80) q++;
      }
      if (q < p + FRAME_HEADER + len) role = blockRole(data[q]!);
    }
    p += FRAME_HEADER + len;
  }
  if (role && frames >= 2) return role;
  // the next frame's header, as far as it has arrived, must be plausible too
  const rest = data.length - p;
  if (rest >= 3 && data.readUIntBE(p, 3) > DEFAULT_MAX_FRAME) return "no";
  if (rest >= 4 && data[p + 3]! > 9) return "no";
  return "more";
}
