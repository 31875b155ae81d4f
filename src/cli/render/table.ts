import Table from 'cli-table3';

/** A plain table: no borders off a TTY so scripts can cut columns; boxed on a TTY. */
export function table(head: string[], rows: (string | number | null | undefined)[][]): string {
  const plain = !process.stdout.isTTY;
  const t = new Table({
    head,
    style: {
      head: plain ? [] : ['bold'],
      border: [],
      compact: true,
      'padding-left': plain ? 0 : 1,
      'padding-right': plain ? 2 : 1,
    },
    ...(plain
      ? {
          chars: {
            top: '',
            'top-mid': '',
            'top-left': '',
            'top-right': '',
            bottom: '',
            'bottom-mid': '',
            'bottom-left': '',
            'bottom-right': '',
            left: '',
            'left-mid': '',
            mid: '',
            'mid-mid': '',
            right: '',
            'right-mid': '',
            middle: '',
          },
        }
      : {}),
  });
  for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? '—' : String(c))));
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}
