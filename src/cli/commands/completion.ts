import type { Command } from 'commander';
import { HiveError } from '../../core/errors.js';

/** Shell completion scripts: `eval "$(hive completion bash)"` or `hive completion zsh > ~/.zfunc/_hive`. */
export function register(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash or zsh)')
    .argument('<shell>', 'bash | zsh')
    .action((shell: string) => {
      const commands = program.commands.map((c) => c.name()).filter((n) => n !== 'help');
      const options = (name: string) =>
        program.commands
          .find((c) => c.name() === name)
          ?.options.map((o) => o.long)
          .filter(Boolean)
          .join(' ') ?? '';
      if (shell === 'bash') {
        const cases = commands.map((c) => `    ${c}) opts="${options(c)}" ;;`).join('\n');
        console.log(`_hive() {
  local cur=\${COMP_WORDS[COMP_CWORD]} opts
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=( $(compgen -W "${commands.join(' ')}" -- "$cur") ); return; fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); else COMPREPLY=( $(compgen -f -- "$cur") ); fi
}
complete -F _hive hive`);
      } else if (shell === 'zsh') {
        const cases = commands
          .map(
            (c) =>
              `    ${c}) _arguments ${options(c)
                .split(' ')
                .filter(Boolean)
                .map((o) => `'${o}[]'`)
                .join(' ')} '*:file:_files' ;;`,
          )
          .join('\n');
        console.log(`#compdef hive
_hive() {
  if (( CURRENT == 2 )); then compadd ${commands.join(' ')}; return; fi
  case $words[2] in
${cases}
  esac
}
compdef _hive hive`);
      } else {
        throw new HiveError('HIVE_ERR_VALIDATION', `unknown shell "${shell}": use bash or zsh`);
      }
    });
}
