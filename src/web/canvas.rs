//! The canvases webgan draws on: an `HTMLCanvasElement` in a page or an `OffscreenCanvas` (in a
//! page or a worker), as a WebGPU surface target or through its 2D context.

use wasm_bindgen::{Clamped, JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData, OffscreenCanvas, OffscreenCanvasRenderingContext2d};

use crate::error::{Error, Result};
use crate::image::Rgba;

/// A canvas of either kind.
#[derive(Clone)]
pub enum Canvas {
    Element(HtmlCanvasElement),
    Offscreen(OffscreenCanvas),
}

impl Canvas {
    /// `value` as a canvas, or an error saying what to pass.
    pub fn from_js(value: &JsValue) -> Result<Self> {
        if let Some(c) = value.dyn_ref::<HtmlCanvasElement>() {
            return Ok(Canvas::Element(c.clone()));
        }
        if let Some(c) = value.dyn_ref::<OffscreenCanvas>() {
            return Ok(Canvas::Offscreen(c.clone()));
        }
        Err(Error::Input("draw needs an HTMLCanvasElement or an OffscreenCanvas".into()))
    }

    /// The JS object, to tell canvases apart.
    pub fn js(&self) -> &JsValue {
        match self {
            Canvas::Element(c) => c.as_ref(),
            Canvas::Offscreen(c) => c.as_ref(),
        }
    }

    /// The canvas as a WebGPU surface target.
    pub fn target(&self) -> wgpu::SurfaceTarget<'static> {
        match self {
            Canvas::Element(c) => wgpu::SurfaceTarget::Canvas(c.clone()),
            Canvas::Offscreen(c) => wgpu::SurfaceTarget::OffscreenCanvas(c.clone()),
        }
    }

    /// Sizes the canvas to `image` and puts its pixels through the 2D context.
    pub fn put(&self, image: &Rgba) -> Result<()> {
        let (w, h) = (image.width as u32, image.height as u32);
        let data = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&image.pixels), w, h)
            .map_err(|e| Error::Input(format!("could not make the image: {e:?}")))?;
        let no_2d = || Error::Input("the canvas has a WebGPU context already, so it cannot take 2D pixels; use a fresh canvas".into());
        let failed = |e: JsValue| Error::Input(format!("drawing failed: {e:?}"));
        match self {
            Canvas::Element(c) => {
                c.set_width(w);
                c.set_height(h);
                let context = c.get_context("2d").ok().flatten().and_then(|x| x.dyn_into::<CanvasRenderingContext2d>().ok());
                context.ok_or_else(no_2d)?.put_image_data(&data, 0.0, 0.0).map_err(failed)
            }
            Canvas::Offscreen(c) => {
                c.set_width(w);
                c.set_height(h);
                let context =
                    c.get_context("2d").ok().flatten().and_then(|x| x.dyn_into::<OffscreenCanvasRenderingContext2d>().ok());
                context.ok_or_else(no_2d)?.put_image_data(&data, 0.0, 0.0).map_err(failed)
            }
        }
    }
}
