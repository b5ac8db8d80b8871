import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

import { ModelFileError } from '../../src/core/errors.js';
import { diskModelIO, loadLayersModelFromDisk, saveModelToDisk } from '../../src/io/index.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { expectClose, predictions, smallModel, snapshot, tempLeftovers } from './helpers.js';

describe('io/model-files', function () {
  let root: string | undefined;
  let tmp: string;

  before(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });
  beforeEach(async () => {
    root = await makeTempDir('kiln-io-test-');
    tmp = root;
  });
  afterEach(async () => {
    await removeTempDir(root);
    root = undefined;
  });

  async function savedModel(dir: string, seed = 1): Promise<number[]> {
    const model = smallModel(seed);
    await saveModelToDisk(model, dir);
    const out = predictions(model);
    model.dispose();
    return out;
  }

  async function editModelJson(dir: string, edit: (json: Record<string, any>) => void): Promise<void> {
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(await fs.readFile(file, 'utf8'));
    edit(json);
    await fs.writeFile(file, JSON.stringify(json));
  }

  describe('round trip', () => {
    it('saves model.json plus one shard and loads it back by folder with identical predictions', async () => {
      const dir = path.join(tmp, 'nested', 'model');
      const expected = await savedModel(dir);
      expect((await fs.readdir(dir)).sort()).to.deep.equal(['group1-shard1of1.bin', 'model.json']);
      const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
      expect(json.format).to.equal('layers-model');
      expect(json.weightsManifest).to.have.length(1);
      expect(json.weightsManifest[0].paths).to.deep.equal(['group1-shard1of1.bin']);
      expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).to.have.length(4);

      const loaded = await loadLayersModelFromDisk(dir);
      expectClose(predictions(loaded), expected);
      loaded.dispose();
    });

    it('loads by the model.json path as well as by folder', async () => {
      const dir = path.join(tmp, 'm');
      const expected = await savedModel(dir, 2);
      const loaded = await loadLayersModelFromDisk(path.join(dir, 'model.json'));
      expectClose(predictions(loaded), expected);
      loaded.dispose();
    });

    it('writes standard files: plain tf.loadLayersModel reads them through fs + tf.io.fromMemory', async () => {
      const dir = path.join(tmp, 'std');
      const expected = await savedModel(dir, 3);
      const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
      const shards = await Promise.all(json.weightsManifest[0].paths.map((p: string) => fs.readFile(path.join(dir, p))));
      const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
      const handler = tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData,
      });
      const loaded = await tf.loadLayersModel(handler);
      expectClose(predictions(loaded), expected);
      loaded.dispose();
    });

    it('splits weights over 4 MiB into group1-shardKofN.bin files and reads them back', async () => {
      const dir = path.join(tmp, 'big');
      const model = tf.sequential();
      model.add(tf.layers.dense({ inputShape: [1100], units: 1000, kernelInitializer: 'glorotUniform' }));
      await saveModelToDisk(model, dir);
      expect((await fs.readdir(dir)).sort()).to.deep.equal(['group1-shard1of2.bin', 'group1-shard2of2.bin', 'model.json']);
      expect((await fs.stat(path.join(dir, 'group1-shard1of2.bin'))).size).to.equal(4 * 1024 * 1024);
      expect((await fs.stat(path.join(dir, 'group1-shard2of2.bin'))).size).to.equal((1100 * 1000 + 1000) * 4 - 4 * 1024 * 1024);

      const loaded = await loadLayersModelFromDisk(dir);
      const [a, b] = [model.getWeights()[0], loaded.getWeights()[0]];
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).to.equal(0);

      // Saving a smaller model over it removes the shards the new model.json no longer lists.
      await savedModel(dir);
      expect((await fs.readdir(dir)).sort()).to.deep.equal(['group1-shard1of1.bin', 'model.json']);
      model.dispose();
      loaded.dispose();
    });

    it('load() returns artifacts with flattened specs, one ArrayBuffer and metadata', async () => {
      const dir = path.join(tmp, 'meta');
      await savedModel(dir);
      await editModelJson(dir, (json) => {
        json.userDefinedMetadata = { owner: 'kiln' };
        json.convertedBy = 'test';
      });
      const artifacts = await diskModelIO(dir).load!();
      expect(artifacts.weightData).to.be.instanceOf(ArrayBuffer);
      expect((artifacts.weightData as ArrayBuffer).byteLength).to.equal((await fs.stat(path.join(dir, 'group1-shard1of1.bin'))).size);
      expect(artifacts.weightSpecs).to.have.length(4);
      expect(artifacts.userDefinedMetadata).to.deep.equal({ owner: 'kiln' });
      expect(artifacts.convertedBy).to.equal('test');
      expect(artifacts.format).to.equal('layers-model');
      expect(artifacts.generatedBy).to.match(/TensorFlow\.js/);
    });

    it('save() accepts weightData as ArrayBuffer[] and reports artifact info', async () => {
      const dir = path.join(tmp, 'parts');
      const specs: tf.io.WeightsManifestEntry[] = [
        { name: 'a', shape: [2], dtype: 'float32' },
        { name: 'b', shape: [3], dtype: 'int32' },
      ];
      const result = await diskModelIO(dir).save!({
        modelTopology: { any: 'topology' },
        format: 'graph-model',
        weightSpecs: specs,
        weightData: [new Float32Array([1, 2]).buffer, new Int32Array([3, 4, 5]).buffer],
      });
      expect(result.modelArtifactsInfo.weightDataBytes).to.equal(20);
      expect(result.modelArtifactsInfo.modelTopologyType).to.equal('JSON');
      const loaded = await diskModelIO(path.join(dir, 'model.json')).load!();
      expect(Array.from(new Float32Array(loaded.weightData as ArrayBuffer, 0, 2))).to.deep.equal([1, 2]);
      expect(Array.from(new Int32Array(loaded.weightData as ArrayBuffer, 8, 3))).to.deep.equal([3, 4, 5]);
    });
  });

  describe('refusing unsafe manifest paths', () => {
    async function modelWithOutsideFile(): Promise<{ dir: string; evil: string }> {
      const dir = path.join(tmp, 'victim');
      await savedModel(dir);
      const evil = path.join(tmp, 'evil.bin');
      // Same size as the real shard, so only the confinement check can stop it.
      await fs.copyFile(path.join(dir, 'group1-shard1of1.bin'), evil);
      return { dir, evil };
    }

    it('refuses a ../ escape, naming the entry, and writes nothing', async () => {
      const { dir } = await modelWithOutsideFile();
      await editModelJson(dir, (json) => {
        json.weightsManifest[0].paths = ['../evil.bin'];
      });
      const before = await snapshot(tmp);
      await expectRejects(
        loadLayersModelFromDisk(dir),
        /weightsManifest entry "\.\.\/evil\.bin" in .*model\.json points outside the model folder: paths must be relative to the model folder/,
        ModelFileError,
      );
      expect(await snapshot(tmp)).to.deep.equal(before);
    });

    it('refuses an absolute path, naming the entry, and writes nothing', async () => {
      const { dir, evil } = await modelWithOutsideFile();
      await editModelJson(dir, (json) => {
        json.weightsManifest[0].paths = [evil];
      });
      const before = await snapshot(tmp);
      const error = await expectRejects(
        diskModelIO(dir).load!(),
        /is an absolute path: paths must be relative to the model folder/,
        ModelFileError,
      );
      expect(error.message).to.contain(JSON.stringify(evil));
      expect(await snapshot(tmp)).to.deep.equal(before);
    });

    it('refuses a symlink that resolves outside the model folder', async () => {
      const { dir, evil } = await modelWithOutsideFile();
      await fs.symlink(evil, path.join(dir, 'linked.bin'));
      await editModelJson(dir, (json) => {
        json.weightsManifest[0].paths = ['linked.bin'];
      });
      await expectRejects(
        loadLayersModelFromDisk(dir),
        /"linked\.bin" .*resolves through a symlink to .*evil\.bin, outside the model folder: paths must be relative/,
        ModelFileError,
      );
    });

    it('accepts a symlink that stays inside the model folder', async () => {
      const dir = path.join(tmp, 'inner');
      const expected = await savedModel(dir);
      await fs.mkdir(path.join(dir, 'sub'));
      await fs.rename(path.join(dir, 'group1-shard1of1.bin'), path.join(dir, 'sub', 'real.bin'));
      await fs.symlink(path.join('sub', 'real.bin'), path.join(dir, 'group1-shard1of1.bin'));
      const loaded = await loadLayersModelFromDisk(dir);
      expectClose(predictions(loaded), expected);
      loaded.dispose();
    });
  });

  describe('broken model files', () => {
    it('reports a missing shard by name and model.json', async () => {
      const dir = path.join(tmp, 'm');
      await savedModel(dir);
      await fs.rm(path.join(dir, 'group1-shard1of1.bin'));
      const error = await expectRejects(
        loadLayersModelFromDisk(dir),
        /Weight shard "group1-shard1of1\.bin" listed in .*model\.json is missing/,
        ModelFileError,
      );
      expect(error.message).to.contain(path.join(dir, 'model.json'));
      // tfjs passes the handler's error through unwrapped.
      await expectRejects(
        tf.loadLayersModel(diskModelIO(dir)),
        /Weight shard "group1-shard1of1\.bin" listed in .* is missing/,
        ModelFileError,
      );
    });

    it('reports a truncated shard with expected and actual byte counts', async () => {
      const dir = path.join(tmp, 'm');
      await savedModel(dir);
      const shard = path.join(dir, 'group1-shard1of1.bin');
      const size = (await fs.stat(shard)).size;
      await fs.truncate(shard, size - 4);
      const error = await expectRejects(
        loadLayersModelFromDisk(dir),
        /model\.json's weightsManifest expects (\d+) bytes but the shards hold (\d+) .*group1-shard1of1\.bin.*: re-export or re-copy the model/,
        ModelFileError,
      );
      const [, expectedBytes, actualBytes] = /expects (\d+) bytes but the shards hold (\d+)/.exec(error.message)!;
      expect(Number(expectedBytes)).to.equal(size);
      expect(Number(actualBytes)).to.equal(size - 4);
    });

    it('reports invalid JSON with the path and the parser message', async () => {
      const dir = path.join(tmp, 'm');
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 'model.json'), '{"modelTopology": ');
      const error = await expectRejects(loadLayersModelFromDisk(dir), /model\.json is not valid JSON \(.+\)/, ModelFileError);
      expect(error.message).to.contain(path.join(dir, 'model.json'));
    });

    it('reports a folder without model.json', async () => {
      const dir = path.join(tmp, 'empty');
      await fs.mkdir(dir);
      await expectRejects(
        loadLayersModelFromDisk(dir),
        /model\.json is missing: pass the path of a model\.json file or of the folder/,
        ModelFileError,
      );
    });

    it('reports a path that does not exist', async () => {
      await expectRejects(loadLayersModelFromDisk(path.join(tmp, 'nope')), /Model not found: .*nope does not exist/, ModelFileError);
    });

    it('reports string weights as unsupported', async () => {
      const dir = path.join(tmp, 'm');
      await savedModel(dir);
      await editModelJson(dir, (json) => {
        json.weightsManifest[0].weights[0].dtype = 'string';
      });
      await expectRejects(loadLayersModelFromDisk(dir), /has dtype 'string'.*not supported/, ModelFileError);
    });

    it('wraps errors raised inside tf.loadLayersModel as ModelFileError', async () => {
      const dir = path.join(tmp, 'm');
      await savedModel(dir);
      await editModelJson(dir, (json) => {
        json.modelTopology.config.layers[0].class_name = 'NoSuchLayer';
      });
      const error = await expectRejects(
        loadLayersModelFromDisk(dir),
        /Cannot build a LayersModel from .*: check it is a TensorFlow\.js layers model/,
        ModelFileError,
      );
      expect((error as ModelFileError).code).to.equal('MODEL_FILE');
      expect(error.cause).to.be.instanceOf(Error);
    });
  });

  describe('saving over an existing model', () => {
    it('replaces the model and leaves no .kiln-tmp-* entries', async () => {
      const dir = path.join(tmp, 'm');
      const first = await savedModel(dir, 1);
      const second = await savedModel(dir, 5);
      expect(second).to.not.deep.equal(first);
      const loaded = await loadLayersModelFromDisk(dir);
      expectClose(predictions(loaded), second);
      loaded.dispose();
      expect(await tempLeftovers(tmp)).to.deep.equal([]);
    });

    it('keeps the previous model intact when the save fails after shards were moved in', async () => {
      const dir = path.join(tmp, 'm');
      const first = await savedModel(dir, 1);
      const before = await snapshot(tmp);
      const committed: string[] = [];
      const model = smallModel(7);
      await expectRejects(
        saveModelToDisk(model, dir, {
          beforeCommit: (name) => {
            if (name === 'model.json') throw new Error('simulated disk failure');
            committed.push(name);
          },
        }),
        /Cannot write group1-shard1of1\.bin, model\.json into .*simulated disk failure.*previous files, if any, are unchanged/,
        ModelFileError,
      );
      model.dispose();
      expect(committed).to.deep.equal(['group1-shard1of1.bin']); // the shard really was replaced, then rolled back
      expect(await snapshot(tmp)).to.deep.equal(before);
      expect(await tempLeftovers(tmp)).to.deep.equal([]);
      const loaded = await loadLayersModelFromDisk(dir);
      expectClose(predictions(loaded), first);
      loaded.dispose();
    });

    it('refuses to write when a folder is in the way, changing nothing', async () => {
      const dir = path.join(tmp, 'm');
      await fs.mkdir(path.join(dir, 'model.json'), { recursive: true });
      const before = await snapshot(tmp);
      const model = smallModel();
      await expectRejects(saveModelToDisk(model, dir), /Cannot write .*model\.json: a folder with that name is in the way/, ModelFileError);
      model.dispose();
      expect(await snapshot(tmp)).to.deep.equal(before);
    });
  });
});
