//! The command line itself: argument parsing, `generate`, `convert` and `bench`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use npyz::WriterBuilder;
use webgan::discriminator::most_real_first;
use webgan::limits::GPU_CHUNK;
use webgan::session::{self, BackendChoice, Critic, Session};
use webgan::{Error, Model, Result, Tensor, files, image};

use crate::inputs;

#[derive(Parser)]
#[command(name = "webgan", version, about = "Run pretrained GAN generators on the GPU or CPU")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Gpu,
    Cpu,
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Model folder (model.json + weights).
    #[arg(long)]
    model: PathBuf,
    /// Latents as a NumPy float32 array [N, latent] or [N, latent, 1, 1].
    #[arg(long, conflicts_with_all = ["seed", "count"])]
    latents: Option<PathBuf>,
    /// Seed of the standard-normal latents.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of images to draw from the seed.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Class label for conditional models (the same for every image).
    #[arg(long)]
    class: Option<u32>,
    /// Class ids, one per image: a NumPy integer array [N] (int64, int32 or uint8).
    #[arg(long, conflicts_with = "class")]
    classes: Option<PathBuf>,
    /// Input images of image-to-image models: a NumPy float32 [N, C, H, W] in [-1, 1], or a PNG
    /// of the size the model takes.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Output file: .png (image grid) or .npy (raw float32).
    #[arg(long)]
    out: PathBuf,
    /// gpu (default when a GPU adapter exists) or cpu.
    #[arg(long, value_enum)]
    backend: Option<Backend>,
    /// Discriminator folder: score every image with it, print the logits, and write the
    /// images most real first.
    #[arg(long, value_name = "DISCRIMINATOR")]
    sort_by_realness: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum WeightsDtype {
    F16,
    F32,
}

#[derive(Subcommand)]
enum Command {
    /// Generate images (.png grid) or raw outputs (.npy, [N, C, H, W] float32 in [-1, 1]).
    Generate(GenerateArgs),
    /// Convert an ONNX generator (and its external data files beside it) into a model folder.
    Convert {
        /// The .onnx file.
        model: PathBuf,
        /// The model folder to write: model.json + weights.safetensors.
        out_dir: PathBuf,
        /// How the weights are stored.
        #[arg(long, value_enum, default_value = "f16")]
        dtype: WeightsDtype,
    },
    /// Time generation per batch size: first run, warm median, images/s, GFLOP/s.
    Bench {
        #[arg(long)]
        model: PathBuf,
        /// Comma-separated batch sizes.
        #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
        batch: Vec<usize>,
        /// gpu (with the CPU reference beside it) or cpu alone.
        #[arg(long, value_enum, default_value = "gpu")]
        backend: Backend,
        /// Warm runs per batch size (median reported).
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Skip the CPU reference measurement.
        #[arg(long)]
        no_cpu: bool,
        /// Also time every dispatch on its own (GPU backend).
        #[arg(long)]
        profile: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => generate(&args),
        Command::Convert { model, out_dir, dtype } => {
            let dtype = match dtype {
                WeightsDtype::F16 => webgan::onnx::Dtype::F16,
                WeightsDtype::F32 => webgan::onnx::Dtype::F32,
            };
            crate::convert::convert_onnx(&model, &out_dir, dtype)
        }
        Command::Bench { model, batch, backend, runs, no_cpu, profile } => {
            bench(&model, &batch, backend, runs, no_cpu, profile)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("webgan: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(args: &GenerateArgs) -> Result<()> {
    let GenerateArgs { model, latents, seed, count, class, classes, input, out, backend, sort_by_realness } = args;
    // Before anything else, so a bad --out never costs a model load, nor touches a file.
    let format = OutputFormat::of(out)?;
    files::check_writable(out)?;
    let model = Model::load_dir(model)?;
    // Read before a GPU starts, so bad inputs fail at once.
    let given = inputs::Given {
        latents: latents.as_deref(),
        seed: *seed,
        count: *count,
        class: *class,
        classes: classes.as_deref(),
        input: input.as_deref(),
    };
    let request = inputs::read(&model, &given)?;
    let choice = match backend {
        Some(Backend::Gpu) => BackendChoice::Gpu,
        Some(Backend::Cpu) => BackendChoice::Cpu,
        None => BackendChoice::Auto,
    };
    let session = pollster::block_on(Session::open(model, choice))?;
    match session.backend() {
        session::Backend::Gpu { gpu, .. } => eprintln!("webgan: {}", gpu.describe()),
        session::Backend::Cpu { reason } if backend.is_none() => eprintln!("webgan: using the CPU reference: {reason}"),
        session::Backend::Cpu { .. } => {}
    }
    // Loaded and paired before generating, so a wrong folder fails at once.
    let critic = sort_by_realness.as_deref().map(|dir| session.critic(Model::load_dir(dir)?)).transpose()?;
    let started = Instant::now();
    let output = pollster::block_on(session.generate_inputs(&request))?;
    eprintln!("webgan: generated {} in {:.1} ms", output.batch(), started.elapsed().as_secs_f64() * 1e3);
    let output = match critic {
        Some(critic) => most_real_first_printed(&critic, &output)?,
        None => output,
    };
    let shown = match (&request.images, format) {
        (Some(images), OutputFormat::Png) => inputs::side_by_side(images, &output)?,
        _ => output,
    };
    files::write_atomic(out, &format.encode(&shown)?)
}

/// `images` reordered most real first by `critic`, printing each image's logit with its index
/// in the generated batch.
fn most_real_first_printed(critic: &Critic, images: &Tensor) -> Result<Tensor> {
    let scores = pollster::block_on(critic.realness(images))?;
    let order = most_real_first(&scores);
    println!("rank\timage\tlogit");
    for (rank, &i) in order.iter().enumerate() {
        println!("{}\t{i}\t{:.4}", rank + 1, scores[i]);
    }
    images.samples(&order)
}

/// What `--out` asks for, from its extension.
#[derive(Clone, Copy)]
enum OutputFormat {
    /// Raw float32 `[N, C, H, W]`.
    Npy,
    /// An RGBA grid of the images.
    Png,
}

impl OutputFormat {
    fn of(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("npy") => Ok(OutputFormat::Npy),
            Some("png") => Ok(OutputFormat::Png),
            _ => Err(Error::Input(format!(
                "--out {} must end in .png (image grid) or .npy (raw float32)",
                path.display()
            ))),
        }
    }

    /// The whole file in memory, so that it is written in one piece or not at all.
    fn encode(self, output: &Tensor) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let encoding = |e: std::io::Error| Error::Input(format!("encoding the output failed: {e}"));
        match self {
            OutputFormat::Npy => {
                let shape: Vec<u64> = output.shape.iter().map(|&d| d as u64).collect();
                let mut npy = npyz::WriteOptions::<f32>::new()
                    .default_dtype()
                    .shape(&shape)
                    .writer(&mut bytes)
                    .begin_nd()
                    .map_err(encoding)?;
                npy.extend(output.data.iter().copied()).map_err(encoding)?;
                npy.finish().map_err(encoding)?;
            }
            OutputFormat::Png => {
                let grid = image::grid(output, image::grid_columns(output.batch()))?;
                let mut encoder = png::Encoder::new(&mut bytes, grid.width as u32, grid.height as u32);
                encoder.set_color(png::ColorType::Rgba);
                encoder.set_depth(png::BitDepth::Eight);
                let mut png = encoder.write_header().map_err(|e| Error::Input(format!("PNG: {e}")))?;
                png.write_image_data(&grid.pixels).map_err(|e| Error::Input(format!("PNG: {e}")))?;
                png.finish().map_err(|e| Error::Input(format!("PNG: {e}")))?;
            }
        }
        Ok(bytes)
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn bench(model_dir: &Path, batches: &[usize], backend: Backend, runs: usize, no_cpu: bool, profile: bool) -> Result<()> {
    let model = Model::load_dir(model_dir)?;
    let flops = 2.0 * model.macs_per_sample() as f64;
    let runs = runs.max(1);
    let gpu = match backend {
        Backend::Gpu => Some(pollster::block_on(Session::open(model.clone(), BackendChoice::Gpu))?),
        Backend::Cpu => None,
    };
    let cpu = (!no_cpu || gpu.is_none()).then(|| Session::cpu(model.clone(), "the benchmark's reference"));
    println!("model {} ({:.3} GFLOP per image)", model.manifest.name, flops / 1e9);
    if let Some(gpu) = gpu.as_ref().and_then(Session::gpu_device) {
        println!("adapter: {}", gpu.describe());
    }
    println!(
        "{:>7} {:>8} {:>11} {:>11} {:>10} {:>9} | {:>11} {:>10} {:>8}",
        "backend", "batch", "first ms", "warm ms", "images/s", "GFLOP/s", "cpu ms", "cpu img/s", "speedup"
    );
    // Every request is made (and so checked) before the first run: a bad batch fails at once.
    let session = gpu.as_ref().or(cpu.as_ref()).ok_or_else(|| Error::Input("nothing to benchmark".into()))?;
    let requests = batches
        .iter()
        .map(|&batch| {
            let z = session.seed_latents(1, batch).map_err(|e| match e {
                Error::Input(m) => Error::Input(format!("--batch {batch}: {m}")),
                other => other,
            })?;
            Ok((batch, z, model.manifest.num_classes.map(|_| vec![0u32; batch])))
        })
        .collect::<Result<Vec<_>>>()?;
    for (batch, z, classes) in requests {
        let labels = classes.as_deref();
        let run = |s: &Session| pollster::block_on(s.generate(&z, labels)).map(|_| ());
        let cpu_ms = match &cpu {
            // The CPU reference is slow: fewer runs, none more after one of over 2 s.
            Some(cpu) => {
                let once = ms(&mut || run(cpu))?;
                Some(if once > 2000.0 { once } else { median(vec![once, ms(&mut || run(cpu))?, ms(&mut || run(cpu))?]) })
            }
            None => None,
        };
        let (name, first, warm) = match &gpu {
            Some(gpu) => {
                let (first, warm) = time(runs, || run(gpu))?;
                report_plan(gpu, &z, labels, profile)?;
                ("gpu", first, warm)
            }
            None => {
                let ms = cpu_ms.unwrap_or(0.0);
                ("cpu", ms, ms)
            }
        };
        let per_s = batch as f64 / (warm / 1e3);
        let (cms, cps, speedup) = match cpu_ms {
            Some(c) => (format!("{c:.1}"), format!("{:.1}", batch as f64 / (c / 1e3)), format!("{:.1}x", c / warm)),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{name:>7} {batch:>8} {first:>11.1} {warm:>11.2} {per_s:>10.1} {:>9.2} | {cms:>11} {cps:>10} {speedup:>8}",
            flops * per_s / 1e9
        );
    }
    Ok(())
}

/// One run of `f`, in ms.
fn ms(f: &mut impl FnMut() -> Result<()>) -> Result<f64> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed().as_secs_f64() * 1e3)
}

/// The first run's time and the median of `runs` more (at least one), in ms.
fn time(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<(f64, f64)> {
    let first = ms(&mut f)?;
    let warm = (0..runs.max(1)).map(|_| ms(&mut f)).collect::<Result<Vec<_>>>()?;
    Ok((first, median(warm)))
}

/// The GPU memory of the plan a batch ran on and, with `profile`, each of its dispatches timed.
fn report_plan(gpu: &Session, z: &Tensor, labels: Option<&[u32]>, profile: bool) -> Result<()> {
    let (Some(device), n) = (gpu.gpu_device(), z.batch().min(GPU_CHUNK)) else { return Ok(()) };
    if gpu.model().is_graph() {
        let plan = pollster::block_on(gpu.graph_plan(n))?;
        let (shared, unshared) = (plan.activation_bytes() as f64 / 1e6, plan.unshared_activation_bytes() as f64 / 1e6);
        println!("        activations on the GPU: {shared:.2} MB (one buffer per value would take {unshared:.2} MB)");
        return Ok(());
    }
    let plan = pollster::block_on(gpu.plan(n))?;
    println!(
        "        activations on the GPU: {:.2} MB (one buffer per step would take {:.2} MB)",
        plan.activation_bytes() as f64 / 1e6,
        plan.unshared_activation_bytes() as f64 / 1e6
    );
    if profile {
        let rows: Vec<usize> = (0..n).collect();
        for (label, ms) in plan.profile(device, &z.samples(&rows)?, labels.map(|l| &l[..n]))? {
            println!("        {label:<28} {ms:>9.2} ms");
        }
    }
    Ok(())
}
