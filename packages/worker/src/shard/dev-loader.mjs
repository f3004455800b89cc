// Lets a worker thread run the package from its TypeScript sources (tests and `vitest` run on
// src/, SPEC monorepo rules; Node 20 cannot strip types): `.js` specifiers fall back to the
// `.ts` file beside them and `.ts` files are transpiled with TypeScript (no type checking).
// Only used when the running module is a .ts file; the built package never loads it.
import { register } from "node:module";

register("./dev-hooks.mjs", import.meta.url);
