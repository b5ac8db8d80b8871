/** Where Kiln's log lines go. Register another under the `LOGGER` token to redirect them. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, silent: 3 };

/** Writes to stderr at or above `level` (default `warn`), so stdout stays clean for `--json`. */
export class ConsoleLogger implements Logger {
  constructor(private readonly level: LogLevel = 'warn') {}
  debug(message: string): void {
    this.write('debug', message);
  }
  info(message: string): void {
    this.write('info', message);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  private write(level: LogLevel, message: string): void {
    if (ORDER[level] >= ORDER[this.level]) process.stderr.write(`kiln ${level}: ${message}\n`);
  }
}
