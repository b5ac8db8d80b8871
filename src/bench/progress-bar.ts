import cliProgress from 'cli-progress';
import type { BenchObserver, CellKey } from './engine.js';
import { formatMs } from './format.js';
import type { CellResult } from './types.js';

const label = (c: CellKey) => `${c.model} ${c.backend} b${c.batch}`;

/** One line per finished cell: what a log (a pipe, CI) gets instead of a bar. */
export function cellLine(cell: CellResult, index: number, total: number): string {
  const figures = cell.variants.filter((v) => v.medianMs !== undefined && !v.sameAs).map((v) => `${v.name} ${formatMs(v.medianMs)}`);
  const errors = cell.variants.filter((v) => v.error && !v.sameAs).map((v) => `${v.name} failed`);
  const slow = cell.variants.filter((v) => v.skipped?.startsWith('slow cell')).length;
  const notApplicable = cell.variants.filter((v) => v.skipped && !v.skipped.startsWith('slow cell')).map((v) => v.name);
  const notes = [
    ...(slow ? [`${slow} optional variant(s) left out: slow cell`] : []),
    ...(notApplicable.length ? [`not for this model: ${notApplicable.join(', ')}`] : []),
  ];
  return `[${index + 1}/${total}] ${label(cell)}: ${[...figures, ...errors].join(', ')} ms (${cell.rounds} rounds${notes.map((n) => `; ${n}`).join('')})`;
}

/**
 * Progress while the suite runs, on stderr: a bar (cells done, and the current cell's
 * phase and round) when stderr is a terminal; otherwise one line per finished cell,
 * unless `quiet`.
 */
export function benchProgress(
  stream: NodeJS.WriteStream = process.stderr,
  options: { quiet?: boolean } = {},
): BenchObserver & { stop(): void } {
  if (!stream.isTTY) {
    return {
      cellDone: (cell, index, total) => {
        if (!options.quiet) stream.write(`${cellLine(cell, index, total)}\n`);
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'bench |{bar}| {value}/{total} cells | {cell}: {phase}',
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
      forceRedraw: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let active = false;
  let current = '';
  return {
    cellStarted(cell, index, total) {
      current = label(cell);
      if (!active) {
        bar.start(total, index, { cell: current, phase: 'starting' });
        active = true;
      }
      bar.update(index, { cell: current, phase: 'starting' });
    },
    phase(_cell, what, done, planned) {
      if (active) bar.update({ cell: current, phase: planned ? `${what} ${done}/${planned}` : what });
    },
    cellDone(cell, index) {
      if (!active) return;
      // Keep a record of each finished cell above the bar (cleared line, then the bar redraws).
      if (!options.quiet) stream.write(`\r\x1b[2K${cellLine(cell, index, bar.getTotal())}\n`);
      bar.update(index + 1, { cell: label(cell), phase: 'done' });
    },
    stop() {
      if (active) bar.stop();
      active = false;
    },
  };
}
