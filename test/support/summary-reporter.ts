import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';

/**
 * mocha's spec reporter, plus one closing line `N passed, N failed` (CI reads that
 * line, not mocha's own summary). With KILN_TEST_SUMMARY set, the line is also
 * written to that file, so .ci/run can print it last.
 */
class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const stats = runner.stats ?? { passes: 0, failures: 0 };
      const line = `${stats.passes} passed, ${stats.failures} failed`;
      process.stdout.write(`${line}\n`);
      if (process.env.KILN_TEST_SUMMARY) writeFileSync(process.env.KILN_TEST_SUMMARY, `${line}\n`);
    });
  }
}

export = SummaryReporter;
