// The dissectors new flows are detected with, switchable while a Pipeline runs (TapConfig
// changes from the hub). The Pipeline is built once with every registered dissector, each
// behind a switch: a switched-off dissector answers "no" to detection, so no new flow gets it.
// A flow already assigned to a dissector keeps its session until the flow ends: cutting a
// session mid-stream would split an exchange and cannot be resumed by another dissector. A flow
// still detecting sees the new set on its next bytes (a dissector it already ruled out stays out).
import { dissectors as registry } from "../dissectors/registry.js";
import type { Detection, Direction, Dissector } from "../dissectors/types.js";

/** Requested names split into registered ones (lower-cased, de-duplicated, in order) and unknown ones. */
export function resolveDissectorNames(requested: readonly string[]): { names: string[]; unknown: string[] } {
  const known = new Set(registry.map((d) => d.name as string));
  const names: string[] = [];
  const unknown: string[] = [];
  for (const raw of requested) {
    const n = raw.trim().toLowerCase();
    if (!n) continue;
    if (!known.has(n)) unknown.push(raw);
    else if (!names.includes(n)) names.push(n);
  }
  return { names, unknown };
}

/** Every registered dissector name, once (dns covers its UDP and TCP dissectors). */
export function allDissectorNames(): string[] {
  return [...new Set(registry.map((d) => d.name as string))];
}

/** The names a set switches on (registered names; empty = all), in registry order. */
export function enabledNames(names: readonly string[]): string[] {
  return allDissectorNames().filter((n) => names.length === 0 || names.includes(n));
}

export class DissectorSwitch {
  /** Pass these to the Pipeline: the registry's dissectors, each gated by this switch. */
  readonly dissectors: readonly Dissector[];
  /** One flag per registry entry, read on every detection call (no Set lookup on that path). */
  private readonly on: Uint8Array;
  private current: string[] = [];

  /** `names` must be registered (see resolveDissectorNames); empty = all. */
  constructor(names: readonly string[]) {
    const on = (this.on = new Uint8Array(registry.length));
    this.dissectors = registry.map((d, i) => ({
      ...d,
      detect: (data: Buffer, direction: Direction): Detection => (on[i] ? d.detect(data, direction) : "no"),
    }));
    this.set(names);
  }

  /** Switches to `names` (registered names; empty = all) for flows detected from now on. */
  set(names: readonly string[]): void {
    const want = names.length ? new Set(names) : null;
    for (let i = 0; i < registry.length; i++) this.on[i] = !want || want.has(registry[i].name) ? 1 : 0;
    this.current = enabledNames(names);
  }

  /** The names switched on, in registry order. */
  get enabled(): string[] {
    return [...this.current];
  }
}
