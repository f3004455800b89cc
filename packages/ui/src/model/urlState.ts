// The URL holds the view (filter, tab, selected entry) so a view can be shared.
export interface ViewState {
  filter: string;
  tab: "traffic" | "map";
  selected?: string;
}

export function readViewState(search: string): ViewState {
  const q = new URLSearchParams(search);
  const tab = q.get("tab") === "map" ? "map" : "traffic";
  return { filter: q.get("q") ?? "", tab, selected: q.get("entry") ?? undefined };
}

export function writeViewState(state: ViewState): string {
  const q = new URLSearchParams();
  if (state.filter) q.set("q", state.filter);
  if (state.tab !== "traffic") q.set("tab", state.tab);
  if (state.selected) q.set("entry", state.selected);
  const s = q.toString();
  return s ? `?${s}` : "";
}

const HISTORY_KEY = "tapline.filterHistory";

export function loadHistory(storage: Pick<Storage, "getItem"> = localStorage): string[] {
  try {
    const v = JSON.parse(storage.getItem(HISTORY_KEY) ?? "[]") as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string").slice(0, 20) : [];
  } catch {
    return [];
  }
}

export function rememberFilter(filter: string, history: string[], storage: Pick<Storage, "setItem"> = localStorage): string[] {
  if (!filter.trim()) return history;
  const next = [filter, ...history.filter((h) => h !== filter)].slice(0, 20);
  storage.setItem(HISTORY_KEY, JSON.stringify(next));
  return next;
}

/** Adds `clause` to a filter with `and`, parenthesising an `or` filter so the meaning is kept. */
export function addClause(filter: string, clause: string): string {
  const f = filter.trim();
  if (!f) return clause;
  return /\bor\b|\|\|/.test(f) ? `(${f}) and ${clause}` : `${f} and ${clause}`;
}
