// Every dissector the worker knows, in one list. Nothing registers itself on import: a
// dissector exists for the worker when it has a line here.
import { dnsDissector, dnsTcpDissector } from "./dns/index.js";
import { httpDissector } from "./http/index.js";
import { http2Dissector } from "./http2/index.js";
import { kafkaDissector } from "./kafka/index.js";
import { redisDissector } from "./redis/index.js";
import type { Dissector, DissectorName } from "./types.js";

export const dissectors: readonly Dissector[] = [
  httpDissector,
  redisDissector,
  kafkaDissector,
  http2Dissector,
  dnsDissector, // UDP
  dnsTcpDissector, // the same name over TCP: --dissectors dns selects both
];

/** The dissectors named in `names` (all when omitted); throws on a name that is not registered. */
export function selectDissectors(names?: readonly string[]): Dissector[] {
  if (!names || names.length === 0) return [...dissectors];
  const known = [...new Set(dissectors.map((d) => d.name as string))];
  return names.flatMap((n) => {
    const name = n.trim().toLowerCase();
    const ds = dissectors.filter((d) => d.name === name);
    if (ds.length === 0) throw new Error(`unknown dissector "${n}" (available: ${known.join(", ") || "none"})`);
    return ds;
  });
}

export type { Dissector, DissectorName };
