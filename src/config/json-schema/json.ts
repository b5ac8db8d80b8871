/** A JSON Schema (draft-07) document or fragment. */
export type JsonSchema = { [keyword: string]: unknown };

/** A default as JSON: Maps and class instances become plain objects, undefined keys are dropped. */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), toJsonValue(v)]));
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== 'function') out[k] = toJsonValue(v);
    return out;
  }
  return value;
}
