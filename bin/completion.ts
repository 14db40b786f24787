/**
 * Bash completion for `skyport`, generated from each command's own usage
 * text, so that completion and help cannot drift apart.
 *
 * Owns the script's text only; bin/skyport.ts prints it.
 */

/** The `--flag` names a usage text mentions, in order, each once. */
export function flagsIn(usageText: string): string[] {
  return [...new Set([...usageText.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((match) => match[0]))];
}

/**
 * A bash script that completes the subcommand first, then that subcommand's
 * flags. `usages` maps each subcommand to its usage text.
 *
 * @example source <(skyport completion bash)
 */
export function bashCompletion(usages: Readonly<Record<string, string>>): string {
  const names = [...Object.keys(usages), "completion", "help"];
  const cases = Object.entries(usages).map(([name, text]) => `    ${name}) words="${[...new Set([...flagsIn(text), "--help"])].join(" ")}" ;;`);
  return [
    "# bash completion for skyport: source <(skyport completion bash)",
    "_skyport() {",
    '  local cur="${COMP_WORDS[COMP_CWORD]}" words',
    "  if [ \"$COMP_CWORD\" -eq 1 ]; then",
    `    COMPREPLY=($(compgen -W "${names.join(" ")} --help --version" -- "$cur"))`,
    "    return",
    "  fi",
    '  case "${COMP_WORDS[1]}" in',
    ...cases,
    '    completion) words="bash" ;;',
    '    *) words="" ;;',
    "  esac",
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    "}",
    "complete -o default -F _skyport skyport",
  ].join("\n");
}
