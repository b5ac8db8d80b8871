import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { TEMP_PREFIX } from '../../src/io/atomic-write.js';
import { diskModelIO, saveArtifactsToDisk } from '../../src/io/model-files.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

/** Model files in memory whose one weight holds `value` everywhere (no tf.js model needed). */
function artifactsOf(value: number): {
  modelTopology: object;
  weightSpecs: { name: string; shape: number[]; dtype: 'float32' }[];
  weightData: ArrayBuffer;
} {
  return {
    modelTopology: { note: 'test' },
    weightSpecs: [{ name: 'w', shape: [8], dtype: 'float32' }],
    weightData: new Float32Array(8).fill(value).buffer,
  };
}

async function weightOf(dir: string): Promise<number> {
  const artifacts = await diskModelIO(dir).load!();
  return new Float32Array(artifacts.weightData as ArrayBuffer)[0]!;
}

async function leftovers(parent: string): Promise<string[]> {
  return (await fs.readdir(parent)).filter((e) => e.startsWith(TEMP_PREFIX));
}

/** Saves `value` into `dir` in a child process that SIGKILLs itself just before swap step `step`. */
function saveAndDieAt(step: string, dir: string, value: number): void {
  const modelFiles = path.resolve(__dirname, '../../src/io/model-files.js');
  const script = `
    const { saveArtifactsToDisk } = require(${JSON.stringify(modelFiles)});
    const artifacts = { modelTopology: { note: 'test' }, weightSpecs: [{ name: 'w', shape: [8], dtype: 'float32' }], weightData: new Float32Array(8).fill(${value}).buffer };
    saveArtifactsToDisk(artifacts, ${JSON.stringify(dir)}, { beforeSwapStep: (s) => { if (s === ${JSON.stringify(step)}) process.kill(process.pid, 'SIGKILL'); } })
      .then(() => process.exit(3), () => process.exit(4));`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(child.signal, `${child.stdout}${child.stderr}`).to.equal('SIGKILL');
}

describe('io: saving over a model folder is one swap, and survives a kill at any step', () => {
  let tmp: string;
  let dir: string;
  beforeEach(async () => {
    tmp = await makeTempDir('kiln-swap-');
    dir = path.join(tmp, 'out');
    await saveArtifactsToDisk(artifactsOf(1), dir);
    await fs.writeFile(path.join(dir, 'notes.txt'), 'mine');
  });
  afterEach(() => removeTempDir(tmp));

  for (const [step, after] of [
    ['aside', 'the old model, whole; the new folder left staged'],
    ['in', 'no folder: the old one waits aside, the new one staged'],
    ['cleanup', 'the new model, whole; the old folder left aside'],
  ] as const) {
    it(`killed before "${step}": ${after}; the next save repairs it and cleans up`, async () => {
      saveAndDieAt(step, dir, 2);
      const exists = await fs.stat(dir).then(
        () => true,
        () => false,
      );
      if (step === 'in') {
        expect(exists, 'the folder is aside').to.equal(false);
        await diskModelIO(dir).load!().then(
          () => expect.fail('loaded a missing folder'),
          (e: Error) => expect(e.message).to.match(/a save into it was interrupted: the previous model is in .*\.kiln-tmp-old-out-/),
        );
      }
      if (step !== 'in') expect(await weightOf(dir)).to.equal(step === 'aside' ? 1 : 2);
      expect(await leftovers(tmp), 'staging and/or aside folders').to.have.length(step === 'in' ? 2 : 1);

      await saveArtifactsToDisk(artifactsOf(3), dir);
      expect(await weightOf(dir)).to.equal(3);
      expect(await fs.readFile(path.join(dir, 'notes.txt'), 'utf8'), 'files of the old folder are carried over').to.equal('mine');
      expect(await leftovers(tmp)).to.deep.equal([]);
    });
  }

  it("leaves none of the old model's shards behind a new model with fewer", async () => {
    const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    // As if the old model had two shards.
    await fs.rename(path.join(dir, 'group1-shard1of1.bin'), path.join(dir, 'group1-shard1of2.bin'));
    await fs.writeFile(path.join(dir, 'group1-shard2of2.bin'), '');
    json.weightsManifest[0]!.paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
    await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
    await saveArtifactsToDisk(artifactsOf(4), dir);
    expect((await fs.readdir(dir)).sort()).to.deep.equal(['group1-shard1of1.bin', 'model.json', 'notes.txt']);
    expect(await weightOf(dir)).to.equal(4);
  });
});
