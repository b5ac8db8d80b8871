import { expect } from 'chai';
import { withTimeLimit } from '../../src/core/pipeline/time-limit.js';
import { expectRejects } from '../helpers/expect-rejects.js';

describe('time limit', () => {
  it('returns a result that arrives in time', async () => {
    expect(
      await withTimeLimit(
        async () => 42,
        1000,
        'quick',
        () => undefined,
      ),
    ).to.equal(42);
  });

  it('rejects work that overruns, aborts its signal, and hands a late result to onLate', async () => {
    let signal: AbortSignal | undefined;
    const late: string[] = [];
    let finish: (v: string) => void = () => undefined;
    const error = await expectRejects(
      withTimeLimit(
        (s) => {
          signal = s;
          return new Promise<string>((resolve) => {
            finish = resolve;
          });
        },
        20,
        'slow.apply',
        (v) => late.push(v),
      ),
      /^slow\.apply did not finish within its time limit of 20 ms$/,
    );
    expect((error as Error & { code: string }).code).to.equal('TIME_LIMIT');
    expect(signal!.aborted).to.equal(true);
    finish('result');
    await new Promise((r) => setImmediate(r));
    expect(late).to.deep.equal(['result']);
  });

  it('passes a thrown error through', async () => {
    await expectRejects(
      withTimeLimit(
        async () => {
          throw new Error('inner');
        },
        1000,
        'x',
        () => undefined,
      ),
      /^inner$/,
    );
  });
});
