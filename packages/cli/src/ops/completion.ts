// Shell completion scripts generated from the command tree, so a new flag is
// completed without touching this file.

export interface CompletionModel {
  program: string;
  commands: Array<{
    name: string;
    description: string;
    /** Every spelling: "-n", "--namespaces", "--no-open", ... */
    flags: Array<{ short?: string; long?: string; description: string; takesValue: boolean }>;
    /** Fixed values of the first argument (`completion bash|zsh|fish`, `export pcap|har`). */
    choices: string[];
  }>;
}

const sq = (s: string) => s.replace(/'/g, `'\\''`);

export function bashCompletion(m: CompletionModel): string {
  const fn = `_${m.program.replace(/\W/g, "_")}`;
  const cases = m.commands
    .map((c) => {
      const words = [...c.flags.flatMap((f) => [f.short, f.long].filter(Boolean)), ...c.choices].join(" ");
      const valued = c.flags.filter((f) => f.takesValue).flatMap((f) => [f.short, f.long].filter(Boolean)).join("|");
      const fileFlags = valued ? `      case "$prev" in ${valued}) COMPREPLY=($(compgen -f -- "$cur")); return;; esac\n` : "";
      return `    ${c.name})\n${fileFlags}      COMPREPLY=($(compgen -W '${sq(words)}' -- "$cur"));;`;
    })
    .join("\n");
  return `# bash completion for ${m.program}; load with: source <(${m.program} completion bash)
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break;; esac
  done
  case "$cmd" in
    "") COMPREPLY=($(compgen -W '${sq(m.commands.map((c) => c.name).join(" "))} --help --version' -- "$cur"));;
${cases}
  esac
}
complete -F ${fn} ${m.program}
`;
}

const zq = (s: string) => s.replace(/'/g, `'\\''`).replace(/:/g, "\\:");

export function zshCompletion(m: CompletionModel): string {
  const fn = `_${m.program.replace(/\W/g, "_")}`;
  const commands = m.commands.map((c) => `    '${zq(c.name)}:${zq(c.description)}'`).join("\n");
  const cases = m.commands
    .map((c) => {
      const opts = c.flags.flatMap((f) => [f.short, f.long].filter(Boolean).map((s) => `'${zq(s!)}:${zq(f.description)}'`)).join(" ");
      const choices = c.choices.map((x) => `'${zq(x)}'`).join(" ");
      return `    ${c.name}) opts=(${opts}); choices=(${choices});;`;
    })
    .join("\n");
  return `#compdef ${m.program}
# zsh completion for ${m.program}; load with: source <(${m.program} completion zsh)
${fn}() {
  local -a commands opts choices
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case $words[2] in
${cases}
  esac
  if [[ $PREFIX == -* ]]; then
    _describe 'option' opts
  elif (( \${#choices} )); then
    _describe 'value' choices
  else
    _files
  fi
}
compdef ${fn} ${m.program}
`;
}

const fq = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

export function fishCompletion(m: CompletionModel): string {
  const p = m.program;
  const lines = [`# fish completion for ${p}; load with: ${p} completion fish | source`, `complete -c ${p} -f`];
  for (const c of m.commands) lines.push(`complete -c ${p} -n __fish_use_subcommand -a ${c.name} -d ${fq(c.description)}`);
  for (const c of m.commands) {
    const cond = `'__fish_seen_subcommand_from ${c.name}'`;
    for (const f of c.flags) {
      const s = f.short ? ` -s ${f.short.slice(1)}` : "";
      const l = f.long ? ` -l ${f.long.slice(2)}` : "";
      lines.push(`complete -c ${p} -n ${cond}${s}${l}${f.takesValue ? " -r -F" : ""} -d ${fq(f.description)}`);
    }
    if (c.choices.length) lines.push(`complete -c ${p} -n ${cond} -a ${fq(c.choices.join(" "))}`);
  }
  return lines.join("\n") + "\n";
}
