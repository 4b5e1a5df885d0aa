//! Drawing a generated batch as a grid on a WebGPU canvas straight from the plan's output buffer
//! (no readback): one render pass, a fullscreen triangle, and `draw.wgsl` beside this file (a
//! render shader, not one of the compute kernels), which maps each canvas pixel to
//! (image, y, x) with nearest scaling and the grid gap.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::gpu::layout::{chw, pad4};
use crate::image::{GRID_GAP, GridLayout};
use crate::model::Shape;

/// The uniform of `draw.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GridUniform {
    count: u32,
    columns: u32,
    width: u32,
    height: u32,
    channels: u32,
    stride: u32,
    gap: u32,
    _pad: u32,
    grid: [u32; 2],
    canvas: [u32; 2],
}

/// Pixel size of the grid of `count` images of `shape` in `columns` (the layout of
/// [`crate::image::grid`]).
pub fn grid_size(shape: Shape, count: usize, columns: usize) -> (u32, u32) {
    let (_, h, w) = chw(shape);
    let layout = GridLayout::new(count, columns, w, h);
    (layout.width as u32, layout.height as u32)
}

/// A canvas configured for the device, with the draw pipeline.
pub struct CanvasRenderer {
    surface: wgpu::Surface<'static>,
    format: wgpu::TextureFormat,
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    uniform: wgpu::Buffer,
    configured: std::cell::Cell<(u32, u32)>,
}

impl CanvasRenderer {
    /// Takes the `webgpu` context of `canvas` (an `HTMLCanvasElement` or, in a worker too, an
    /// `OffscreenCanvas`). The canvas must not have another context already.
    pub fn new(gpu: &Gpu, canvas: wgpu::SurfaceTarget<'static>) -> Result<Self> {
        let surface = gpu
            .instance
            .create_surface(canvas)
            .map_err(|e| Error::Gpu(format!("the canvas has no WebGPU context ({e}); use a fresh <canvas>")))?;
        // The first format is the browser's preferred one: rgba8unorm or bgra8unorm. Not an sRGB
        // format, so the shader's (v + 1) / 2 is stored as is, the byte image::to_byte gives.
        let caps = surface.get_capabilities(&gpu.adapter);
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb() && matches!(f, wgpu::TextureFormat::Rgba8Unorm | wgpu::TextureFormat::Bgra8Unorm))
            .ok_or_else(|| Error::Gpu(format!("the canvas offers no 8-bit unorm format ({:?})", caps.formats)))?;
        let source = include_str!("draw.wgsl");
        let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("draw"),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let layout = gpu.device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("draw"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Storage { read_only: true },
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = gpu.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("draw"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = gpu.device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("draw"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[],
            },
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format,
                    blend: None,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            multiview_mask: None,
            cache: None,
        });
        let uniform = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("draw grid"),
            size: std::mem::size_of::<GridUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ok(CanvasRenderer { surface, format, pipeline, layout, uniform, configured: std::cell::Cell::new((0, 0)) })
    }

    /// The bind group that reads `images` (a plan's output buffer); made once per plan.
    pub fn bind(&self, gpu: &Gpu, images: &wgpu::Buffer) -> wgpu::BindGroup {
        gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("draw"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: self.uniform.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: images.as_entire_binding() },
            ],
        })
    }

    /// Sizes the canvas to the grid (`columns` wide) × `scale`, and draws `count` images of
    /// `shape` from the buffer behind `bind_group`. Call after the plan's run was submitted.
    pub fn draw(
        &self,
        gpu: &Gpu,
        bind_group: &wgpu::BindGroup,
        shape: Shape,
        count: usize,
        columns: usize,
        scale: u32,
    ) -> Result<()> {
        let (c, h, w) = chw(shape);
        if !(c == 1 || c == 3) {
            return Err(Error::Input(format!("only 1- or 3-channel images can be drawn, not {c} channels")));
        }
        let layout = GridLayout::new(count, columns, w, h);
        let (gw, gh) = (layout.width as u32, layout.height as u32);
        let size = (gw * scale, gh * scale);
        let max = gpu.limits.max_texture_dimension_2d;
        if size.0 > max || size.1 > max {
            return Err(Error::Limit {
                what: format!("a {}×{} canvas", size.0, size.1),
                needed: size.0.max(size.1) as u64,
                limit: max as u64,
            });
        }
        if self.configured.get() != size {
            // Sets the canvas's width and height too.
            self.surface.configure(&gpu.device, &wgpu::SurfaceConfiguration {
                usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
                format: self.format,
                color_space: wgpu::SurfaceColorSpace::Auto,
                width: size.0,
                height: size.1,
                present_mode: wgpu::PresentMode::Fifo,
                desired_maximum_frame_latency: 2,
                alpha_mode: wgpu::CompositeAlphaMode::Opaque,
                view_formats: vec![],
            });
            self.configured.set(size);
        }
        let uniform = GridUniform {
            count: count as u32,
            columns: layout.columns as u32,
            width: w as u32,
            height: h as u32,
            channels: c as u32,
            stride: pad4(c) as u32,
            gap: GRID_GAP as u32,
            _pad: 0,
            grid: [gw, gh],
            canvas: [size.0, size.1],
        };
        gpu.queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&uniform));
        let frame = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t) | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            other => {
                let state = match other {
                    wgpu::CurrentSurfaceTexture::Timeout => "timeout",
                    wgpu::CurrentSurfaceTexture::Occluded => "occluded",
                    wgpu::CurrentSurfaceTexture::Outdated => "outdated",
                    wgpu::CurrentSurfaceTexture::Lost => "lost",
                    _ => "validation error",
                };
                self.configured.set((0, 0));
                return Err(Error::Gpu(format!("the canvas gave no texture to draw on ({state}); try again")));
            }
        };
        let view = frame.texture.create_view(&wgpu::TextureViewDescriptor::default());
        let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("draw") });
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("draw"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations { load: wgpu::LoadOp::Clear(wgpu::Color::BLACK), store: wgpu::StoreOp::Store },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, bind_group, &[]);
            pass.draw(0..3, 0..1);
        }
        gpu.queue.submit([encoder.finish()]);
        gpu.queue.present(frame);
        Ok(())
    }
}

/// Resolves when the GPU has finished the work submitted so far (so a caller's frame timing
/// and its next call see finished work, and submissions never pile up).
pub async fn work_done(gpu: &Gpu) {
    let (sender, receiver) = futures_channel::oneshot::channel();
    gpu.queue.on_submitted_work_done(move || {
        let _ = sender.send(());
    });
    let _ = receiver.await;
}
