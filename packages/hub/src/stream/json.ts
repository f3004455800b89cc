import { entryToJson, summarizeEntry } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";

/** An entry as the API and the live stream send it: protobuf JSON plus the one-line summary. */
export function entryJson(entry: EntryInit): Record<string, unknown> {
  return { ...entryToJson(entry), summary: summarizeEntry(entry) };
}
