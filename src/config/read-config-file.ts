import { promises as fs } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError, describeError } from '../errors/index.js';
import { formatValue } from './format-validation-errors.js';

/**
 * Reads and parses a YAML config file into a plain mapping (an empty file, or one
 * holding only comments, is `{}`). A missing file is CONFIG_NOT_FOUND, bad YAML is
 * CONFIG_SYNTAX naming the line and column, and a document that is not a mapping is
 * CONFIG_INVALID. `file` should be absolute, so messages name it unambiguously.
 */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ConfigError(
        `Config file not found: ${file}. Pass the path of an existing kiln.yaml, or leave it out to use the defaults.`,
        'CONFIG_NOT_FOUND',
        { cause: error },
      );
    }
    if (code === 'EISDIR') {
      throw new ConfigError(`Config path is a folder, not a file: ${file}. Pass the path of a kiln.yaml file.`, 'CONFIG_NOT_FOUND', {
        cause: error,
      });
    }
    throw new ConfigError(`Could not read config file ${file}: ${describeError(error)}`, 'CONFIG_NOT_FOUND', { cause: error });
  }
  return parseConfigText(text, file);
}

/** Parses YAML text (see {@link readConfigFile}); `source` names it in messages. */
export function parseConfigText(text: string, source: string): Record<string, unknown> {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    const [first] = doc.errors;
    const pos = first!.linePos?.[0];
    const [short, ...rest] = first!.message.split(/\s+at line \d+, column \d+:/);
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    const snippet = rest.join('').replace(/^\n+/, '').trimEnd();
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more YAML error${doc.errors.length > 2 ? 's' : ''} after it)` : '';
    throw new ConfigError(`Invalid YAML in ${source}${where}: ${short!.trim()}${more}${snippet ? `\n\n${snippet}` : ''}`, 'CONFIG_SYNTAX', {
      cause: first,
    });
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    throw new ConfigError(`Invalid YAML in ${source}: ${describeError(error)}`, 'CONFIG_SYNTAX', { cause: error });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      `${source}: (top level): wrong type (got ${formatValue(value)}); allowed: a mapping of config keys (plugins, backend, pipeline, inputs, validation, benchmark, fallback, mode, timeLimitMs)`,
      'CONFIG_INVALID',
    );
  }
  return value as Record<string, unknown>;
}
