// A browser use of the webgan package, type-checked (never run) by types.test.mjs with
// `tsc --noEmit --strict` against the typings shipped in the installed tarball. The
// expected-error lines in misuse() prove the typings are checked, not `any`.
import { loadGenerator, LoadError } from 'webgan';
import type { Generator, Images, LoadProgress } from 'webgan';

const status = document.createElement('progress');

function onProgress(progress: LoadProgress): void {
  status.value = progress.loaded;
  status.max = progress.total;
  status.title = progress.phase === 'compile' ? 'compiling shaders' : progress.phase;
}

export async function show(url: string, canvas: HTMLCanvasElement): Promise<ImageData> {
  const generator: Generator = await loadGenerator(url, { backend: 'auto', onProgress });
  const images: Images = await generator.generate({ seed: 1, count: 4 });
  const rgba = await images.rgba(0);
  const image = new ImageData(rgba, images.width, images.height);
  await images.draw(canvas, { grid: { columns: 2 }, scale: 2 });
  const png: Blob = await images.toBlob(0);
  const floats: Float32Array = await images.floats();
  console.log(generator.backend === 'webgpu' ? generator.adapter : generator.fallbackReason, png.size, floats.length);
  generator.lost.then((reason: string) => console.warn(`GPU lost: ${reason}`));
  generator.dispose();
  return image;
}

export async function others(bytes: Uint8Array, signal: AbortSignal): Promise<number> {
  try {
    using generator = await loadGenerator({ manifest: '{}', weights: bytes }, { backend: 'cpu', cache: false, signal });
    const z = generator.latents(7, 2);
    const between = generator.slerp(z.subarray(0, generator.latentDim), z.subarray(generator.latentDim), 0.5);
    using images = await generator.generate({ latents: between, count: 1 }, { classes: 0 });
    const scores = await generator.realness(new URL('discriminator/', location.href), images);
    const grid: ImageData = await images.gridImageData({ columns: 1 });
    return scores[0] + grid.width + images.gridSize().height;
  } catch (e) {
    if (e instanceof LoadError) console.error(e.message, e.hint);
    throw e;
  }
}

export async function misuse(generator: Generator, images: Images): Promise<void> {
  // @ts-expect-error: the backend is one of three names
  await loadGenerator('models/faces64/', { backend: 'gpu' });
  // @ts-expect-error: a seed is a number
  await generator.generate({ seed: '1', count: 4 });
  // @ts-expect-error: a request needs a seed or latents
  await generator.generate({ count: 4 });
  // @ts-expect-error: no such phase
  onProgress({ phase: 'upload', loaded: 0, total: 1 });
  // @ts-expect-error: rgba takes an index
  await images.rgba();
  // @ts-expect-error: metadata is read-only
  generator.width = 3;
}
