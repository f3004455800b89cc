import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../program.js";
import { bashCompletion, fishCompletion, zshCompletion } from "./completion.js";

const program = await buildProgram();

function model() {
  return {
    program: "tapline",
    commands: program.commands.map((c) => ({
      name: c.name(),
      description: c.description(),
      flags: c.options.map((o) => ({ short: o.short, long: o.long, description: o.description, takesValue: o.required || o.optional })),
      choices: c.name() === "export" ? ["pcap", "har"] : [],
    })),
  };
}

function bashComplete(words: string[]): string[] {
  const script = `${bashCompletion(model())}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _tapline; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  return r.stdout.split("\n").filter(Boolean);
}

describe("completion", () => {
  it("bash completes commands and each command's flags", () => {
    expect(bashComplete(["tapline", "ta"])).toEqual(["tap"]);
    expect(bashComplete(["tapline", "tap", "--stor"])).toEqual(["--storage-limit"]);
    expect(bashComplete(["tapline", "tap", "--me"])).toEqual(["--mesh"]);
    expect(bashComplete(["tapline", "tap", "--no-"])).toEqual(expect.arrayContaining(["--no-open", "--no-default-redact"]));
    expect(bashComplete(["tapline", "export", "p"])).toEqual(["pcap"]);
    expect(bashComplete(["tapline", "clean", "--con"])).toEqual(["--context"]);
  });

  it("zsh and fish scripts name every command and flag", () => {
    const zsh = zshCompletion(model());
    const fish = fishCompletion(model());
    for (const c of model().commands) {
      expect(zsh).toContain(`'${c.name}:`);
      expect(fish).toContain(`-a ${c.name} `);
    }
    expect(zsh).toContain("'--release-namespace:");
    expect(fish).toContain("-l release-namespace -r");
    expect(zsh).toContain("'--mesh:");
    expect(fish).toMatch(/-l mesh -d /);
    const zshOk = spawnSync("zsh", ["-n"], { input: zsh });
    if (!zshOk.error) expect(zshOk.status).toBe(0);
  });
});
