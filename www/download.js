// PNG downloads of the canvas's grid or of one image, from pixels read back from the engine.

/** Saves `rgba` (width × height × 4 bytes) as a PNG file named `name`. */
export async function savePng(rgba, width, height, name) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** The grid of `images` (the package's Images on the canvas) as `<stem>-grid<n>.png`; `exclusive` serialises engine calls. */
export async function downloadGrid(images, exclusive, stem) {
  const n = images.count;
  const { width, height } = images.gridSize();
  const rgba = await exclusive(() => images.gridRgba());
  await savePng(rgba, width, height, `${stem}-grid${n}.png`);
}

/** Image `selected` of the grid (the last one if there are fewer) as `<stem>-image<k>.png`. */
export async function downloadOne(images, exclusive, stem, selected) {
  const index = Math.min(selected, images.count - 1);
  const rgba = await exclusive(() => images.rgba(index));
  await savePng(rgba, images.width, images.height, `${stem}-image${index + 1}.png`);
}
