import { shapeOf, type Constructor } from './class-shape.js';
import { configReference, sections, type ConfigField, type SectionPlan } from './config-reference.js';
import { sortedPlugins, type ConfigSchemaOptions } from './plugin-options.js';

/**
 * The reference tables in Markdown, one per section: key, type, default, what it
 * accepts, and what it means. `docs/configuration.md` holds this between its
 * generated-section markers (`npm run schema` writes it; a test regenerates it and compares).
 */
export function renderConfigReference(options: ConfigSchemaOptions = {}): string {
  const plugins = options.plugins ?? [];
  const fields = configReference(options);
  const lines: string[] = [];
  for (const s of sections(plugins)) {
    lines.push(...sectionIntro(s));
    lines.push('| Key | Type | Default | Allowed | Description |', '|---|---|---|---|---|');
    for (const f of fields.filter((x) => x.section === s.title)) {
      lines.push(`| \`${cell(f.path)}\` | ${f.type} | ${cell(formatDefault(f))} | ${cell(f.allowed)} | ${cell(f.description ?? '')} |`);
    }
    lines.push('');
  }
  const without = sortedPlugins(plugins)
    .filter((p) => !p.optionsClass)
    .map((p) => `\`${p.name}\``);
  if (without.length) lines.push(`Plugins that take no options (leave \`options\` out): ${without.join(', ')}.`, '');
  return lines.join('\n');
}

/** A table's heading and, for a plugin's `options`, the line that says what the plugin does. */
function sectionIntro(s: SectionPlan): string[] {
  const where = s.prefix.replace(/\.$/, '');
  const lines = [`### ${s.plugin ? `Plugin \`${s.plugin.name}\`: \`${where}\`` : where ? `\`${where}\`` : 'Top level'}`, ''];
  if (s.plugin && where === 'options') {
    const what = [s.plugin.kind, s.plugin.objective].filter(Boolean).join(', ');
    lines.push(`${what ? `${what}: ` : ''}${s.plugin.description ?? ''}`.trim(), '');
  }
  return lines;
}

/**
 * A default as the reference writes it: YAML flow style in backticks, `(required)`
 * for a key without one that must be given, `—` for a key whose absence means what
 * its description says, and "the defaults below" for a section.
 */
export function formatDefault(field: Pick<ConfigField, 'default' | 'required' | 'owner' | 'property'>): string {
  if (field.required) return '(required)';
  if (field.default === undefined) return '—';
  const nested = shapeOf(field.owner as Constructor).fields.find((f) => f.property === field.property)?.nested;
  if (nested?.container === 'single') return 'the defaults below';
  return `\`${yamlFlow(field.default)}\``;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A value in YAML flow style: `[a, b]`, `{ '*': { atol: 1e-3 } }`, `1e-5`. */
export function yamlFlow(value: unknown): string {
  if (typeof value === 'number') return value !== 0 && Math.abs(value) < 0.01 ? value.toExponential() : String(value);
  if (typeof value === 'string') return /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(value) ? value : `'${value.replace(/'/g, "''")}'`;
  if (Array.isArray(value)) return `[${value.map(yamlFlow).join(', ')}]`;
  if (isPlainRecord(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${yamlFlow(k)}: ${yamlFlow(v)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return String(value);
}

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
