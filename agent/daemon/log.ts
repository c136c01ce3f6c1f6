// Structured logging for the daemon: text lines for people, JSON lines for
// journald and log shippers (`--log-format json`). Never one line per packet:
// the data path counts, it does not log (STYLE habit 8).

export type Level = 'debug' | 'info' | 'warn' | 'error';
export const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];
export type LogFormat = 'text' | 'json';

export type Fields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds fields (e.g. the plane) to every line. */
  with(fields: Fields): Logger;
}

export interface LoggerOptions {
  level: Level;
  format: LogFormat;
  write: (line: string) => void;
  nowIso: () => string;
}

export function createLogger(opts: LoggerOptions, base: Fields = {}): Logger {
  const min = LEVELS.indexOf(opts.level);
  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (LEVELS.indexOf(level) < min) return;
    const all = { ...base, ...fields };
    if (opts.format === 'json') {
      opts.write(JSON.stringify({ time: opts.nowIso(), level, msg, ...all }) + '\n');
      return;
    }
    let line = `${opts.nowIso()} ${level.toUpperCase().padEnd(5)} ${msg}`;
    for (const [k, v] of Object.entries(all)) {
      if (v === undefined) continue;
      const s = String(v);
      line += ` ${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`;
    }
    opts.write(line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (f) => createLogger(opts, { ...base, ...f }),
  };
}
