//! The images of one `Engine.generate` call ([`Output`] for JavaScript): floats, RGBA bytes of
//! one image or of the grid (the same bytes as the CLI's PNG), and drawing on a canvas —
//! straight from the GPU buffer while the images are still there, else through a 2D context.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::Clamped;

use super::canvas::Canvas;
use super::draw::{CanvasRenderer, grid_size};
use super::engine::Core;
use super::js_error;
use crate::error::{Error, Result};
use crate::gpu::Plan;
use crate::gpu::layout::chw;
use crate::image::{grid, upscale};
use crate::model::Shape;
use crate::tensor::Tensor;

/// Where a batch of images is: in a plan's output buffer (until that plan runs again, when the
/// engine reads them back first), read back, or both.
pub(super) struct Images {
    count: usize,
    shape: Shape,
    plan: RefCell<Option<Rc<Plan>>>,
    tensor: RefCell<Option<Tensor>>,
}

impl Images {
    pub fn on_gpu(plan: Rc<Plan>, count: usize, shape: Shape) -> Self {
        Images { count, shape, plan: RefCell::new(Some(plan)), tensor: RefCell::new(None) }
    }

    pub fn on_cpu(tensor: Tensor, shape: Shape) -> Self {
        Images { count: tensor.batch(), shape, plan: RefCell::new(None), tensor: RefCell::new(Some(tensor)) }
    }

    /// True while the images are (only) in `plan`'s buffer.
    pub fn is_on(&self, plan: &Rc<Plan>) -> bool {
        self.plan.borrow().as_ref().is_some_and(|p| Rc::ptr_eq(p, plan))
    }

    /// Reads the images back, if they are only on the GPU, and lets go of the plan.
    pub async fn settle(&self, core: &Core) -> Result<()> {
        self.tensor(core).await?;
        self.plan.replace(None);
        Ok(())
    }

    /// The images as `[N, C, H, W]`, read back once. Call inside the engine's queue, so the
    /// plan cannot run between the check and the read.
    pub async fn tensor(&self, core: &Core) -> Result<Tensor> {
        if let Some(t) = self.tensor.borrow().as_ref() {
            return Ok(t.clone());
        }
        let plan = self.plan.borrow().clone().ok_or_else(|| Error::Input("these images are gone".into()))?;
        let gpu = core.session.gpu_device().ok_or_else(|| Error::Input("the engine has no GPU".into()))?;
        let tensor = plan.read_output(gpu, self.count).await?;
        self.tensor.replace(Some(tensor.clone()));
        Ok(tensor)
    }
}

/// The images of one generate call.
#[wasm_bindgen]
pub struct Output {
    images: Rc<Images>,
    core: Rc<Core>,
}

impl Output {
    pub(super) fn new(images: Rc<Images>, core: Rc<Core>) -> Self {
        Output { images, core }
    }

    pub(super) fn images(&self) -> Rc<Images> {
        self.images.clone()
    }

    async fn tensor(&self) -> Result<Tensor> {
        let _turn = self.core.queue.turn().await;
        self.images.tensor(&self.core).await
    }

    /// The renderer of `canvas`, made on first use; None where the canvas cannot take WebGPU
    /// (it has a 2D context already).
    fn renderer(&self, canvas: &Canvas) -> Option<Rc<CanvasRenderer>> {
        let gpu = self.core.session.gpu_device()?;
        let mut renderers = self.core.renderers.borrow_mut();
        if let Some((_, r)) = renderers.iter().find(|(c, _)| js_sys::Object::is(c, canvas.js())) {
            return Some(r.clone());
        }
        let renderer = Rc::new(CanvasRenderer::new(gpu, canvas.target()).ok()?);
        renderers.push((canvas.js().clone(), renderer.clone()));
        Some(renderer)
    }
}

#[wasm_bindgen]
impl Output {
    /// Number of images.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> usize {
        self.images.count
    }

    #[wasm_bindgen(getter)]
    pub fn channels(&self) -> usize {
        chw(self.images.shape).0
    }

    #[wasm_bindgen(getter)]
    pub fn height(&self) -> usize {
        chw(self.images.shape).1
    }

    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        chw(self.images.shape).2
    }

    /// `[count, C, H, W]` floats in [-1, 1] (NCHW).
    pub async fn floats(&self) -> std::result::Result<Vec<f32>, JsError> {
        Ok(self.tensor().await.map_err(js_error)?.data)
    }

    /// Image `index` as RGBA bytes (`width × height × 4`).
    pub async fn rgba(&self, index: usize) -> std::result::Result<Clamped<Vec<u8>>, JsError> {
        let t = self.tensor().await.map_err(js_error)?;
        let one = t.samples(&[index]).map_err(js_error)?;
        Ok(Clamped(grid(&one, 1).map_err(js_error)?.pixels))
    }

    /// All images as one grid of `columns` (2-pixel gaps), RGBA bytes of
    /// `gridWidth(columns) × gridHeight(columns)`.
    #[wasm_bindgen(js_name = gridRgba)]
    pub async fn grid_rgba(&self, columns: usize) -> std::result::Result<Clamped<Vec<u8>>, JsError> {
        let t = self.tensor().await.map_err(js_error)?;
        Ok(Clamped(grid(&t, columns).map_err(js_error)?.pixels))
    }

    /// Pixel width of the grid of `columns`.
    #[wasm_bindgen(js_name = gridWidth)]
    pub fn grid_width(&self, columns: usize) -> u32 {
        grid_size(self.images.shape, self.images.count, columns).0
    }

    /// Pixel height of the grid of `columns`.
    #[wasm_bindgen(js_name = gridHeight)]
    pub fn grid_height(&self, columns: usize) -> u32 {
        grid_size(self.images.shape, self.images.count, columns).1
    }

    /// Draws the grid of `columns` at `scale` (1–16) on `canvas` (an `HTMLCanvasElement` or
    /// `OffscreenCanvas`, sized to fit): from the GPU buffer while the images are still there
    /// and the canvas can take WebGPU, else through its 2D context.
    pub async fn draw(&self, canvas: JsValue, columns: usize, scale: u32) -> std::result::Result<(), JsError> {
        let canvas = Canvas::from_js(&canvas).map_err(js_error)?;
        let scale = scale.clamp(1, 16);
        let _turn = self.core.queue.turn().await;
        let plan = self.images.plan.borrow().clone();
        if let (Some(plan), Some(gpu)) = (plan, self.core.session.gpu_device()) {
            if let Some(renderer) = self.renderer(&canvas) {
                let bind = renderer.bind(gpu, plan.output_buffer());
                renderer.draw(gpu, &bind, self.images.shape, self.images.count, columns, scale).map_err(js_error)?;
                super::draw::work_done(gpu).await;
                return gpu.check().map_err(js_error);
            }
        }
        let t = self.images.tensor(&self.core).await.map_err(js_error)?;
        let image = upscale(&grid(&t, columns).map_err(js_error)?, scale as usize);
        canvas.put(&image).map_err(js_error)
    }
}
