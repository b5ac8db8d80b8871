import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { registerEngine } from '../../src/core/engines/engine-registry.js';
import type { ExecutionEngine } from '../../src/core/engines/execution-engine.js';
import { registerModelFormat } from '../../src/core/formats/format-registry.js';
import { AVAILABLE } from '../../src/core/plugin.js';
import type { KilnModel } from '../../src/core/kiln-model.js';
import { loadStockModelFromDisk } from '../../src/io/load-stock-model.js';
import { saveArtifactsToDisk } from '../../src/io/model-files.js';
import { optimize } from '../../src/optimize.js';
import { defineBackendPlugin } from '../../src/plugins/backend/define-backend-plugin.js';
import { affineFormat, affineModel, AffineKilnModel } from '../helpers/affine-format.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { FAST_CONFIG } from '../helpers/tiny-models.js';

/** An engine outside tf.js, as "Add an engine" walks through it: it runs the model's own computation, under its own name. */
const boxEngine: ExecutionEngine = {
  name: 'box',
  description: 'a stand-in engine outside tf.js (computes with the cpu kernels)',
  start: async () => AVAILABLE,
  async prepare(model: KilnModel): Promise<KilnModel> {
    const { format, model: stock } = model.stock!;
    const copy = format.wrap(await format.copyTo(stock, 'cpu'), 'cpu', true);
    return {
      ...pick(copy),
      backend: 'box',
      description: 'the box engine',
      predict: (x) => copy.predict(x),
      trainableVariables: () => [],
      dispose: () => copy.dispose(),
    };
  },
};

function pick(m: KilnModel): Pick<KilnModel, 'inputs' | 'outputNames' | 'stock'> {
  return { inputs: m.inputs, outputNames: m.outputNames, stock: m.stock };
}

describe('extension points: a third model format and an engine outside tf.js, each one adapter', () => {
  it('optimize() takes a model of a format registered in a child container, validates every candidate on it, and leaves it untouched', async () => {
    const child = container.createChildContainer();
    registerModelFormat(affineFormat, child);
    const user = affineModel(8, 3);
    const before = [...user.w.dataSync()];
    const tensors = tf.memory().numTensors;
    const x = tf.randomNormal([4, 8], 0, 1, 'float32', 7);
    const { model, report } = await optimize(user, {
      container: child,
      sampleInputs: [x],
      config: { ...FAST_CONFIG, backend: { preference: ['wasm', 'cpu'] } },
    });
    try {
      const byPlugin = Object.fromEntries(report.decisions.map((d) => [d.plugin, d]));
      expect(byPlugin['backend-wasm']!.status, byPlugin['backend-wasm']!.reason).to.be.oneOf(['applied', 'rejected']);
      expect(byPlugin['backend-wasm']!.metrics.maxAbsDiff, 'the wasm copy was validated').to.be.a('number');
      expect(byPlugin['graph-compile']!.status, byPlugin['graph-compile']!.reason).to.be.oneOf(['applied', 'rejected']);
      const maxDiff = tf.tidy(
        () => tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, new AffineKilnModel(user, 'cpu', false).predict(x)))).dataSync()[0]!,
      );
      expect(maxDiff).to.be.below(1e-4);
    } finally {
      model.dispose();
    }
    expect([...user.w.dataSync()]).to.deep.equal(before);
    tf.dispose(x);
    expect(tf.memory().numTensors).to.equal(tensors);
    affineFormat.dispose(user);
  });

  it('a model no registered format owns is an InputError that names the formats Kiln takes', async () => {
    const error = await expectRejects(
      optimize(affineModel(2, 2), { config: FAST_CONFIG }),
      /Kiln cannot optimise this object: it takes tf\.LayersModel or tf\.GraphModel\./,
    );
    expect((error as { code?: string }).code).to.equal('INPUT_INVALID');
  });

  it('loadStockModelFromDisk picks the format from model.json; an unknown format field is named in the error', async () => {
    const child = container.createChildContainer();
    registerModelFormat(affineFormat, child);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-format-'));
    const user = affineModel(3, 2);
    try {
      await saveArtifactsToDisk(await affineFormat.save(user), dir);
      const loaded = await loadStockModelFromDisk(dir, { container: child });
      expect(loaded.format.name).to.equal('affine-model');
      expect([...(loaded.model as typeof user).b.dataSync()]).to.deep.equal([...user.b.dataSync()]);
      loaded.format.dispose(loaded.model);
      await expectRejects(
        loadStockModelFromDisk(dir),
        /is a model of format "affine-model", which Kiln cannot load: it takes tf\.LayersModel/,
      );
    } finally {
      affineFormat.dispose(user);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an engine outside tf.js is one registration and one backend plugin; graph-compile and op-fusion step aside for its models', async () => {
    const child = container.createChildContainer();
    registerModelFormat(affineFormat, child);
    registerEngine(boxEngine, child);
    defineBackendPlugin(boxEngine, { container: child });
    const user = affineModel(8, 3);
    const x = tf.randomNormal([2, 8], 0, 1, 'float32', 3);
    // minSpeedup 0: the box is kept whatever its speed, so the later slots see a model outside tf.js.
    const config = { ...FAST_CONFIG, backend: { preference: ['box', 'cpu'] }, benchmark: { ...FAST_CONFIG.benchmark, minSpeedup: 0.0001 } };
    const { model, report } = await optimize(user, { container: child, sampleInputs: [x], config });
    try {
      const byPlugin = Object.fromEntries(report.decisions.map((d) => [d.plugin, d]));
      expect(byPlugin['backend-box']!.status, byPlugin['backend-box']!.reason).to.equal('applied');
      expect(byPlugin['graph-compile']!.status).to.equal('skipped');
      expect(byPlugin['graph-compile']!.reason).to.equal('the model runs on box, outside tf.js: there are no tf.js kernels to compile');
      expect(byPlugin['op-fusion']!.reason).to.equal('the model runs on box, outside tf.js: there are no tf.js layers or kernels to fuse');
    } finally {
      model.dispose();
      tf.dispose(x);
      affineFormat.dispose(user);
    }
  });
});
