// What a TCP connection's handshake and teardown say about it (RFC 9293 §3.5, §3.6), for
// flows that never showed an L7 exchange: the user still sees refused, reset and timed-out
// connections.
import { EntryStatus } from "@tapline/protocol/enums";
import type { CloseReason } from "../dissectors/types.js";

/** Handshake/teardown facts of one connection; directions are 0 (first sender) and 1. */
export interface HandshakeState {
  /** Direction that sent a SYN without ACK, -1 if none seen (mid-stream). */
  synFrom: number;
  synAckSeen: boolean;
  /** Direction that sent the first RST, -1 if none. */
  rstFrom: number;
  /** Payload bytes seen per direction. */
  payload: [number, number];
}

export function newHandshakeState(): HandshakeState {
  return { synFrom: -1, synAckSeen: false, rstFrom: -1, payload: [0, 0] };
}

/**
 * The transport outcome of a flow that produced no L7 entry, or undefined when it is not worth
 * an entry (a clean close, a flow still open at the end of the capture).
 */
export function transportOutcome(s: HandshakeState, reason: CloseReason): EntryStatus | undefined {
  const noData = s.payload[0] === 0 && s.payload[1] === 0;
  if (s.synFrom >= 0 && !s.synAckSeen) {
    if (s.rstFrom >= 0 && s.rstFrom !== s.synFrom) return EntryStatus.CONNECTION_REFUSED;
    if (reason === "idle" || reason === "capture-end") return EntryStatus.CONNECTION_TIMEOUT;
    return undefined;
  }
  if (s.rstFrom >= 0) return EntryStatus.CONNECTION_RESET;
  if (reason === "idle" && s.synFrom >= 0 && noData) return EntryStatus.CONNECTION_TIMEOUT;
  return undefined;
}
