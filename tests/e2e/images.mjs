// Small readers for the end-to-end tests: PNG (8-bit RGB/RGBA, not interlaced: what Chromium's
// screenshots, canvas.toBlob and `webgan generate --out x.png` write) and .npy (float32, C order).
import { inflateSync } from 'node:zlib';

/** Decodes a PNG into { width, height, rgba: Uint8Array }. */
export function decodePng(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!signature.every((b, i) => bytes[i] === b)) throw new Error('not a PNG file');
  let width = 0, height = 0, colorType = 0;
  const idat = [];
  for (let at = 8; at < bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const depth = data[8];
      colorType = data[9];
      if (depth !== 8 || ![2, 6].includes(colorType) || data[12] !== 0) {
        throw new Error(`unsupported PNG: depth ${depth}, colour type ${colorType}, interlace ${data[12]}`);
      }
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  const channels = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`bad PNG filter ${filter}`);
      pixels[y * stride + x] = v & 255;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(pixels.subarray(i * channels, i * channels + 3), i * 4);
    rgba[i * 4 + 3] = channels === 4 ? pixels[i * 4 + 3] : 255;
  }
  return { width, height, rgba };
}

/** Reads a float32 C-order .npy into { shape, data: Float32Array }. */
export function readNpy(buffer) {
  const bytes = new Uint8Array(buffer);
  if (String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new Error('not a .npy file');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`expected little-endian float32 in C order: ${header}`);
  }
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const offset = start + headerLength;
  const data = new Float32Array(bytes.slice(offset, offset + 4 * shape.reduce((a, b) => a * b, 1)).buffer);
  return { shape, data };
}

/** `image` (scale × larger, nearest) sampled back to `width` × `height` at pixel centres. */
export function downsample(image, width, height) {
  const sx = image.width / width, sy = image.height / height;
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor((y + 0.5) * sy) * image.width + Math.floor((x + 0.5) * sx)) * 4;
      out.set(image.rgba.subarray(from, from + 4), (y * width + x) * 4);
    }
  }
  return { width, height, rgba: out };
}

/** Largest and mean absolute RGB difference, and where the largest is. */
export function compareRgb(a, b) {
  if (a.width !== b.width || a.height !== b.height) {
    return { max: Infinity, mean: Infinity, where: `sizes differ: ${a.width}×${a.height} vs ${b.width}×${b.height}` };
  }
  let max = 0, sum = 0, at = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(a.rgba[i * 4 + c] - b.rgba[i * 4 + c]);
      sum += d;
      if (d > max) {
        max = d;
        at = i * 4 + c;
      }
    }
  }
  const p = at >> 2;
  const where = `x ${p % a.width}, y ${Math.floor(p / a.width)}, channel ${at & 3}: ${a.rgba[at]} vs ${b.rgba[at]}`;
  return { max, mean: sum / (a.width * a.height * 3), where };
}
