/** Helpers for the end-to-end CLI tests: run `node bin/kiln.js ...` as a child process. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The repository root (holds package.json and bin/kiln.js); found by walking up from this file. */
export const REPO_ROOT: string = (() => {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'bin', 'kiln.js')) && existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`bin/kiln.js not found above ${__dirname}`);
    dir = parent;
  }
})();

export const KILN_BIN = path.join(REPO_ROOT, 'bin', 'kiln.js');

export interface CliResult {
  /** Exit status; null when the process was killed (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/kiln.js ...args` with cwd = the repository root, stdout and stderr
 * piped (so not a terminal: no progress bar), and kills it after `timeoutMs`.
 */
export function runKiln(args: readonly string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KILN_BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Text that describes a run, for assertion messages. */
export function describeRun(result: CliResult): string {
  return `exit ${result.code}${result.signal ? ` (signal ${result.signal})` : ''}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}
