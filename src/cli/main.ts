import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { Command, CommanderError } from 'commander';
import { describeError } from '../core/errors.js';
import { KILN_VERSION } from '../core/version.js';
import { benchCommand } from './commands/bench-command.js';
import { demoCommand } from './commands/demo-command.js';
import { exportCommand } from './commands/export-command.js';
import { optimizeCommand } from './commands/optimize-command.js';
import { pluginsCommand } from './commands/plugins-command.js';
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.js';

/** The `kiln` program. */
export function buildProgram(): Command {
  const program = new Command('kiln')
    .description('Make TensorFlow.js models faster and smaller, validating every optimisation and falling back when one does not hold.')
    .version(KILN_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const command of [optimizeCommand(), pluginsCommand(), demoCommand(), benchCommand(), exportCommand()])
    program.addCommand(command.exitOverride());
  return program;
}

/** Runs the CLI and returns its exit code: 0 done, 1 optimisation failed, 2 usage or configuration error. */
export async function main(argv: readonly string[]): Promise<number> {
  tf.env().set('PROD', true); // silences tf.js's "install the node backend" banner; numerics unchanged
  try {
    await buildProgram().parseAsync([...argv]);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT_OK : EXIT_USAGE;
    }
    process.stderr.write(`kiln: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}
