import { expect } from 'chai';
import { fallbackChain, pickVariants } from '../../src/bench/setup.js';
import { resolveSources } from '../../src/bench/sources.js';
import { ConfigError } from '../../src/core/errors.js';
import { listZoo } from '../../src/zoo/index.js';
import { expectRejects } from '../helpers/expect-rejects.js';

const b = (name: string) => ({ name, tfName: name });

describe('bench: setup', () => {
  it("gives the kiln variant the cell's backend, then the backends Kiln would fall back to", () => {
    const available = [b('wasm-threads'), b('wasm'), b('cpu')];
    expect(fallbackChain(b('wasm-threads'), available)).to.deep.equal(['wasm-threads', 'wasm', 'cpu']);
    expect(fallbackChain(b('wasm'), available)).to.deep.equal(['wasm', 'cpu']);
    expect(fallbackChain(b('cpu'), available)).to.deep.equal(['cpu']);
    expect(fallbackChain(b('webgpu'), available)).to.deep.equal(['webgpu']);
  });

  it('picks variants by name in table order, always keeping predict; an unknown name is a usage error', () => {
    expect(pickVariants(['kiln', 'compiled']).map((v) => v.name)).to.deep.equal(['predict', 'compiled', 'kiln']);
    expect(pickVariants(undefined).map((v) => v.name)).to.deep.equal([
      'plain-tfjs',
      'plain-wasm',
      'best-backend',
      'predict',
      'compiled',
      'layers-fused',
      'fused',
      'kiln',
    ]);
    expect(() => pickVariants(['kiln', 'warp-drive'])).to.throw(
      ConfigError,
      /unknown variant\(s\) "warp-drive".*the suite has: plain-tfjs/,
    );
  });

  it('resolves zoo:NAME, the whole zoo, and refuses unknown or repeated models', async () => {
    expect((await resolveSources(['zoo:mlp'])).map((s) => s.name)).to.deep.equal(['mlp']);
    expect((await resolveSources(['zoo:mlp'], { small: true })).map((s) => s.name)).to.deep.equal(['mlp (small)']);
    expect((await resolveSources(['zoo'])).map((s) => s.name)).to.deep.equal(listZoo().map((e) => e.name));
    const unknown = await expectRejects(resolveSources(['zoo:nope']), /unknown zoo model "nope".*zoo:shogi-resnet/);
    expect(unknown).to.be.instanceOf(ConfigError);
    await expectRejects(resolveSources(['zoo:mlp', 'zoo']), /model "mlp" is named twice/);
    await expectRejects(resolveSources(['/no/such/model.json']), /Model not found/);
  });
});
