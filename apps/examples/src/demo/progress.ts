/**
 * The demo's training progress. On a terminal: a `cli-progress` bar redrawn in place. When the stream is not a
 * TTY (piped into a file or a CI log): plain lines, one every `everyFraction` of the run or every `intervalMs`,
 * whichever comes first, decided on each update. cli-progress's own non-TTY mode schedules its lines on a
 * timer, which never fires while training keeps the event loop busy, so piped logs showed only 0 % and 100 %.
 */
import { SingleBar } from 'cli-progress';

export interface ProgressPayload {
  loss: string;
  ep: string;
  en: string;
}

export interface Progress {
  start(total: number, value: number, payload: ProgressPayload): void;
  update(value: number, payload: ProgressPayload): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Where to write (default `process.stderr`, like cli-progress). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Plain-line mode: at most this long between lines (default 10 s). */
  intervalMs?: number;
  /** Plain-line mode: a line each time this fraction of the run is done (default 0.1). */
  everyFraction?: number;
  /** Clock, for tests. */
  now?: () => number;
}

const FORMAT =
  'train |{bar}| {percentage}% {value}/{total} steps | loss {loss} | E+ {ep} E- {en} | {eta_formatted} left';

function fmtEta(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** A terminal bar on a TTY, periodic plain lines otherwise. */
export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (stream.isTTY) {
    const bar = new SingleBar({ format: FORMAT, hideCursor: true, stream });
    return {
      start: (t, v, p) => bar.start(t, v, p),
      update: (v, p) => bar.update(v, p),
      stop: () => bar.stop(),
    };
  }
  const intervalMs = options.intervalMs ?? 10_000;
  const everyFraction = options.everyFraction ?? 0.1;
  const now = options.now ?? Date.now;
  let total = 0;
  let t0 = 0;
  let lastAt = 0;
  let lastValue = 0;
  let lastLine = -1;
  let payload: ProgressPayload = { loss: '–', ep: '–', en: '–' };
  const line = (value: number) => {
    const pct = total > 0 ? Math.floor((100 * value) / total) : 100;
    const elapsed = now() - t0;
    const eta = value > 0 && value < total ? ` | ${fmtEta((elapsed * (total - value)) / value)} left` : '';
    stream.write(
      `train ${pct}% ${value}/${total} steps | loss ${payload.loss} | E+ ${payload.ep} E- ${payload.en}${eta}\n`,
    );
    lastAt = now();
    lastLine = value;
  };
  return {
    start(t, v, p) {
      total = t;
      payload = p;
      t0 = now();
      lastValue = v;
      line(v);
    },
    update(v, p) {
      payload = p;
      const step = Math.max(1, Math.ceil(total * everyFraction));
      const crossed = Math.floor(v / step) > Math.floor(lastValue / step);
      lastValue = v;
      if (v !== lastLine && (crossed || v >= total || now() - lastAt >= intervalMs)) line(v);
    },
    stop() {
      if (lastValue !== lastLine) line(lastValue);
    },
  };
}
