// SPEC §3: which names (header names, query parameters, form fields, JSON keys) are sensitive.
// A name matches when its normalized form (lower case, without "-", "_", "." and spaces)
// contains a sensitive word; a short allow list keeps benign names readable.

/** SPEC §3, the default sensitive words, verbatim. */
export const DEFAULT_SENSITIVE_WORDS: readonly string[] = [
  "token", "authorization", "authentication", "cookie", "userid", "password", "username", "user", "key",
  "passcode", "pass", "auth", "authtoken", "jwt", "bearer", "clientid", "clientsecret", "redirecturi",
  "phonenumber", "zip", "zipcode", "address", "country", "firstname", "lastname", "middlename", "fname",
  "lname", "birthdate",
];

/**
 * Benign names that contain a sensitive word, in normalized form. `user-agent` holds "user",
 * `:authority` (HTTP/2, gRPC) holds "auth", `sec-fetch-user` holds "user" (its value is "?1").
 * Names such as keep-alive or cache-control need no entry: they contain no sensitive word.
 */
export const DEFAULT_ALLOWED_NAMES: readonly string[] = [
  "useragent", ":authority", "secfetchuser", "secwebsocketkey", "secwebsocketaccept",
];

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_. ]/g, "");
}

/** Cap of the memo: header names repeat, JSON keys of adversarial bodies may not. */
const MEMO_LIMIT = 4096;

export class NameMatcher {
  private readonly words: string[];
  private readonly allowed: Set<string>;
  private readonly memo = new Map<string, boolean>();

  constructor(options: { defaults: boolean; keys: readonly string[] }) {
    const words = new Set<string>(options.defaults ? DEFAULT_SENSITIVE_WORDS : []);
    for (const key of options.keys) {
      const n = normalizeName(key);
      if (n) words.add(n);
    }
    // A shorter word makes every word containing it redundant ("pass" covers "password").
    const sorted = [...words].sort((a, b) => a.length - b.length);
    this.words = sorted.filter((w, i) => !sorted.slice(0, i).some((shorter) => w.includes(shorter)));
    const userKeys = new Set(options.keys.map(normalizeName));
    // A name the user asked for explicitly wins over the allow list.
    this.allowed = new Set(options.defaults ? DEFAULT_ALLOWED_NAMES.filter((n) => !userKeys.has(n)) : []);
  }

  /** The normalized words a name is tested for (none contains another). */
  get wordList(): readonly string[] {
    return this.words;
  }

  get empty(): boolean {
    return this.words.length === 0;
  }

  isSensitive(name: string): boolean {
    const cached = this.memo.get(name);
    if (cached !== undefined) return cached;
    const n = normalizeName(name);
    let hit = false;
    if (!this.allowed.has(n)) for (const w of this.words) if (n.includes(w)) { hit = true; break; }
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(name, hit);
    return hit;
  }
}
