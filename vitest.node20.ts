// vitest 5's reporter calls Map.groupBy/Object.groupBy (ES2024), which Node 20 lacks:
// without this, a failing test crashes the reporter and hides the failure's message.
// Every vitest config imports this file (it runs in vitest's main process).
type GroupBy = <K, T>(items: Iterable<T>, key: (item: T, index: number) => K) => Map<K, T[]>;

if (typeof (Map as unknown as { groupBy?: GroupBy }).groupBy !== "function") {
  (Map as unknown as { groupBy: GroupBy }).groupBy = (items, key) => {
    const out = new Map();
    let i = 0;
    for (const item of items) {
      const k = key(item, i++);
      const list = out.get(k);
      if (list) list.push(item);
      else out.set(k, [item]);
    }
    return out;
  };
}
if (typeof (Object as unknown as { groupBy?: unknown }).groupBy !== "function") {
  (Object as unknown as { groupBy: (items: Iterable<unknown>, key: (item: unknown, i: number) => PropertyKey) => Record<PropertyKey, unknown[]> }).groupBy = (items, key) => {
    const out: Record<PropertyKey, unknown[]> = Object.create(null) as Record<PropertyKey, unknown[]>;
    let i = 0;
    for (const item of items) (out[key(item, i++)] ??= []).push(item);
    return out;
  };
}

export {};
