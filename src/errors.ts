// The error classes every layer throws. Callers match on classes (or `name`), never on text.
import { isErrorLike, serializeError } from 'serialize-error';

export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

// Base of every error polytask throws
export class PolytaskError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

// A job spec or an option has a bad value; `path` names the field
export class SpecError extends PolytaskError {
  readonly path: string;
  readonly value: unknown;
  constructor(path: string, message: string, value?: unknown, options?: { cause?: unknown }) {
    super(path === '' ? message : `${path}: ${message}`, options);
    this.path = path;
    this.value = value;
  }
}

// An option passed to the API or the CLI has a bad value
export class OptionError extends PolytaskError {}

// An error raised by user code in a child, with its remote type and traceback
export class RemoteError extends PolytaskError {
  readonly type: string;
  readonly traceback: string;
  constructor(info: ErrorInfo, options?: { cause?: unknown }) {
    super(info.message, options);
    this.type = info.name;
    this.traceback = info.stack ?? '';
    if (info.stack) this.stack = `${this.name} (${info.name}): ${info.message}\n--- remote stack ---\n${info.stack}`;
  }
}

// A value JSON cannot carry: an item that cannot be sent to a child, or a return value the
// child cannot send back. A RemoteError whose `type` is 'SerializationError' (what it was before
// it had a class of its own), so that code catching RemoteError still catches it.
export class SerializationError extends RemoteError {
  constructor(info: ErrorInfo | string, options?: { cause?: unknown }) {
    super(typeof info === 'string' ? { name: 'SerializationError', message: info } : info, options);
    if (this.traceback !== '') this.stack = `${this.name}: ${this.message}\n--- remote stack ---\n${this.traceback}`;
  }
}

// The results could not be written (a reader that closed the pipe, a full disk); `cause` is the
// write's error
export class OutputError extends PolytaskError {}

// A child could not be started or initialised (interpreter missing, code that fails to load)
export class SetupError extends PolytaskError {
  readonly stderr: string;
  constructor(message: string, options?: { cause?: unknown; stderr?: string }) {
    super(message, options);
    this.stderr = options?.stderr ?? '';
  }
}

// A child exited while an item was running
export class WorkerExitedError extends PolytaskError {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  constructor(message: string, exitCode: number | null, signal: NodeJS.Signals | null) {
    super(message);
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

// An item (or a Subprocess: `what`) ran longer than its timeout
export class TimeoutError extends PolytaskError {
  readonly timeout: number;
  constructor(timeout: number, what = 'item') {
    super(`${what} timed out after ${timeout} ms`);
    this.timeout = timeout;
  }
}

// An input line is not valid JSON
export class ParseError extends PolytaskError {
  readonly line: number;
  constructor(line: number, detail: string) {
    super(`line ${line}: invalid JSON: ${detail}`);
    this.line = line;
  }
}

// A results log cannot be used: the input changed since its results were logged, the file is
// not a results log, or it cannot be read or written; `file` is the log, `key` the input line
// (CLI) or index (API) when one item is the cause
export class ResumeError extends PolytaskError {
  readonly file: string;
  readonly key: number | undefined;
  constructor(file: string, key: number | undefined, message: string) {
    super(message);
    this.file = file;
    this.key = key;
  }
}

// The work was stopped by an AbortSignal or Ctrl-C
export class AbortError extends PolytaskError {
  constructor(message = 'the operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

// A future was cancelled before it finished: by cancel(), or by its task's or its own signal,
// whose reason is the `cause`. An AbortError, as every stop by a signal is.
export class CancelledError extends AbortError {
  constructor(id: number, reason?: unknown) {
    super(`future ${id} was cancelled`, reason === undefined ? undefined : { cause: reason });
  }
}

// A future's result was asked for before it was done
export class InvalidStateError extends PolytaskError {}

// Redis (the scale-out's queue) was unreachable for longer than the run's limit
export class ConnectionError extends PolytaskError {}

// The pool was used after close()
export class PoolClosedError extends PolytaskError {
  constructor() {
    super('the pool is closed');
  }
}

// An application alias given to Runner.start() is already running
export class ProcessExistsError extends PolytaskError {
  readonly alias: string;
  readonly pid: number | undefined;
  constructor(alias: string, pid: number | undefined) {
    super(`Expected the \`alias\` option to name no running process, got \`${alias}\` (running as pid ${pid ?? 'unknown'}); use ensureRunning() to reuse it`);
    this.alias = alias;
    this.pid = pid;
  }
}

// A channel was read or written after it was closed, or after its peer went away
export class EndpointClosedError extends PolytaskError {}

// An application's socket did not accept connections in time
export class SocketTimeoutError extends PolytaskError {
  readonly socket: string;
  readonly timeout: number;
  constructor(socket: string, timeout: number, options?: { cause?: unknown }) {
    super(`the socket \`${socket}\` did not accept a connection within ${timeout} ms (see the \`socketTimeout\` option)`, options);
    this.socket = socket;
    this.timeout = timeout;
  }
}

// Plain-data form of an error, as carried in results and the protocol. An error is what
// serialize-error takes for one (the thread pool's wire uses it too): an Error, or an object with
// a name, message and stack (an error of another realm, or one that came over a wire).
export function errorInfo(error: unknown): ErrorInfo {
  if (!(error instanceof Error) && !isErrorLike(error)) return { name: 'Error', message: String(error) };
  // maxDepth 1: the three fields only, not a copy of the causes and custom properties
  const { name, message, stack } = serializeError(error, { maxDepth: 1, useToJSON: false });
  return { name: name ?? 'Error', message: message ?? '', stack: stack ?? '' };
}
