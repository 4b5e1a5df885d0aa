// Checking weights against model.json before they are cached or handed to the engine: size,
// then SHA-256 (Web Crypto, in browsers and in Node ≥ 20).

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');

/** SHA-256 of `bytes` as hex, or null where crypto.subtle is missing (plain http on a LAN host). */
export async function sha256(bytes) {
  if (!globalThis.crypto?.subtle) return null;
  return hex(await globalThis.crypto.subtle.digest('SHA-256', bytes));
}

/** Why `bytes` are not the weights `spec` (model.json's `weights`) describes, or null when they are. */
export async function verify(bytes, spec) {
  if (bytes.byteLength !== spec.bytes) {
    return `it has ${bytes.byteLength} bytes but model.json says ${spec.bytes}`;
  }
  const actual = await sha256(bytes);
  if (actual !== null && actual !== spec.sha256) {
    return `its SHA-256 is ${actual} but model.json says ${spec.sha256}`;
  }
  return null;
}
