import Table from 'cli-table3';
import { Command } from 'commander';
import { loadConfig } from '../../core/config-loading/load-config.js';
import { PluginRegistry } from '../../core/plugin-registry.js';
import { createRunContainer } from '../../core/run-container.js';
import '../../plugins/index.js';

export interface PluginListing {
  name: string;
  kind: string;
  objective: string;
  available: boolean;
  reason: string;
  description: string;
}

/** Every registered plugin (built-in and those the config imports) with its availability here. */
export async function listPlugins(configPath?: string): Promise<PluginListing[]> {
  const config = await loadConfig(configPath);
  const run = createRunContainer(config);
  const registry = run.resolve(PluginRegistry);
  const listings: PluginListing[] = [];
  for (const { meta } of registry.list()) {
    let available = false;
    let reason = '';
    try {
      const availability = await registry.create(meta.name).isAvailable({ mode: config.mode });
      available = availability.available;
      reason = availability.available ? '' : availability.reason;
    } catch (error) {
      reason = `availability check threw: ${error instanceof Error ? error.message : String(error)}`;
    }
    listings.push({ name: meta.name, kind: meta.kind, objective: meta.objective, available, reason, description: meta.description });
  }
  return listings;
}

export function pluginsCommand(): Command {
  return new Command('plugins')
    .description('list the registered plugins, their kind and whether they can run here')
    .option('-c, --config <file>', 'kiln.yaml whose plugins: modules to import too')
    .option('--json', 'print a JSON array of {name, kind, available, reason}')
    .action(async (flags: { config?: string; json?: boolean }) => {
      const listings = await listPlugins(flags.config);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(listings, null, 2)}\n`);
        return;
      }
      const table = new Table({
        head: ['plugin', 'kind', 'objective', 'available', 'description / reason'],
        style: { head: [], border: [] },
        colWidths: [24, 10, 11, 11, 60],
        wordWrap: true,
      });
      for (const p of listings)
        table.push([p.name, p.kind, p.objective, p.available ? 'yes' : 'no', p.available ? p.description : p.reason]);
      process.stdout.write(`${table.toString()}\n`);
    });
}
