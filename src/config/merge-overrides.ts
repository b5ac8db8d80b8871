/**
 * Deep-merges `overrides` (from command-line flags) over `base`: mappings merge key
 * by key, anything else (lists included) replaces. `undefined` in `overrides` means
 * "not given" and leaves `base` alone. Neither argument is modified.
 */
export function mergeOverrides(base: unknown, overrides: unknown): unknown {
  if (overrides === undefined) return base;
  if (!isMapping(overrides) || !isMapping(base)) return clone(overrides);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    out[key] = mergeOverrides(base[key], value);
  }
  return out;
}

/** Whether `overrides` sets the value at `segments` (or a mapping above it with a plain value). */
export function overridesPath(overrides: unknown, segments: readonly (string | number)[]): boolean {
  let node: unknown = overrides;
  for (const segment of segments) {
    if (!isMapping(node)) return node !== undefined;
    node = node[String(segment)];
    if (node === undefined) return false;
  }
  return true;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (isMapping(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = clone(v);
    return out;
  }
  return value;
}
