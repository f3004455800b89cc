import { InvalidArgumentError, type Command } from "commander";
import { dissectFile, dissectLimitsFor, dissectors, DissectInputError, EntryWriter, type DissectFormat } from "@tapline/worker/dissect";
import { UsageError } from "../errors.js";

interface DissectFlags {
  format: DissectFormat;
  dissectors?: string[];
  quiet?: boolean;
}

function parseFormat(v: string): DissectFormat {
  if (v !== "jsonl" && v !== "table" && v !== "none") throw new InvalidArgumentError("expected jsonl, table or none");
  return v;
}

function parseDissectors(v: string): string[] {
  const known = dissectors.map((d) => d.name as string);
  const names = v.split(",").map((n) => n.trim().toLowerCase()).filter(Boolean);
  const unknown = names.filter((n) => !known.includes(n));
  if (!names.length || unknown.length) throw new InvalidArgumentError(`unknown dissector ${unknown.join(",") || "(empty)"}; available: ${known.join(", ") || "none"}`);
  return names;
}

export function registerDissect(program: Command): void {
  program
    .command("dissect")
    .argument("<file>", "a pcap or pcapng capture, or - for stdin")
    .description("dissect a capture file into entries (one per line), offline")
    .option("--format <format>", "jsonl (protobuf JSON of each entry), table, or none (counts only)", parseFormat, "table" as DissectFormat)
    .option("--dissectors <list>", "comma list of dissectors to use (default: all)", parseDissectors)
    .option("-q, --quiet", "no summary on stderr")
    .action(async (file: string, flags: DissectFlags) => {
      const out = new EntryWriter(process.stdout, flags.format);
      try {
        const r = await dissectFile(file, { dissectors: flags.dissectors, limits: dissectLimitsFor(flags.format), onEntry: (e) => out.write(e), afterChunk: () => out.drain() });
        await out.end();
        if (!flags.quiet) {
          const p = r.pipeline;
          const notes = [r.reader.stoppedReason, p.lastBug ? `dissector bug: ${p.lastBug.split("\n")[0]}` : ""].filter(Boolean);
          process.stderr.write(
            `${r.reader.packets} packets, ${p.entries} entries, ${p.flowsTotal} flows (${p.flowsDropped} dropped, ${p.flowsUndetected} undetected), ` +
              `${p.gaps} gaps, ${p.undecodable} undecodable frames${notes.length ? `; ${notes.join("; ")}` : ""}\n`,
          );
        }
      } catch (err) {
        if (err instanceof DissectInputError) throw new UsageError(err.message);
        throw err;
      }
    });
}
