import { Command } from 'commander';
import { layersModelFormat } from '../../formats/index.js';
import { buildShogiResNet } from '../../zoo/shogi-resnet.js';
import { loadRunConfig, runAndPrint, sampleFlagsOf, withRunFlags, type RunFlags } from './optimize-command.js';

/** `batch 32`, or `batches 1, 16, 32` for a shape profile. */
function describeBatches(batches: readonly number[]): string {
  return batches.length === 1 ? `batch ${batches[0]}` : `batches ${batches.join(', ')} (a shape profile)`;
}

export function demoCommand(): Command {
  return withRunFlags(
    new Command('demo').description(
      'build the shogi-style policy/value ResNet (9x9x46 input, 4 residual blocks of 64 channels, 2187-way policy and tanh value heads) with seeded weights and optimise it with the default pipeline',
    ),
  ).action(async (flags: RunFlags, command: Command) => {
    const config = await loadRunConfig(flags, command);
    const model = buildShogiResNet();
    try {
      if (!flags.json)
        process.stderr.write(`demo: ${model.name}, ${model.countParams()} parameters, ${describeBatches(config.shapes ?? flags.batch)}\n`);
      const { optimized } = await runAndPrint({ format: layersModelFormat, model }, config, flags, await sampleFlagsOf(flags, command));
      optimized.dispose();
    } finally {
      model.dispose();
    }
  });
}
