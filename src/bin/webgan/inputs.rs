//! The generate command's inputs: latents (a `.npy` or a seed), class ids (`--class K` or
//! `--classes y.npy`) and, for image-to-image models, images (`--input x.npy|x.png`), read and
//! checked before any backend starts; and the input/output grid of image-to-image runs.

use std::path::Path;

use webgan::model::Inputs;
use webgan::{Error, Model, Result, Tensor, files, latent, npy};

/// What the command line gave for a generate call.
pub struct Given<'a> {
    pub latents: Option<&'a Path>,
    pub seed: u64,
    pub count: usize,
    pub class: Option<u32>,
    pub classes: Option<&'a Path>,
    pub input: Option<&'a Path>,
}

/// The request for `model` from the command line (checked against the model).
pub fn read(model: &Model, given: &Given) -> Result<Inputs> {
    let images = match (model.image_input(), given.input) {
        (Some(shape), Some(path)) => {
            let [c, h, w] = shape.dims()[..] else { unreachable!("an image input is [C, H, W]") };
            Some(read_images(path, [c, h, w])?)
        }
        (Some(shape), None) => {
            return Err(Error::Input(format!(
                "model `{}` is image-to-image: give --input x.npy (float32 [N, {}]) or x.png",
                model.manifest.name,
                shape.dims().iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
            )));
        }
        (None, Some(_)) => {
            return Err(Error::Input(format!("model `{}` takes no image input; drop --input", model.manifest.name)));
        }
        (None, None) => None,
    };
    let latents = match (model.takes_latents(), given.latents) {
        (true, Some(path)) => Some(npy::read_latents(path, model.manifest.latent_dim)?),
        (true, None) => Some(latent::seeded(given.seed, given.count, model.manifest.latent_dim)?),
        (false, Some(_)) => return Err(Error::Input(format!("model `{}` takes no latents; drop --latents", model.manifest.name))),
        (false, None) => None,
    };
    let n = latents.as_ref().or(images.as_ref()).map_or(given.count, Tensor::batch);
    let classes = match (given.class, given.classes) {
        (Some(_), Some(_)) => return Err(Error::Input("give --class or --classes, not both".into())),
        (Some(k), None) => Some(vec![k; n]),
        (None, Some(path)) => Some(npy::read_classes(path)?),
        (None, None) => None,
    };
    let inputs = Inputs { latents, classes, images };
    model.check_inputs(&inputs)?;
    Ok(inputs)
}

/// Images from a `.npy` (float32 `[N, C, H, W]` in [-1, 1]) or a `.png` of exactly `H × W`
/// (grey or RGB as the model's C says; 8-bit, mapped to [-1, 1]).
fn read_images(path: &Path, chw: [usize; 3]) -> Result<Tensor> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("npy") => npy::read_images(path, chw),
        Some("png") => read_png(path, chw),
        _ => Err(Error::Input(format!("--input {} must be a .npy or a .png", path.display()))),
    }
}

fn read_png(path: &Path, [c, h, w]: [usize; 3]) -> Result<Tensor> {
    let what = path.display().to_string();
    let bad = |m: String| Error::Input(format!("{what}: {m}"));
    // A PNG of the model's size is at most a few MB; anything far larger is not one.
    let bytes = files::read_bounded(path, "the input image", 64 << 20)?;
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| bad(format!("not a PNG ({e})")))?;
    let info = reader.info();
    if (info.width as usize, info.height as usize) != (w, h) {
        return Err(bad(format!("is {}×{} but the model takes {w}×{h} images", info.width, info.height)));
    }
    let size = reader.output_buffer_size();
    let mut buffer = vec![0u8; size];
    let frame = reader.next_frame(&mut buffer).map_err(|e| bad(format!("cannot be decoded ({e})")))?;
    let channels = frame.color_type.samples();
    let pixels = &buffer[..frame.buffer_size()];
    let mut data = vec![0.0f32; c * h * w];
    for p in 0..h * w {
        let px = &pixels[p * channels..(p + 1) * channels];
        let rgb = if channels >= 3 { [px[0], px[1], px[2]] } else { [px[0]; 3] };
        for ch in 0..c {
            let v = if c == 3 { rgb[ch] as f32 } else { rgb.iter().map(|&v| v as f32).sum::<f32>() / 3.0 };
            data[ch * h * w + p] = v / 127.5 - 1.0;
        }
    }
    Tensor::new(&[1, c, h, w], data)
}

/// Inputs and outputs interleaved (input 0, output 0, input 1, …) for a side-by-side grid, when
/// they have the same size (a grey input is shown in the output's colours); else the outputs.
pub fn side_by_side(images: &Tensor, output: &Tensor) -> Result<Tensor> {
    let (n, ci, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3]);
    if output.shape.len() != 4 || output.shape[2..] != [h, w] {
        return Ok(output.clone());
    }
    let co = output.shape[1];
    let plane = h * w;
    let mut data = Vec::with_capacity(2 * output.len());
    for i in 0..n {
        for ch in 0..co {
            let from = if ci == co { ch } else { 0 };
            data.extend_from_slice(&images.data[(i * ci + from) * plane..][..plane]);
        }
        data.extend_from_slice(&output.data[i * co * plane..][..co * plane]);
    }
    Tensor::new(&[2 * n, co, h, w], data)
}
