import { getMetadataStorage, type ValidationError } from 'class-validator';
import type { ProblemContext } from './validators.js';

/** One step of a key path: a key of a mapping, or an index into a list. */
export type PathSegment = string | number;

/** One thing wrong with a configuration, ready to be put in words. */
export interface ConfigProblem {
  /** Where: `['pipeline', 1, 'oneOf', 0, 'name']`. */
  readonly segments: readonly PathSegment[];
  /** The same, written `pipeline[1].oneOf[0].name`. */
  readonly path: string;
  /** What is wrong: "wrong type", "out of range", `unknown key "foo"`, ... */
  readonly problem: string;
  /** Whether there is a bad value to show (false when the key is missing). */
  readonly hasValue: boolean;
  readonly value: unknown;
  /** What would be accepted, when known. */
  readonly allowed?: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `['pipeline', 1, 'oneOf', 0, 'name']` -> `pipeline[1].oneOf[0].name`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Appends a relative key path to a base one: `joinPath('pipeline[0].options', 'x')` -> `pipeline[0].options.x`. */
export function joinPath(base: string, relative: string): string {
  if (base === '') return relative;
  if (relative === '') return base;
  return relative.startsWith('[') ? `${base}${relative}` : `${base}.${relative}`;
}

/** A value as JSON for a message, cut short when long. */
export function formatValue(value: unknown, maxLength = 120): string {
  let text: string;
  if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else if (typeof value === 'bigint') text = `${value}`;
  else if (typeof value === 'function') text = `[function ${value.name || 'anonymous'}]`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

/** The keys a class accepts: the properties that carry class-validator decorators. */
export function allowedKeysOf(target: unknown): string[] {
  if (target === null || typeof target !== 'object') return [];
  const ctor = (target as object).constructor;
  if (typeof ctor !== 'function' || ctor === Object) return [];
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(ctor, '', true, false);
  return [...new Set(metadatas.map((m) => m.propertyName))];
}

/**
 * Flattens class-validator's error tree into problems, one per bad key (a value of
 * the wrong type is reported once, without the nested problems it also causes).
 * `base` is prepended to every path: segments such as `['pipeline', 0, 'options']`,
 * or a path already written out, `'pipeline[0].options'` (then `segments` are
 * relative to it).
 */
export function describeValidationErrors(errors: readonly ValidationError[], base: readonly PathSegment[] | string = []): ConfigProblem[] {
  const prefix = typeof base === 'string' ? base : '';
  const start = typeof base === 'string' ? [] : base;
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const add = (p: ConfigProblem) => {
    if (prefix) p = { ...p, path: joinPath(prefix, p.path) };
    const key = `${p.path}\u0000${p.problem}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push(p);
  };
  const walk = (list: readonly ValidationError[], parent: readonly PathSegment[]) => {
    for (const error of list) {
      const property = error.property as string | undefined;
      const segments =
        property === undefined ? parent : [...parent, Array.isArray(error.target) && /^\d+$/.test(property) ? Number(property) : property];
      const own = ownProblems(error, segments, parent);
      for (const p of own) add(p);
      const wrongType = own.some((p) => p.problem.startsWith('wrong type'));
      if (!wrongType && error.children?.length) walk(error.children, segments);
    }
  };
  walk(errors, start);
  return problems;
}

function ownProblems(error: ValidationError, segments: readonly PathSegment[], parent: readonly PathSegment[]): ConfigProblem[] {
  const entries = Object.entries(error.constraints ?? {});
  const problems: ConfigProblem[] = [];
  for (const [type, message] of entries) {
    const context = (error.contexts?.[type] ?? {}) as ProblemContext;
    if (type === 'whitelistValidation') {
      const keys = allowedKeysOf(error.target);
      problems.push(
        problem(segments, `unknown key ${JSON.stringify(error.property)}`, true, error.value, keys.length ? keys.join(', ') : 'no keys'),
      );
    } else if (type === 'unknownValue') {
      problems.push(problem(segments, 'cannot be checked (its class declares no validated keys)', true, error.value, undefined));
    } else if (context.atParent) {
      problems.push(problem(parent, message, true, error.target, context.allowed));
    } else {
      const text = error.property && message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message;
      const missing = error.value === undefined && text === 'missing';
      problems.push(problem(segments, text, !missing, error.value, context.allowed));
    }
  }
  const wrongType = problems.filter((p) => p.problem.startsWith('wrong type'));
  if (wrongType.length) return [wrongType.find((p) => p.allowed !== undefined) ?? wrongType[0]!];
  return problems;
}

function problem(
  segments: readonly PathSegment[],
  what: string,
  hasValue: boolean,
  value: unknown,
  allowed: string | undefined,
): ConfigProblem {
  return { segments: [...segments], path: formatPath(segments), problem: what, hasValue, value, allowed };
}

/** `<source>: <key path>: <what is wrong> (got <value>); allowed: <what is allowed>` */
export function formatProblem(p: ConfigProblem, source: string): string {
  const where = p.path === '' ? '(top level)' : p.path;
  const got = p.hasValue ? ` (got ${formatValue(p.value)})` : '';
  const allowed = p.allowed !== undefined ? `; allowed: ${p.allowed}` : '';
  return `${source}: ${where}: ${p.problem}${got}${allowed}`;
}

/**
 * One message listing every problem in `errors`, one line each:
 * `kiln.yaml: validation.atol: wrong type (got "abc"); allowed: a number >= 0`.
 */
export function formatValidationErrors(
  errors: readonly ValidationError[],
  source: string,
  base: readonly PathSegment[] | string = [],
): string {
  return describeValidationErrors(errors, base)
    .map((p) => formatProblem(p, source))
    .join('\n');
}
