/**
 * `keyway completion bash|zsh|fish`: a completion script generated from the program itself, so
 * a new command or option completes without anyone editing a script. Registered in program.ts.
 */
import type { Command, Option } from "commander";
import type { GlobalOptions } from "../context.js";
import { CliError, type CliIO, EXIT, write } from "../io.js";

interface Spec {
  readonly name: string;
  readonly description: string;
  readonly options: readonly Option[];
}

const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];

/** Words a shell script may hold unquoted: flag and command names, choices. */
const WORD = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$|^--?[A-Za-z0-9][A-Za-z0-9-]*$/;

function specs(program: Command): { global: Spec; commands: Spec[] } {
  const visible = (options: readonly Option[]) => options.filter((o) => !o.hidden);
  return {
    global: { name: "", description: "", options: visible(program.options) },
    commands: program.commands.map((c) => ({
      name: c.name(),
      description: c.description(),
      options: visible(c.options),
    })),
  };
}

function flags(options: readonly Option[]): string[] {
  return [...options.flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined)), "--help"];
}

/** Options that take a value, and the value's choices when commander knows them. */
function valued(options: readonly Option[]): Array<{ flags: string[]; choices: readonly string[] }> {
  return options
    .filter((o) => o.required || o.optional)
    .map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => f !== undefined),
      choices: o.argChoices ?? [],
    }));
}

function checkWords(words: readonly string[]): void {
  // Everything comes from our own program; a word that needs quoting is a bug to catch here.
  for (const word of words) if (!WORD.test(word)) throw new Error(`completion: unsafe word '${word}'`);
}

function bash(program: Command): string {
  const { global, commands } = specs(program);
  const names = commands.map((c) => c.name);
  const globalFlags = [...flags(global.options), "--version"];
  checkWords([...names, ...globalFlags]);
  const valueCases = [global, ...commands].flatMap((c) =>
    valued(c.options).map((v) => {
      checkWords([...v.flags, ...v.choices]);
      const reply = v.choices.length
        ? `COMPREPLY=($(compgen -W "${v.choices.join(" ")}" -- "$cur"))`
        : "COMPREPLY=()"; // a free value (a namespace, a file): the shell's default completion
      return `    ${v.flags.join("|")}) ${reply}; return ;;`;
    }),
  );
  const commandCases = commands.map((c) => {
    const words = flags(c.options);
    checkWords(words);
    return `    ${c.name}) COMPREPLY=($(compgen -W "${words.join(" ")}" -- "$cur")) ;;`;
  });
  return `# keyway completion for bash. Load it with: source <(keyway completion bash)
_keyway() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" i
  case "$prev" in
${[...new Set(valueCases)].join("\n")}
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -c|--config) ((i++)) ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "${[...names, ...globalFlags].join(" ")}" -- "$cur")) ;;
${commandCases.join("\n")}
  esac
}
complete -o default -F _keyway keyway
`;
}

function zsh(program: Command): string {
  // zsh runs bash completion functions through bashcompinit, the same script serves both.
  return `# keyway completion for zsh. Load it with: source <(keyway completion zsh)
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }
autoload -U +X bashcompinit && bashcompinit
${bash(program).replace(/^# .*\n/, "")}`;
}

/** fish's `-d` text in single quotes: only `\\` and `'` are special there. */
const fishQuote = (text: string) => `'${text.replace(/[\\']/g, "\\$&")}'`;

function fish(program: Command): string {
  const { global, commands } = specs(program);
  const names = commands.map((c) => c.name);
  checkWords(names);
  const option = (o: Option, condition: string) => {
    const parts = ["complete -c keyway", `-n ${fishQuote(condition)}`];
    if (o.short) parts.push(`-s ${o.short.slice(1)}`);
    if (o.long) parts.push(`-l ${o.long.slice(2)}`);
    if (o.required || o.optional)
      parts.push(o.argChoices ? `-x -a ${fishQuote(o.argChoices.join(" "))}` : "-r");
    parts.push(`-d ${fishQuote(o.description)}`);
    return parts.join(" ");
  };
  const lines = [
    "# keyway completion for fish. Load it with: keyway completion fish | source",
    "complete -c keyway -f",
    ...commands.map(
      (c) => `complete -c keyway -n '__fish_use_subcommand' -a ${c.name} -d ${fishQuote(c.description)}`,
    ),
    ...global.options.map((o) => option(o, "__fish_use_subcommand")),
    ...commands.flatMap((c) => c.options.map((o) => option(o, `__fish_seen_subcommand_from ${c.name}`))),
  ];
  return `${lines.join("\n")}\n`;
}

const GENERATORS: Record<Shell, (program: Command) => string> = { bash, zsh, fish };

export async function completion(
  io: CliIO,
  _global: GlobalOptions,
  shell: string,
  _options: unknown,
  command: Command,
): Promise<void> {
  if (!(SHELLS as readonly string[]).includes(shell))
    throw new CliError(`Unknown shell: use one of ${SHELLS.join(", ")}.`, EXIT.invalid);
  const program = command.parent as Command;
  await write(io.stdout, GENERATORS[shell as Shell](program));
}
