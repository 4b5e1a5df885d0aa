// The images of one generate call: a handle on the engine's Output (on the GPU where there is
// one), read back only when asked, as floats, RGBA bytes, ImageData or PNG, or drawn to a canvas.
import { toError } from './errors.js';

/** `Symbol.dispose` where the runtime has it, else the registered stand-in (Node 20). */
export const DISPOSE = Symbol.dispose ?? Symbol.for('Symbol.dispose');

/** Columns of the most nearly square grid for `count` tiles (as src/image.rs grid_columns). */
export function squareColumns(count) {
  return Math.max(1, Math.ceil(Math.sqrt(count)));
}

function positiveInteger(value, what) {
  if (!Number.isSafeInteger(value) || value < 1 || value > 0xffffffff) {
    throw new RangeError(`${what} must be a whole number of at least 1, not ${String(value)}`);
  }
  return value;
}

function makeImageData(rgba, width, height) {
  if (typeof ImageData !== 'function') {
    throw new Error('ImageData does not exist here (as in Node): use rgba() or gridRgba() with width and height');
  }
  return new ImageData(rgba, width, height);
}

export class Images {
  #output;
  #owner;
  #context;
  #shape;

  /** Made by Generator.generate only; `context`: { token, guard(call), encodePng(rgba, w, h) }. */
  constructor(token, output, owner, context) {
    if (token !== context?.token) throw new TypeError('Images are made by Generator.generate()');
    this.#output = output;
    this.#owner = owner;
    this.#context = context;
    this.#shape = { count: output.count, channels: output.channels, width: output.width, height: output.height };
  }

  /** The generator these images came from (for realness). */
  static ownerOf(images) {
    return images.#owner;
  }

  /** The engine's Output (for realness). */
  static outputOf(images) {
    return images.#live();
  }

  #live() {
    if (!this.#output) throw new Error('these images were disposed');
    return this.#output;
  }

  #call(read) {
    const output = this.#live();
    return this.#context.guard(() => read(output));
  }

  #index(index) {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`image index ${String(index)} is out of range: these are ${this.count} images (0 to ${this.count - 1})`);
    }
    return index;
  }

  #columns(options) {
    return options?.columns === undefined ? squareColumns(this.count) : positiveInteger(options.columns, 'grid columns');
  }

  get count() { return this.#shape.count; }
  get channels() { return this.#shape.channels; }
  get width() { return this.#shape.width; }
  get height() { return this.#shape.height; }

  async floats() {
    return this.#call((o) => o.floats());
  }

  async rgba(index) {
    const i = this.#index(index);
    return this.#call((o) => o.rgba(i));
  }

  async imageData(index) {
    return makeImageData(await this.rgba(index), this.width, this.height);
  }

  async toBlob(index) {
    return this.#context.encodePng(await this.rgba(index), this.width, this.height);
  }

  gridSize(options) {
    const columns = this.#columns(options);
    const output = this.#live();
    return { columns, width: output.gridWidth(columns), height: output.gridHeight(columns) };
  }

  async gridRgba(options) {
    const columns = this.#columns(options);
    return this.#call((o) => o.gridRgba(columns));
  }

  async gridImageData(options) {
    const { width, height } = this.gridSize(options);
    return makeImageData(await this.gridRgba(options), width, height);
  }

  async gridToBlob(options) {
    const { width, height } = this.gridSize(options);
    return this.#context.encodePng(await this.gridRgba(options), width, height);
  }

  async draw(canvas, options = {}) {
    const columns = this.#columns(options.grid);
    const scale = options.scale === undefined ? 1 : positiveInteger(options.scale, 'scale');
    if (!canvas || typeof canvas.getContext !== 'function') {
      throw new TypeError('draw() takes an HTMLCanvasElement or an OffscreenCanvas');
    }
    await this.#call((o) => o.draw(canvas, columns, scale));
  }

  dispose() {
    const output = this.#output;
    this.#output = undefined;
    try {
      output?.free();
    } catch (e) {
      throw toError(e);
    }
  }

  [DISPOSE]() {
    this.dispose();
  }
}
