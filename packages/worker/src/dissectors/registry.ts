// Every dissector the worker knows, in one list. Nothing registers itself on import: a
// dissector exists for the worker when it has a line here.
import { httpDissector } from "./http/index.js";
import { kafkaDissector } from "./kafka/index.js";
import { redisDissector } from "./redis/index.js";
import type { Dissector, DissectorName } from "./types.js";

export const dissectors: readonly Dissector[] = [httpDissector, redisDissector, kafkaDissector];

/** The dissectors named in `names` (all when omitted); throws on a name that is not registered. */
export function selectDissectors(names?: readonly string[]): Dissector[] {
  if (!names || names.length === 0) return [...dissectors];
  const known = new Map(dissectors.map((d) => [d.name as string, d]));
  return names.map((n) => {
    const d = known.get(n.trim().toLowerCase());
    if (!d) throw new Error(`unknown dissector "${n}" (available: ${[...known.keys()].join(", ") || "none"})`);
    return d;
  });
}

export type { Dissector, DissectorName };
