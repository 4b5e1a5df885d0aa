// draw: the generator's output, still on the GPU, drawn as an image grid on a canvas.
//
// Bindings (group 0):
//   0: uniform Grid
//   1: storage, read: images, f32 [N, H, W, stride] (padded NHWC, the plan's output buffer;
//      stride = channels rounded up to 4), values in [-1, 1]
// Entry points: vs_main (a fullscreen triangle, no vertex buffer) and fs_main.
// Each fragment maps its canvas pixel to a grid pixel (nearest scaling: canvas = grid × scale),
// then to (image, y, x) or to the background of the gaps and of empty tiles. The colour is
// (v + 1) / 2, written to a unorm8 canvas, which rounds as image::to_byte does.

struct Grid {
    count: u32,      // images drawn
    columns: u32,    // tiles per row
    width: u32,      // W of one image
    height: u32,     // H of one image
    channels: u32,   // 1 (grey) or 3 (RGB)
    stride: u32,     // floats per pixel in `images`
    gap: u32,        // pixels between tiles
    _pad: u32,
    grid: vec2<u32>,   // grid size in pixels
    canvas: vec2<u32>, // canvas size in pixels
}

@group(0) @binding(0) var<uniform> g: Grid;
@group(0) @binding(1) var<storage, read> images: array<f32>;

const BACKGROUND = vec3<f32>(24.0 / 255.0, 24.0 / 255.0, 28.0 / 255.0);

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    // (-1, -1), (3, -1), (-1, 3): one triangle that covers the viewport.
    let uv = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    return vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);
}

@fragment
fn fs_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    // Integer mapping, so nearest scaling is exact: grid pixel = floor(canvas pixel · grid / canvas).
    let canvas = max(g.canvas, vec2<u32>(1u, 1u));
    let p = min(vec2<u32>(position.xy), canvas - 1u);
    let q = p * g.grid / canvas;
    let tile = vec2<u32>(g.width + g.gap, g.height + g.gap);
    let cell = q / tile;
    let x = q.x % tile.x;
    let y = q.y % tile.y;
    let index = cell.y * g.columns + cell.x;
    if (x >= g.width || y >= g.height || cell.x >= g.columns || index >= g.count) {
        return vec4<f32>(BACKGROUND, 1.0);
    }
    let at = ((index * g.height + y) * g.width + x) * g.stride;
    var rgb: vec3<f32>;
    if (g.channels == 1u) {
        rgb = vec3<f32>(images[at]);
    } else {
        rgb = vec3<f32>(images[at], images[at + 1u], images[at + 2u]);
    }
    return vec4<f32>(clamp((rgb + 1.0) * 0.5, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}
