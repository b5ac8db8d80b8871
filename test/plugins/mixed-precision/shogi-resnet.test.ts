/**
 * The mixed-precision plugin on the FULL demo network (buildShogiResNet(): 59 weights,
 * 1,323,716 float32 bytes), through the whole pipeline: wasm backend slot, then the
 * plugin; the pipeline re-validates every result against the original on cpu.
 * First as `kiln demo` runs it (no samples: one synthetic board, 8 validation rows), then
 * with 8 sample boards: 8 samples, 4 perturbations, x10, batch 16 = 64 rows per output,
 * a stricter check under which the same budgets keep more weights at 2 bytes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import type { OptimizedModel } from '../../../src/core/pipeline/optimized-model.js';
import type { Decision, KilnReport } from '../../../src/core/pipeline/report.js';
import { saveArtifactsToDisk } from '../../../src/io/model-files.js';
import { optimize } from '../../../src/optimize.js';
import { buildShogiResNet } from '../../../src/zoo/shogi-resnet.js';
import { comparePredictions } from '../../helpers/predictions.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';
import { maxDiff, plainLoad, weightRows } from './helpers.js';

const FLOAT32_BYTES = 1_323_716;
const LARGE_WEIGHTS = 11; // 9 3x3 convs, policy_conv (1728), value_dense (5184): the weights of >= 1024 elements
const RUN = { backend: { preference: ['wasm'] }, benchmark: { warmup: 1, iterations: 5, endToEnd: false } };

describe('mixed-precision on the demo shogi ResNet', function () {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  let dir: string;

  before(async () => {
    model = buildShogiResNet();
    x = tf.randomNormal([8, 9, 9, 46], 0, 1, 'float32', 5);
    dir = await makeTempDir('kiln-mixed-precision-');
  });
  after(async () => {
    model.dispose();
    x.dispose();
    await removeTempDir(dir);
  });
  afterEach(async () => {
    await tf.setBackend('cpu'); // the optimised model switches tf.js to wasm on its first call
  });

  const run = (pipeline: object[]) => optimize(model, { sampleInputs: [x], config: { ...RUN, pipeline } });
  const mixed = (options: object) => ({ name: 'mixed-precision', options });
  const decisionsOf = (report: KilnReport) => report.decisions.filter((d) => d.plugin === 'mixed-precision');

  /** Saves the optimised model's files, loads them with plain tf.js, and checks it is the validated model, exactly. */
  async function expectPlainLoadReproduces(optimized: OptimizedModel, name: string): Promise<void> {
    const out = path.join(dir, name);
    await saveArtifactsToDisk(optimized.artifacts!, out);
    const manifest = JSON.parse(await fs.readFile(path.join(out, 'model.json'), 'utf8')).weightsManifest as {
      weights: tf.io.WeightsManifestEntry[];
    }[];
    const specs = manifest.flatMap((g) => g.weights);
    expect(specs.filter((s) => s.quantization).length).to.be.greaterThan(0);
    await tf.setBackend(optimized.backend);
    const plain = await plainLoad(out);
    try {
      for (const inputs of [x, tf.mul(x, 10)]) {
        comparePredictions(optimized, plain, inputs, (want, got) =>
          expect(maxDiff(want, got), 'plain tf.loadLayersModel vs the model Kiln validated').to.equal(0),
        );
        if (inputs !== x) inputs.dispose();
      }
      // The weights are the same float32 values, bit for bit.
      const validated = new Map(optimized.layersModel!.weights.map((w) => [w.originalName, w.read().dataSync()]));
      for (const w of plain.weights)
        expect(
          Buffer.compare(Buffer.from(w.read().dataSync().buffer), Buffer.from(validated.get(w.originalName)!.buffer)),
          w.originalName,
        ).to.equal(0);
    } finally {
      plain.dispose();
    }
  }

  describe('as `kiln demo` runs it: no sample inputs, so one synthetic board (seeded), 8 validation rows', () => {
    let float16: OptimizedModel;
    let auto: OptimizedModel;
    let f16: Decision;
    let a: Decision;
    const demo = (pipeline: object[]) => optimize(model, { config: { ...RUN, pipeline } });

    before(async () => {
      const r1 = await demo([mixed({ policy: 'float16', budgets: { '*': { atol: 1e-3 } } })]);
      float16 = r1.model;
      f16 = decisionsOf(r1.report)[0]!;
      const r2 = await demo([mixed({ policy: 'auto', budgets: { policy: { argmaxAgreement: 0.99 }, value: { atol: 1e-2 } } })]);
      auto = r2.model;
      a = decisionsOf(r2.report)[0]!;
    });
    after(() => {
      float16?.dispose();
      auto?.dispose();
    });

    it('float16 holds atol 1e-3 on every output: 0.504x the float32 bytes', () => {
      expect(f16.status, f16.reason).to.equal('applied');
      expect(f16.metrics.bytesAfter).to.equal(667_076);
      expect((f16.metrics.bytesAfter as number) / FLOAT32_BYTES).to.be.at.most(0.51);
      expect(f16.metrics['budget.policy.maxAbsDiff']).to.be.at.most(1e-3);
      expect(f16.metrics['budget.value.maxAbsDiff']).to.be.at.most(1e-3);
    });

    it('auto under policy argmax agreement >= 0.99 and value atol 1e-2 stores all 11 large kernels as uint8: 0.256x', () => {
      expect(a.status, a.reason).to.equal('applied');
      expect(a.metrics.bytesAfter).to.equal(338_756);
      expect((a.metrics.bytesAfter as number) / FLOAT32_BYTES).to.be.at.most(0.35);
      expect(a.metrics['budget.policy.argmaxAgreement']).to.be.at.least(0.99);
      expect(a.metrics['budget.value.maxAbsDiff']).to.be.at.most(1e-2);
      expect(
        weightRows(a)
          .filter((r) => r.precision === 'uint8')
          .every((r) => r.rounding === 'error-feedback'),
      ).to.equal(true);
      expect(
        a.notes.some((n) => /^the budget checks and calibration rest on 1 sample row/.test(n)),
        'the few-rows warning',
      ).to.equal(true);
    });

    it('both artifacts load with plain tf.loadLayersModel and reproduce the validated outputs exactly', async () => {
      await expectPlainLoadReproduces(float16, 'demo-float16');
      await expectPlainLoadReproduces(auto, 'demo-auto');
    });
  });

  describe('fixed policies, and budgets that cannot be met', () => {
    let optimized: OptimizedModel;
    let decisions: Decision[];

    before(async () => {
      // Three slots on one reference: an impossible budget, float16 held to atol 1e-3, float16 held to atol 1e-2.
      const result = await run([
        mixed({ policy: 'auto', budgets: { '*': { atol: 1e-9 } } }),
        mixed({ policy: 'float16', budgets: { '*': { atol: 1e-3 } } }),
        mixed({ policy: 'float16', budgets: { '*': { atol: 1e-2 } } }),
      ]);
      optimized = result.model;
      decisions = decisionsOf(result.report);
    });
    after(() => optimized?.dispose());

    it('a budget that cannot be met (atol 1e-9) is rejected with the reason, every weight left float32', () => {
      const d = decisions[0]!;
      expect(d.status).to.equal('rejected');
      // wasm's float32 kernels alone differ from the cpu reference by more than 1e-9.
      expect(d.reason).to.match(
        /^the budget cannot be met even with every weight float32 \(on wasm\): output "(policy|value)" differs by \d\.\d\de-\d+ \(allowed 1\.00e-9.*; every weight stays float32$/,
      );
      expect(weightRows(d)).to.have.lengthOf(59);
      expect(weightRows(d).every((r) => r.precision === 'float32')).to.equal(true);
      expect(d.metrics['weights.float32']).to.equal(59);
      expect(d.metrics.weightBytesStored).to.equal(FLOAT32_BYTES);
    });

    it('float16 held to atol 1e-3 is rejected, with the output and input set that break it', () => {
      // Measured on this network: float16 weights move `value` by ~2e-3 on the samples and `policy` by ~3e-3 at x10.
      const d = decisions[1]!;
      expect(d.status).to.equal('rejected');
      expect(d.reason).to.match(
        /^policy float16 \(667076 bytes\) breaks the budget: output "(policy|value)" differs by \d\.\d\de-3 \(allowed 1\.00e-3.*\) at \[\d+,\d+\] on input set "[^"]+": expected .*; every weight stays float32$/,
      );
      const rows = weightRows(d);
      expect(rows.every((r) => r.precision === 'float32')).to.equal(true);
      expect(rows.filter((r) => /^kept: .*float16 alone uses/.test(String(r.note)))).to.have.lengthOf(LARGE_WEIGHTS);
    });

    it('float16 within atol 1e-2: at most 0.51x the float32 bytes, validated by the pipeline, compute stated as float32', () => {
      const d = decisions[2]!;
      expect(d.status, d.reason).to.equal('applied');
      expect(d.metrics.bytesBefore).to.equal(FLOAT32_BYTES);
      expect(d.metrics.bytesAfter).to.equal(667_076);
      expect((d.metrics.bytesAfter as number) / FLOAT32_BYTES).to.be.at.most(0.51);
      expect(optimized.artifactBytes).to.equal(667_076);
      expect(d.metrics['weights.float16']).to.equal(LARGE_WEIGHTS);
      expect(d.metrics['budget.policy.maxAbsDiff']).to.be.below(1e-2);
      expect(d.metrics['budget.value.maxAbsDiff']).to.be.below(1e-2);
      expect(d.reason).to.match(
        /^1\.98x smaller \(1323716 -> 667076 bytes\), .*; within budget: policy maxAbsDiff [\d.e-]+ \(<= 0\.01 \+ 0 x \|expected\|\), value maxAbsDiff/,
      );
      expect(d.notes).to.include(
        'compute stays float32 on wasm: tf.js dequantises the stored weights to float32 at load, and the wasm backend computes in float32; the gain is the size of the model files (load time and inference speed not measured)',
      );
      expect(
        d.notes.some((n) =>
          /^block0_conv1\/kernel: float16, 147456 -> 73728 bytes, error contribution \d\.\d\de-\d of the budget \(max \|diff\| \d\.\d\de-\d alone\)$/.test(
            n,
          ),
        ),
      ).to.equal(true);
      const rows = weightRows(d);
      expect(rows.find((r) => r.weight === 'block0_conv1/kernel')).to.deep.include({
        shape: '3x3x64x64',
        precision: 'float16',
        bytesBefore: 147456,
        bytesAfter: 73728,
      });
      expect(rows.find((r) => r.weight === 'stem_bn/gamma')).to.deep.include({
        precision: 'float32',
        bytesBefore: 256,
        bytesAfter: 256,
        note: '64 elements, under minElements 1024',
      });
    });

    it('the float16 artifact loads with plain tf.loadLayersModel and reproduces the validated outputs exactly', async () => {
      await expectPlainLoadReproduces(optimized, 'float16');
    });
  });

  describe('auto under the budget of the issue: policy argmax agreement >= 0.99, value atol 1e-2', () => {
    let optimized: OptimizedModel;
    let d: Decision;
    let report: KilnReport;

    before(async () => {
      const result = await run([mixed({ policy: 'auto', budgets: { policy: { argmaxAgreement: 0.99 }, value: { atol: 1e-2 } } })]);
      optimized = result.model;
      report = result.report;
      d = decisionsOf(report)[0]!;
    });
    after(() => optimized?.dispose());

    it('is applied within the budget, every achieved value reported', () => {
      expect(d.status, d.reason).to.equal('applied');
      expect(d.metrics['budget.policy.argmaxAgreement']).to.be.at.least(0.99);
      expect(d.metrics['budget.value.maxAbsDiff']).to.be.at.most(1e-2);
      expect(report.validation.budget).to.deep.equal({ policy: { argmaxAgreement: 0.99 }, value: { atol: 1e-2 } });
      expect(d.reason).to.match(/within budget: policy argmaxAgreement 1 \(>= 0\.99\), value maxAbsDiff [\d.e-]+ \(<= 0\.01/);
    });

    it("stores some block convs as uint8 with error-feedback codes, the rest at 2 bytes: 0.387x here, short of the issue's 0.35x", () => {
      // Measured: 4 of the 8 block convs, policy_conv and value_dense fit as uint8 with error-feedback codes
      // (512,708 bytes); the fifth block conv breaks `value` atol 1e-2 in combination (see docs/mixed-precision.md).
      expect((d.metrics.bytesAfter as number) / FLOAT32_BYTES).to.be.at.most(0.4);
      const rows = weightRows(d).filter((r) => (r.bytesBefore as number) >= 4096);
      expect(rows).to.have.lengthOf(LARGE_WEIGHTS);
      for (const r of rows) {
        expect(['uint16', 'float16', 'uint8'], String(r.weight)).to.include(r.precision);
        expect(r.errorContribution as number).to.be.below(1);
      }
      const uint8 = rows.filter((r) => r.precision === 'uint8');
      expect(uint8.length).to.be.at.least(4);
      expect(uint8.every((r) => r.rounding === 'error-feedback')).to.equal(true);
      expect(rows.filter((r) => r.precision === 'uint16').every((r) => r.rounding === 'nearest')).to.equal(true);
      expect(d.metrics.errorFeedbackKernels).to.equal(LARGE_WEIGHTS);
      expect(
        d.notes.some((n) =>
          /^uint8 rounding: error feedback \(GPTQ\) for 11 kernel\(s\), calibrated on the layer inputs of the 8 sample row\(s\)/.test(n),
        ),
      ).to.equal(true);
    });

    it('the artifact loads with plain tf.loadLayersModel and reproduces the validated outputs exactly', async () => {
      await expectPlainLoadReproduces(optimized, 'auto-strict');
    });
  });

  describe("rounding to nearest under the same budget (the tf.js converter's rounding)", () => {
    let d: Decision;

    before(async () => {
      const result = await run([
        mixed({ policy: 'auto', rounding: 'nearest', budgets: { policy: { argmaxAgreement: 0.99 }, value: { atol: 1e-2 } } }),
      ]);
      result.model.dispose();
      d = decisionsOf(result.report)[0]!;
    });

    it('fits no weight as uint8: every per-tensor uint8 alone moves value by over 1e-2 or flips a policy row, so 0.504x', () => {
      expect(d.status, d.reason).to.equal('applied');
      expect(d.metrics['weights.uint8']).to.equal(0);
      expect(d.metrics.bytesAfter).to.equal(667_076);
      expect(d.metrics.errorFeedbackKernels).to.equal(undefined);
    });
  });

  describe('auto under a looser budget: argmax agreement >= 0.98, value atol 3e-2', () => {
    let optimized: OptimizedModel;
    let d: Decision;

    before(async () => {
      const result = await run([mixed({ policy: 'auto', budgets: { policy: { argmaxAgreement: 0.98 }, value: { atol: 3e-2 } } })]);
      optimized = result.model;
      d = decisionsOf(result.report)[0]!;
    });
    after(() => optimized?.dispose());

    it('stores every large weight as uint8 (error feedback): 0.256x within the budget', () => {
      expect(d.status, d.reason).to.equal('applied');
      expect(d.metrics.bytesAfter).to.equal(338_756);
      expect(d.metrics['weights.uint8']).to.equal(LARGE_WEIGHTS);
      expect(d.metrics['budget.policy.argmaxAgreement']).to.be.at.least(0.98);
      expect(d.metrics['budget.value.maxAbsDiff']).to.be.at.most(3e-2);
    });

    it('the artifact loads with plain tf.loadLayersModel and reproduces the validated outputs exactly', async () => {
      await expectPlainLoadReproduces(optimized, 'auto-loose');
    });
  });
});
