import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { cloneLayersModel } from '../../../../src/formats/layers-model/clone-layers-model.js';
import { withBackend } from '../../../../src/core/backend-scope.js';
import { allclose } from '../../../../src/core/validation/allclose.js';
import { DEFAULT_BACKEND_PREFERENCE } from '../../../../src/config/kiln-config.js';
import { optimize } from '../../../../src/optimize.js';
import {
  defaultWasmThreads,
  startWasmThreads,
  stopWasmThreads,
  WASM_THREADS_BACKEND,
  wasmThreadsInfo,
} from '../../../../src/engines/tfjs/wasm-threads/threaded-wasm.js';
import { nodeImporter } from '../../../../src/core/tokens.js';
import { listZoo, ZOO, zooSampleInputs, type ZooEntry } from '../../../../src/zoo/index.js';
import { tinyConvModel } from '../../../helpers/tiny-models.js';
import { decision, otherVersionImporter, outputsOf, threadsConfig, withImporter, wrappedFactoryImporter } from './helpers.js';

const ATOL = 1e-5;
const RTOL = 1e-4;

/** Runs `entry` at `batch` on wasm and on wasm-threads (both up already) and compares every output within the fp32 tolerance. */
async function expectMatchesWasm(entry: ZooEntry, batch: number, small: boolean): Promise<number> {
  const model = entry.build({ small });
  const onWasm = await cloneLayersModel(model, 'wasm');
  const onThreads = await cloneLayersModel(model, WASM_THREADS_BACKEND);
  let worst = 0;
  try {
    const single = withBackend('wasm', () => {
      const x = zooSampleInputs(entry, batch, 3);
      const y = outputsOf(onWasm.predict(x.length === 1 ? x[0]! : x)).map((t) => t.dataSync().slice());
      tf.dispose(x);
      return y;
    });
    const threaded = withBackend(WASM_THREADS_BACKEND, () => {
      const x = zooSampleInputs(entry, batch, 3);
      const out = outputsOf(onThreads.predict(x.length === 1 ? x[0]! : x));
      const backends = out.map((t) => tf.engine().state.tensorInfo.get(t.dataId)?.backend);
      expect(
        backends.every((b) => b === tf.findBackend(WASM_THREADS_BACKEND)),
        `${entry.name}: outputs live on wasm-threads`,
      ).to.equal(true);
      const y = out.map((t) => t.dataSync().slice());
      tf.dispose([...x, ...out]);
      return y;
    });
    expect(threaded).to.have.length(single.length);
    single.forEach((want, k) => {
      const close = allclose(want, threaded[k]!, ATOL, RTOL);
      expect(close.ok, `${entry.name} output ${k}: max |diff| ${close.maxAbsDiff}`).to.equal(true);
      worst = Math.max(worst, close.maxAbsDiff);
    });
  } finally {
    onWasm.dispose();
    onThreads.dispose();
    model.dispose();
  }
  return worst;
}

describe('backend-wasm-threads', () => {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  beforeEach(() => {
    model = tinyConvModel(7);
    x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 4);
  });
  afterEach(() => {
    tf.dispose(x);
    model.dispose();
  });
  after(() => stopWasmThreads());

  it('comes before wasm in the default preference', () => {
    expect(DEFAULT_BACKEND_PREFERENCE.indexOf('wasm-threads')).to.equal(DEFAULT_BACKEND_PREFERENCE.indexOf('wasm') - 1);
  });

  it('starts the threaded build, reports the threads that run, and is applied after validation', async () => {
    await stopWasmThreads();
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm'); // its own (single-threaded) emscripten module adds process listeners too
    await tf.setBackend('cpu');
    const listeners = process.listeners('uncaughtException').length + process.listeners('unhandledRejection').length;
    const threads = Math.max(2, defaultWasmThreads());
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      config: threadsConfig(['wasm-threads', 'wasm'], { threads }),
    });
    const d = decision(report.decisions, 'backend-wasm-threads');
    expect(d.status, d.reason).to.equal('applied');
    expect(d.metrics).to.include({ threads, pthreadsRunning: threads - 1 });
    expect(d.metrics.maxAbsDiff).to.be.a('number').below(1e-4);
    expect(d.metrics.speedupVsWasm).to.be.a('number').above(0);
    expect(decision(report.decisions, 'backend-wasm').status).to.equal('skipped');
    expect(report.backend).to.equal('wasm-threads');
    const y = outputsOf(optimized.predict(x));
    expect(tf.engine().state.tensorInfo.get(y[0]!.dataId)?.backend).to.equal(tf.findBackend('wasm-threads'));
    tf.dispose(y);
    optimized.dispose();
    // Scoped patches are back: no global Worker (Node 20 has none), no emscripten process listeners.
    expect('Worker' in globalThis).to.equal(false);
    expect(process.listeners('uncaughtException').length + process.listeners('unhandledRejection').length).to.equal(listeners);
    expect(wasmThreadsInfo()).to.include({ threads, requested: threads, pthreadsRunning: threads - 1 });
  });

  it('runs every zoo model and matches single-threaded wasm within the fp32 tolerance (the shogi ResNet at batch 32 too)', async () => {
    const up = await startWasmThreads({ threads: Math.max(2, defaultWasmThreads()), importModule: nodeImporter });
    expect(up.available, up.available ? '' : up.reason).to.equal(true);
    await import('@tensorflow/tfjs-backend-wasm');
    expect(await tf.setBackend('wasm')).to.equal(true);
    await tf.setBackend('cpu');
    for (const entry of listZoo()) await expectMatchesWasm(entry, 8, true);
    const worst = await expectMatchesWasm(ZOO['shogi-resnet'], 32, false);
    expect(worst).to.be.below(1e-4);
  });

  it('steps aside for wasm when the threads are not faster than single-threaded wasm', async () => {
    // A speed-up no backend reaches: wasm-threads is rejected against wasm, then wasm and cpu against the cpu model.
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      config: threadsConfig(['wasm-threads', 'wasm'], {}, 1000),
    });
    const d = decision(report.decisions, 'backend-wasm-threads');
    expect(d.status).to.equal('rejected');
    expect(d.reason).to.match(
      /^not faster than single-threaded wasm: \d+\.\d\dx, below the required 1000x \(median [\d.]+ ms on wasm, [\d.]+ ms on wasm-threads with \d threads, \d+ interleaved runs( \((verdict clear|time budget spent)\))?, 95% interval [\d.]+x-[\d.]+x\)$/,
    );
    expect(decision(report.decisions, 'backend-wasm').status).to.equal('rejected');
    optimized.dispose();
  });

  it('with threads disabled by config (backend.threads: 1) is unavailable with the reason, and wasm runs', async () => {
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      config: threadsConfig(['wasm-threads', 'wasm'], { threads: 1 }),
    });
    expect(decision(report.decisions, 'backend-wasm-threads')).to.include({
      status: 'unavailable',
      reason: 'threads disabled by config (backend.threads: 1); the single-threaded wasm backend is the one to use',
    });
    expect(decision(report.decisions, 'backend-wasm').status).to.equal('applied');
    expect(report.backend).to.equal('wasm');
    optimized.dispose();
  });

  it('rejects backend.threads outside 1..8 in the config', async () => {
    let error: unknown;
    await optimize(model, { sampleInputs: [x], config: threadsConfig(['wasm-threads'], { threads: 9 }) }).catch((e: unknown) => {
      error = e;
    });
    expect(String((error as Error)?.message)).to.match(/backend\.threads/);
  });

  describe('a start that fails falls back to wasm with the reason, leaving nothing behind', () => {
    beforeEach(() => stopWasmThreads());

    it('a thread pool smaller than asked for (emscripten sees one core): workers terminated, globals restored', async () => {
      const listenersBefore = process.listeners('uncaughtException').length + process.listeners('unhandledRejection').length;
      const { importer, workers } = wrappedFactoryImporter((real, config) => {
        // What stock tfjs does on a 2-core machine: the pool follows emscripten_num_logical_cores() / 2.
        const locate = config.locateFile as (file: string, prefix: string) => string;
        const instantiateWasm = (imports: { env: object }, receive: (instance: object, module: object) => void) => {
          void readFile(locate('tfjs-backend-wasm-threaded-simd.wasm', ''))
            .then((bytes) =>
              (
                globalThis as unknown as {
                  WebAssembly: { instantiate(b: Uint8Array, i: object): Promise<{ instance: object; module: object }> };
                }
              ).WebAssembly.instantiate(bytes, { ...imports, env: { ...imports.env, emscripten_num_logical_cores: () => 2 } }),
            )
            .then((r) => receive(r.instance, r.module));
          return {};
        };
        return real(Object.assign(config, { instantiateWasm }));
      });
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        container: withImporter(importer),
        config: threadsConfig(['wasm-threads', 'wasm'], { threads: 2 }),
      });
      expect(decision(report.decisions, 'backend-wasm-threads')).to.include({
        status: 'unavailable',
        reason: 'the threaded build did not start: the thread pool has 1 thread(s), not the 2 asked for',
      });
      expect(decision(report.decisions, 'backend-wasm').status).to.equal('applied');
      expect(report.backend).to.equal('wasm');
      optimized.dispose();
      expect(workers.length, 'the real factory made its pool').to.equal(8);
      expect(
        workers.every((w) => w.threadId === -1),
        'every worker terminated',
      ).to.equal(true);
      expect('Worker' in globalThis).to.equal(false);
      expect(process.listeners('uncaughtException').length + process.listeners('unhandledRejection').length).to.equal(listenersBefore);
      expect(tf.findBackendFactory('wasm-threads')).to.equal(null);
      expect(tf.getKernelsForBackend('wasm-threads')).to.deep.equal([]);
    });

    it('a pthread worker that fails to load (the error would crash the process under stock emscripten)', async () => {
      const { importer, workers } = wrappedFactoryImporter((real, config) => {
        const locate = config.locateFile as (file: string, prefix: string) => string;
        const locateFile = (file: string, prefix: string) =>
          file.endsWith('.worker.js') ? `${__dirname}/no-such-worker.js` : locate(file, prefix);
        return real(Object.assign(config, { locateFile }));
      });
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        container: withImporter(importer),
        config: threadsConfig(['wasm-threads', 'wasm']),
      });
      const d = decision(report.decisions, 'backend-wasm-threads');
      expect(d.status).to.equal('unavailable');
      expect(d.reason).to.match(/^the threaded build did not start: a pthread worker failed: .*no-such-worker\.js/);
      expect(report.backend).to.equal('wasm');
      optimized.dispose();
      expect(
        workers.every((w) => w.threadId === -1),
        'every worker terminated',
      ).to.equal(true);
      expect('Worker' in globalThis).to.equal(false);
    });

    it('an emscripten factory that rejects', async () => {
      const { importer } = wrappedFactoryImporter(async () => {
        throw new Error('simulated: RuntimeError: Aborted(OOM)');
      });
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        container: withImporter(importer),
        config: threadsConfig(['wasm-threads', 'wasm']),
      });
      expect(decision(report.decisions, 'backend-wasm-threads')).to.include({
        status: 'unavailable',
        reason: 'the threaded build did not start: simulated: RuntimeError: Aborted(OOM)',
      });
      expect(report.backend).to.equal('wasm');
      optimized.dispose();
    });

    it('a tfjs-backend-wasm version it was not written for is unavailable rather than a gamble', async () => {
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        container: withImporter(otherVersionImporter('4.23.0')),
        config: threadsConfig(['wasm-threads', 'wasm']),
      });
      expect(decision(report.decisions, 'backend-wasm-threads')).to.include({
        status: 'unavailable',
        reason:
          "@tensorflow/tfjs-backend-wasm 4.23.0 is not a version it was written for (4.22.0); it relies on that release's emscripten internals, so it does not start on another",
      });
      expect(report.backend).to.equal('wasm');
      optimized.dispose();
    });
  });

  it('keeps its thread count once started: another count is unavailable with the reason', async () => {
    await stopWasmThreads();
    const first = await startWasmThreads({ threads: 2, importModule: nodeImporter });
    expect(first.available).to.equal(true);
    const again = await startWasmThreads({ threads: 3, importModule: nodeImporter });
    expect(again).to.deep.equal({
      available: false,
      reason:
        'wasm-threads already runs with 2 threads in this process, and the count is fixed once started (asked for 3; restart the process to change backend.threads)',
    });
    const same = await startWasmThreads({ threads: 2, importModule: nodeImporter });
    expect(same).to.equal(first);
  });

  it('starts afresh after tf.removeBackend("wasm-threads") disposed it', async () => {
    const first = await startWasmThreads({ threads: 2, importModule: nodeImporter });
    expect(first.available).to.equal(true);
    tf.removeBackend(WASM_THREADS_BACKEND);
    const again = await startWasmThreads({ threads: 2, importModule: nodeImporter });
    expect(again.available, again.available ? '' : again.reason).to.equal(true);
    expect(again).to.not.equal(first);
    expect(await tf.setBackend(WASM_THREADS_BACKEND)).to.equal(true);
    const y = tf.conv2d(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 2]) as tf.Tensor4D, 1, 'same');
    expect(Array.from(y.dataSync()).slice(0, 2)).to.deep.equal([8, 8]);
    tf.dispose(y);
    await tf.setBackend('cpu');
  });
});
