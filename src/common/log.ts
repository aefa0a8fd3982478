// Logging through winston: readable lines on a terminal, one JSON object per line for
// collectors. Library code takes a Logger (or a child of one); only the CLI creates them.
import winston from 'winston';

export type LogFormat = 'text' | 'json';
export const logFormats: readonly LogFormat[] = ['text', 'json'];
export const logLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

export type Logger = winston.Logger;

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Where lines go; stderr keeps stdout free for command output. */
  readonly stream?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const stream = options.stream ?? process.stderr;
  const format =
    options.format === 'json'
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp(),
          winston.format.printf((info) => {
            const { timestamp, level, message, component, ...rest } = info;
            const scope = typeof component === 'string' ? ` ${component}:` : '';
            const extra = Object.keys(rest).length === 0 ? '' : ` ${JSON.stringify(rest)}`;
            return `${String(timestamp)} ${level}${scope} ${String(message)}${extra}`;
          }),
        );
  return winston.createLogger({
    level: options.level,
    format,
    transports: [new winston.transports.Stream({ stream })],
  });
}

/** A logger that drops everything: the default for library code under test. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

/** What the shells need of a logger: winston's Logger is one, and so is a simulation's trace. */
export interface LogSink {
  error(message: string, fields?: Record<string, unknown>): unknown;
  warn(message: string, fields?: Record<string, unknown>): unknown;
  info(message: string, fields?: Record<string, unknown>): unknown;
}
