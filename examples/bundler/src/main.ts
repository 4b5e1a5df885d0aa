// The bundler example: the same page as ../plain-html, bundled by esbuild (build.mjs).
import { loadGenerator, type Generator, type LoadProgress } from 'webgan';

const status = document.getElementById('status') as HTMLParagraphElement;
const canvas = document.getElementById('canvas') as HTMLCanvasElement;
// A model folder (model.json + weights): beside the page, or ?model=<URL of a folder>.
const model = new URLSearchParams(location.search).get('model') ?? './models/faces64/';

function progress({ phase, loaded, total }: LoadProgress): void {
  status.textContent = `${phase} ${loaded} / ${total}`;
}

async function main(): Promise<void> {
  const generator: Generator = await loadGenerator(model, { backend: 'auto', onProgress: progress });
  const images = await generator.generate({ seed: 1, count: 4 });
  await images.draw(canvas, { grid: { columns: 2 }, scale: 2 });
  status.textContent = `${generator.name} on ${generator.adapter}`;
  document.body.dataset.backend = generator.backend;
  document.body.dataset.state = 'ready';
}

main().catch((e: unknown) => {
  status.textContent = `Error: ${e instanceof Error ? e.message : String(e)}`;
  document.body.dataset.state = 'error';
});
