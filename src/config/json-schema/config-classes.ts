import { KilnConfig } from '../kiln-config.js';
import { shapeOf, type Constructor } from './class-shape.js';
import { sortedPlugins, type SchemaPlugin } from './plugin-options.js';

/** The classes the schema and the reference cover. */

/** Every class reachable from `root` through nested fields, root first. */
function reachable(root: Constructor): Constructor[] {
  const out: Constructor[] = [];
  const visit = (cls: Constructor) => {
    if (out.includes(cls)) return;
    out.push(cls);
    for (const f of shapeOf(cls).fields) if (f.nested) visit(f.nested.cls);
  };
  visit(root);
  return out;
}

/** The config classes: KilnConfig and every class under it. */
export function configClasses(): Constructor[] {
  return reachable(KilnConfig);
}

/** The options classes of `plugins` and every class under them, in plugin order (by name). */
export function pluginOptionClasses(plugins: readonly SchemaPlugin[] = []): Constructor[] {
  const out: Constructor[] = [];
  for (const p of sortedPlugins(plugins)) {
    if (p.optionsClass) for (const cls of reachable(p.optionsClass)) if (!out.includes(cls)) out.push(cls);
  }
  return out;
}
