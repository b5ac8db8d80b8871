import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * Whether the optional peer @tensorflow/tfjs-node is here. It is not a dependency (its
 * install script downloads libtensorflow), so `npm test` runs without it; where a
 * developer has installed it, the default backend preference picks `tensorflow`, and
 * tests that expect it absent (or a wasm backend to win) must expect that instead.
 */
export interface TfjsNodeProbe {
  /** The package resolves from the repository. */
  readonly installed: boolean;
  /** It loads and registers the "tensorflow" backend (checked in a child process). */
  readonly loads: boolean;
  /** Why it does not load; '' when it does. */
  readonly why: string;
}

export const TFJS_NODE = '@tensorflow/tfjs-node';

let probed: TfjsNodeProbe | undefined;

/**
 * Probes @tensorflow/tfjs-node once per process. Loading it is tried in a child
 * process: in this one it would register the "tensorflow" backend as a side effect,
 * which the stand-in tests of backend selection must not find.
 */
export function probeTfjsNode(): TfjsNodeProbe {
  if (probed) return probed;
  let resolved: string;
  try {
    resolved = createRequire(__filename).resolve(TFJS_NODE);
  } catch {
    return (probed = { installed: false, loads: false, why: `${TFJS_NODE} is not installed (an optional peer dependency)` });
  }
  const script = `const tf = require(${JSON.stringify(resolved)}); process.exit(tf.findBackendFactory('tensorflow') ? 0 : 3);`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (child.status === 0) return (probed = { installed: true, loads: true, why: '' });
  const last = `${child.stderr ?? ''}`.trim().split('\n').filter(Boolean).pop() ?? `exit ${child.status}`;
  return (probed = { installed: true, loads: false, why: `${TFJS_NODE} is installed but does not load here: ${last}` });
}

/** Logs why and skips the test (or hook) unless @tensorflow/tfjs-node loads here. */
export function skipUnlessTfjsNodeLoads(context: Mocha.Context): void {
  const probe = probeTfjsNode();
  if (probe.loads) return;
  console.log(`      skipped: ${probe.why}`);
  context.skip();
}

/** Logs why and skips the test when @tensorflow/tfjs-node is installed (the test is about its absence). */
export function skipIfTfjsNodeInstalled(context: Mocha.Context): void {
  if (!probeTfjsNode().installed) return;
  console.log(`      skipped: ${TFJS_NODE} is installed here; this test is about its absence`);
  context.skip();
}
