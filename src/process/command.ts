// Splits a command line into words like a POSIX shell's quoting does, without running a shell:
// no variables, globs, pipes or redirections. 'single' and "double" quotes group words, and a
// backslash escapes the next character (outside single quotes).
import { OptionError } from '../errors.js';

export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!)) word += command[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new OptionError(`Expected the \`command\` option to have balanced quotes, got \`${command}\``);
  if (inWord) words.push(word);
  return words;
}
