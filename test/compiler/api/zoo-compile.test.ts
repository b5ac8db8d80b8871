import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { compile } from '../../../src/compiler/api/compile.js';
import { listZoo, ZOO, zooSampleInputs, type ZooEntry } from '../../../src/zoo/index.js';
import { asList, expectTensorsClose, numDataIds } from './compile-helpers.js';

interface Case {
  readonly label: string;
  readonly entry: ZooEntry;
  readonly small: boolean;
}

const CASES: Case[] = [
  ...listZoo().map((entry) => ({ label: `${entry.name} (small)`, entry, small: true })),
  { label: 'mlp (full)', entry: ZOO.mlp, small: false },
];
const BATCHES = [1, 3];
const SEEDS = [0, 1, 2];

async function useBackend(name: string): Promise<void> {
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  expect(await tf.setBackend(name), `backend ${name} initialised`).to.equal(true);
  expect(tf.getBackend()).to.equal(name);
}

for (const backend of ['cpu', 'wasm']) {
  describe(`compile: every zoo model on ${backend}`, () => {
    before(async () => useBackend(backend));
    after(async () => useBackend('cpu'));

    for (const { label, entry, small } of CASES) {
      it(`${label}: compiled predict matches model.predict at batch ${BATCHES.join(' and ')}, one compiled graph per shape`, () => {
        const model = entry.build({ small });
        const compiled = compile(model);
        try {
          for (const batch of BATCHES) {
            for (const seed of SEEDS) {
              const xs = zooSampleInputs(entry, batch, seed);
              const x = xs.length === 1 ? xs[0]! : xs;
              const expected = model.predict(x);
              const got = compiled.predict(x);
              try {
                expect(asList(got).map((t) => t.shape)).to.deep.equal(entry.outputShapes.map((s) => [batch, ...s]));
                expectTensorsClose(got, expected, 1e-5, 1e-4, `${label} batch ${batch} seed ${seed}`);
                // the compiled outputs are computed on this backend
                for (const t of asList(got))
                  expect(
                    (
                      tf.engine() as unknown as { state: { tensorInfo: WeakMap<object, { backend: tf.KernelBackend }> } }
                    ).state.tensorInfo.get(t.dataId)!.backend,
                  ).to.equal(tf.engine().backend);
              } finally {
                tf.dispose([...xs, ...asList(expected), ...asList(got)]);
              }
            }
          }
          const stats = compiled.stats();
          expect(stats.eager, JSON.stringify(stats.eager)).to.deep.equal([]);
          expect(stats.compiled).to.have.length(BATCHES.length);
          expect(stats.calls).to.equal(BATCHES.length * SEEDS.length);
          expect(stats.compiledCalls).to.equal(BATCHES.length * SEEDS.length);
          expect(stats.eagerCalls).to.equal(0);
          const signatures = stats.compiled.map((p) => p.signature);
          expect(new Set(signatures).size).to.equal(BATCHES.length);
          BATCHES.forEach((batch, i) => {
            expect(signatures[i]).to.equal(`${backend}|inference|float32[${[batch, ...entry.inputShape].join(',')}]`);
          });
          for (const plan of stats.compiled) {
            expect(plan.kernelsTraced).to.be.greaterThan(0);
            expect(plan.kernelsAfterPasses).to.be.at.most(plan.kernelsTraced);
            expect(plan.executor).to.be.oneOf(['replay', 'direct']);
            expect(plan.passes.map((p) => p.pass)).to.include.members([
              'noop-removal',
              'constant-folding',
              'cse',
              'dead-code',
              'memory-plan',
            ]);
          }
        } finally {
          compiled.dispose();
          model.dispose();
        }
      });
    }

    for (const executor of ['direct', 'replay'] as const) {
      it(`1,000 calls with the ${executor} executor leave tf.memory() and the backend's buffers unchanged, for every small zoo model`, () => {
        for (const entry of listZoo()) {
          const model = entry.build({ small: true });
          const xs = zooSampleInputs(entry, 1, 7);
          const x = xs[0]!;
          const compiled = compile(model, { executor });
          try {
            const reference = model.predict(x);
            tf.dispose(compiled.predict(x)); // compiles: its constants belong in the baseline
            const plan = compiled.stats().compiled[0]!;
            expect(plan.executor, `${entry.name}: ${plan.executorReason}`).to.equal(executor);
            const tensors = tf.memory().numTensors;
            const buffers = numDataIds();
            let last: tf.Tensor | tf.Tensor[] | undefined;
            for (let i = 0; i < 1000; i++) {
              const out = compiled.predict(x);
              if (i === 999) last = out;
              else tf.dispose(out);
            }
            expectTensorsClose(last!, reference, 1e-5, 1e-4, `${entry.name} after 1,000 calls`);
            tf.dispose([...asList(last!), ...asList(reference)]);
            expect(tf.memory().numTensors, `${entry.name}: tensors`).to.equal(tensors - asList(reference).length);
            expect(numDataIds(), `${entry.name}: backend data ids`).to.equal(buffers - asList(reference).length);
            expect(compiled.stats().compiled).to.have.length(1);
            expect(compiled.stats().compiledCalls).to.equal(1001);
          } finally {
            compiled.dispose();
            model.dispose();
            tf.dispose(xs);
          }
        }
      });
    }
  });
}
