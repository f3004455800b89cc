// Time parameters: `since`/`until` as an RFC 3339 date, unix epoch ms (13 digits) or a duration
// back from now ("10m", "2h", "30s", "1d"). Returned as unix epoch ns (0 when absent).
import { BadRequestError } from "./errors.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseTime(value: string | undefined, fallbackNs: number, now = Date.now()): number {
  if (value === undefined || value === "") return fallbackNs;
  const d = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value);
  if (d) return Math.round((now - Number(d[1]) * UNITS[d[2]]) * 1e6);
  if (/^\d{10,13}$/.test(value)) return Number(value) * (value.length === 10 ? 1e9 : 1e6);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new BadRequestError(`bad time "${value}": use RFC 3339, epoch ms, or a duration like 10m`);
  return t * 1e6;
}
