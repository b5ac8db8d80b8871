import { randomBytes } from 'node:crypto';

/** Prefix of every temporary file or folder Kiln creates. */
export const TEMP_PREFIX = '.kiln-tmp-';

/** A fresh temporary name for `label`: `.kiln-tmp-<label>-<pid>-<hex>` (the pid tells a leftover of a process that is gone). */
export function tempName(label: string): string {
  return `${TEMP_PREFIX}${label}-${process.pid}-${randomBytes(6).toString('hex')}`;
}
