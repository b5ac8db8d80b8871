import cliProgress from 'cli-progress';
import type { Decision } from '../core/pipeline/report.js';
import type { PipelineObserver } from '../core/pipeline/pipeline.js';

/**
 * A progress bar on stderr while candidates are benchmarked, shown only when stderr
 * is a terminal (quiet when piped or under CI).
 */
export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): PipelineObserver & { stop(): void } {
  if (!stream.isTTY) return { stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream, format: '{label} |{bar}| {value}/{total} timed runs', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let active = false;
  const stop = () => {
    if (active) bar.stop();
    active = false;
  };
  return {
    candidateStarted(plugin: string) {
      stop();
      stream.write(`trying ${plugin} ...\n`);
    },
    benchmarkProgress(label: string, done: number, total: number) {
      if (!active) {
        bar.start(total, 0, { label });
        active = true;
      }
      bar.update(done, { label });
      if (done >= total) stop();
    },
    decided(_decision: Decision) {
      stop();
    },
    stop,
  };
}
