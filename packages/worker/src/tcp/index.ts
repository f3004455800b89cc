export { HalfStream, ByteBudget, seqDiff } from "./halfstream.js";
export type { HalfStreamSink, HalfStreamStats } from "./halfstream.js";
export { newHandshakeState, transportOutcome } from "./outcome.js";
export type { HandshakeState } from "./outcome.js";
