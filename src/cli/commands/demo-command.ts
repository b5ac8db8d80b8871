import { Command } from 'commander';
import { layersModelFormat } from '../../formats/index.js';
import { buildShogiResNet } from '../../zoo/shogi-resnet.js';
import { loadRunConfig, runAndPrint, withRunFlags, type RunFlags } from './optimize-command.js';

export function demoCommand(): Command {
  return withRunFlags(
    new Command('demo').description(
      'build the shogi-style policy/value ResNet (9x9x46 input, 4 residual blocks of 64 channels, 2187-way policy and tanh value heads) with seeded weights and optimise it with the default pipeline',
    ),
  ).action(async (flags: RunFlags) => {
    const config = await loadRunConfig(flags);
    const model = buildShogiResNet();
    try {
      if (!flags.json) process.stderr.write(`demo: ${model.name}, ${model.countParams()} parameters, batch ${flags.batch}\n`);
      const { optimized } = await runAndPrint({ format: layersModelFormat, model }, config, flags);
      optimized.dispose();
    } finally {
      model.dispose();
    }
  });
}
