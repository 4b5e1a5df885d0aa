// Errors of the package: a one-line message saying what went wrong, and a hint saying what to do.

/** An error loading a model (download, checks, cache, the WebAssembly module), with a hint. */
export class LoadError extends Error {
  /**
   * @param {string} message
   * @param {string} hint
   * @param {{cause?: unknown}} [options]
   */
  constructor(message, hint, options) {
    super(message, options);
    this.name = 'LoadError';
    this.hint = hint;
  }
}

/** `value` for an error message: JSON-quoted and cut short, as manifests can hold anything. */
export function quote(value) {
  let text;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** `e` as an Error with a one-line message (wasm and platform code may throw anything). */
export function toError(e) {
  if (e instanceof Error) return e;
  return new Error(String(e?.message ?? e).split('\n')[0]);
}

/** The one-line message of `e`. */
export function messageOf(e) {
  return String(e?.message ?? e).split('\n')[0];
}

/** Throws `signal.reason` (an AbortError unless the caller chose another) once `signal` aborted. */
export function checkAborted(signal) {
  if (signal?.aborted) {
    throw signal.reason ?? new DOMException('the load was aborted', 'AbortError');
  }
}
