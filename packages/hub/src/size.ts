// Sizes as Kubernetes quantities or plain bytes: "500Mi", "2Gi", "100M", "1048576".
const UNITS: Record<string, number> = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKMGT]i?|)B?$/.exec(text.trim());
  if (!m || UNITS[m[2]] === undefined) throw new Error(`bad size "${text}": use bytes or a quantity like 500Mi`);
  return Math.floor(Number(m[1]) * UNITS[m[2]]);
}
