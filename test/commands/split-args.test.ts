import { describe, expect, it } from 'vitest';
import { expand, expandDeep } from '../../src/commands/expand.js';
import { requiredArguments } from '../../src/commands/hint.js';
import { splitArgs, splitInvocation } from '../../src/commands/split-args.js';
import { HiveError } from '../../src/core/errors.js';

describe('splitArgs', () => {
  it('handles quotes, escapes and empty arguments', () => {
    expect(splitArgs(`a "b c" 'd e' f\\ g "" ''`)).toEqual(['a', 'b c', 'd e', 'f g', '', '']);
    expect(splitArgs(`"say \\"hi\\"" 'it''s' "a\\nb" 'x\\y'`)).toEqual(['say "hi"', 'its', 'a\\nb', 'x\\y']);
    expect(splitArgs(`pre"mid dle"post`)).toEqual(['premid dlepost']);
    expect(splitArgs('  \t\n ')).toEqual([]);
    expect(splitArgs('')).toEqual([]);
  });

  it('expands nothing: variables, substitutions, globs and operators stay literal', () => {
    expect(splitArgs('$HOME $(pwd) `id` *.ts ; | && > out ~')).toEqual([
      '$HOME',
      '$(pwd)',
      '`id`',
      '*.ts',
      ';',
      '|',
      '&&',
      '>',
      'out',
      '~',
    ]);
    expect(splitArgs('"$HOME"')).toEqual(['$HOME']);
  });

  it('keeps text literal where sh would not: a trailing backslash, escaped newlines, unicode spaces', () => {
    expect(splitArgs('end\\')).toEqual(['end\\']);
    expect(splitArgs('a\\\nb')).toEqual(['a\nb']);
    expect(splitArgs('non\u00a0breaking')).toEqual(['non\u00a0breaking']);
  });

  it('refuses an unterminated quote with HIVE_ERR_COMMAND_ARGS', () => {
    expect(() => splitArgs('"open')).toThrow(HiveError);
    expect(() => splitArgs("it's")).toThrow(/single quote/);
  });
});

describe('splitInvocation', () => {
  it('separates the name (namespaces with :) from the raw argument string', () => {
    expect(splitInvocation('/git:review  src/a.ts ')).toEqual({ name: 'git:review', rest: 'src/a.ts' });
    expect(splitInvocation('  /status')).toEqual({ name: 'status', rest: '' });
    expect(splitInvocation('/x a\nb')).toEqual({ name: 'x', rest: 'a\nb' });
    // An escaped trailing space is part of the last argument.
    expect(splitInvocation('/x a\\ ')).toEqual({ name: 'x', rest: 'a\\ ' });
    expect(splitInvocation('/x a\\\\ ')).toEqual({ name: 'x', rest: 'a\\\\' });
  });

  it('refuses text that is not a command', () => {
    for (const bad of ['no slash', '/', '/bad!name', '/a::b', '//x'])
      expect(() => splitInvocation(bad), bad).toThrow(HiveError);
  });
});

describe('placeholders', () => {
  it('substitutes $ARGUMENTS, $1…$9 and 0-based $ARGUMENTS[N] as plain text', () => {
    expect(
      expand('all=$ARGUMENTS first=$1 second=$2 idx=$ARGUMENTS[1] missing=$9 ten=$10', 'x "y z"', [
        'x',
        'y z',
      ]),
    ).toBe('all=x "y z" first=x second=y z idx=y z missing= ten=x0');
    expect(expand('$ARGUMENTS[0]|$ARGUMENTS[5]|$0|$', '', ['a'])).toBe('a||$0|$');
  });

  it('is one pass: placeholders and replacement patterns inside arguments stay literal', () => {
    expect(expand('$1 $2', '', ['$2', 'nope'])).toBe('$2 nope');
    expect(expand('[$1]', '', ["$& $' $` $$"])).toBe("[$& $' $` $$]");
    expect(expand('$ARGUMENTS', '$1 $ARGUMENTS', ['q'])).toBe('$1 $ARGUMENTS');
  });

  it('expands every string of a nested value, not keys or other types', () => {
    expect(expandDeep({ $1: ['$1', { b: '$ARGUMENTS' }], n: 3, t: true, z: null }, 'q r', ['q'])).toEqual({
      $1: ['q', { b: 'q r' }],
      n: 3,
      t: true,
      z: null,
    });
  });

  it('reads required arguments from angle brackets in the hint', () => {
    expect(requiredArguments('<name> [--flag] <target dir>')).toEqual(['name', 'target dir']);
    expect(requiredArguments('[optional]')).toEqual([]);
    expect(requiredArguments(undefined)).toEqual([]);
  });
});
