/**
 * How the onnxruntime engine picks its intra-op threads (src/engines/onnxruntime/thread-choice.ts),
 * on a stand-in native binding whose runs advance a stand-in clock by what each setting
 * is made to cost: the fastest setting wins only by the margin, the rounds shrink to the
 * budget, a setting's runs are timed in blocks in an order reversed every other round,
 * warm-up runs are not counted, and every session not kept is released, also when one
 * fails to load.
 */
import { expect } from 'chai';
import type { OrtNativeBinding, OrtSessionOptions } from '../../src/engines/onnxruntime/ort-api.js';
import {
  sessionWithFastestThreads,
  settingLabel,
  THREAD_MEASUREMENT,
  THREAD_SETTINGS,
  type ThreadMeasurement,
  type ThreadSetting,
} from '../../src/engines/onnxruntime/thread-choice.js';

/** What the stand-in binding saw: each run as `label#k` (k: the session's own run count), and the sessions released. */
interface Seen {
  runs: string[];
  released: string[];
}

const labelOf = (o: OrtSessionOptions): string => {
  const spinning = (o.extra as { session: { intra_op: { allow_spinning: string } } }).session.intra_op.allow_spinning === '1';
  return settingLabel({ threads: o.intraOpNumThreads ?? 1, spinning });
};

/**
 * A binding whose sessions cost `costMs(label, k)` on the clock for their k-th run (k
 * from 0), and fail to load where `failToLoad` names their setting.
 */
function standIn(costMs: (label: string, k: number) => number, failToLoad?: string) {
  let clock = 0;
  const seen: Seen = { runs: [], released: [] };
  class NativeSession {
    inputMetadata = [{ name: 'x' }];
    outputMetadata = [{ name: 'y' }];
    private label = '';
    private k = 0;
    loadModel(_b: ArrayBufferLike, _o: number, _l: number, options: OrtSessionOptions) {
      this.label = labelOf(options);
      if (this.label === failToLoad) throw new Error(`cannot load with ${this.label}`);
    }
    run() {
      clock += costMs(this.label, this.k);
      seen.runs.push(`${this.label}#${this.k++}`);
      return {};
    }
    dispose() {
      seen.released.push(this.label);
    }
  }
  const native: OrtNativeBinding = { initOrt: () => undefined, binding: { InferenceSession: NativeSession } };
  const measurement: ThreadMeasurement = { ...THREAD_MEASUREMENT, now: () => clock };
  return { native, seen, measurement };
}

const choose = (
  s: ReturnType<typeof standIn>,
  measurement: Partial<ThreadMeasurement> = {},
  settings: readonly ThreadSetting[] = THREAD_SETTINGS,
) => sessionWithFastestThreads(s.native, new Uint8Array(8), {}, settings, { ...s.measurement, ...measurement });

const costs =
  (ms: Record<string, number>) =>
  (label: string): number =>
    ms[label]!;

describe('onnxruntime engine: choosing intra-op threads (stand-in binding and clock)', () => {
  it('keeps the fastest setting when it is more than the margin faster, and releases the others', () => {
    // binary fractions, so the stand-in clock's sums are exact
    const s = standIn(costs({ '1': 1.0, '2': 1.25, '2 spinning': 0.75 }));
    const { session, choice } = choose(s);
    expect(settingLabel(choice)).to.equal('2 spinning');
    expect(choice.medians).to.deep.equal({ '1': 1.0, '2': 1.25, '2 spinning': 0.75 });
    expect(choice.runs).to.equal(15);
    expect(s.seen.released.sort()).to.deep.equal(['1', '2']);
    expect(session.options.intraOpNumThreads).to.equal(2);
    session.release();
  });

  it('keeps the less demanding setting when the faster one is within the margin (5% faster than 1 thread, margin 10%)', () => {
    const s = standIn(costs({ '1': 1.0, '2': 0.97, '2 spinning': 0.95 }));
    const { session, choice } = choose(s);
    expect(settingLabel(choice)).to.equal('1');
    expect(s.seen.released.sort()).to.deep.equal(['2', '2 spinning']);
    session.release();
    const tighter = standIn(costs({ '1': 1.0, '2': 0.97, '2 spinning': 0.95 }));
    // margin 2.5%: 2 threads (3% faster) win over 1; 2 spinning (2% faster than 2) does not
    expect(settingLabel(choose(tighter, { margin: 0.025 }).choice)).to.equal('2');
  });

  it('compares each setting with the best so far, not with the first: 2 spinning must beat 2 threads by the margin too', () => {
    const s = standIn(costs({ '1': 1.0, '2': 0.8, '2 spinning': 0.75 }));
    expect(settingLabel(choose(s).choice)).to.equal('2');
  });

  it('does not count the warm-up runs: a slow first run of the fastest setting does not lose it the choice', () => {
    const s = standIn((label, k) => (label === '2 spinning' ? (k === 0 ? 50 : 0.5) : 1));
    const { choice } = choose(s);
    expect(settingLabel(choice)).to.equal('2 spinning');
    expect(choice.medians['2 spinning']).to.equal(0.5);
  });

  it('times each setting in blocks (one untimed run, then the timed ones), in an order reversed every other round', () => {
    const s = standIn(() => 1);
    choose(s, { rounds: 2, runsPerRound: 2 });
    const sessionOf = (run: string) => run.split('#')[0];
    const warmUp = s.seen.runs.slice(0, 6).map(sessionOf);
    expect(warmUp).to.deep.equal(['1', '1', '2', '2', '2 spinning', '2 spinning']);
    const rounds = s.seen.runs.slice(6).map(sessionOf);
    expect(rounds).to.deep.equal([
      ...['1', '1', '1', '2', '2', '2', '2 spinning', '2 spinning', '2 spinning'],
      ...['2 spinning', '2 spinning', '2 spinning', '2', '2', '2', '1', '1', '1'],
    ]);
  });

  it('runs fewer rounds, one at least, where the warm-up says the rounds would overrun the budget', () => {
    // a round of 3 settings x (1 + 3) runs of 100 ms is 1.2 s; the budget of 1.5 s allows one
    const slow = standIn(() => 100);
    expect(choose(slow).choice.runs).to.equal(3);
    // 10 ms runs: a round is 120 ms, so the 5 rounds (0.6 s) fit
    const fast = standIn(() => 10);
    expect(choose(fast).choice.runs).to.equal(15);
    // slower than the whole budget: still one round, so every setting has a median
    const slower = standIn(() => 1000);
    const { choice } = choose(slower);
    expect(choice.runs).to.equal(3);
    expect(Object.keys(choice.medians)).to.have.length(3);
  });

  it('releases the sessions it made and throws the load error when a setting cannot be loaded', () => {
    const s = standIn(() => 1, '2 spinning');
    expect(() => choose(s)).to.throw('cannot load with 2 spinning');
    expect(s.seen.released.sort()).to.deep.equal(['1', '2']);
  });

  it('with one setting, keeps it after its runs', () => {
    const s = standIn(() => 1);
    const { choice } = choose(s, {}, [{ threads: 1, spinning: false }]);
    expect(choice).to.include({ threads: 1, spinning: false, runs: 15 });
    expect(s.seen.released).to.deep.equal([]);
  });
});
