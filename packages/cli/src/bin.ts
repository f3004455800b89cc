#!/usr/bin/env node
import { runCli } from "./program.js";

runCli(process.argv.slice(2)).then(
  (code) => {
    // Exit now: keep-alive sockets of the API client must not hold a finished command open.
    // (stdout/stderr to pipes and files are synchronous on POSIX, nothing is lost.)
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`tapline: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
