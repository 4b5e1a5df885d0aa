//! The real PyTorch exports under tests/fixtures/onnx/: they convert, match onnxruntime through
//! the CPU reference, the bad ones fail clearly, and `webgan convert` writes a loadable folder.

use super::*;

/// Every `model*.onnx` under tests/fixtures/onnx/<family>/ converts. (The outputs are checked
/// against onnxruntime by `fixtures_match_onnxruntime` once the CPU executor reads format 2.)
#[test]
fn fixtures_convert() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx");
    let Ok(families) = std::fs::read_dir(&root) else { return };
    let mut converted = 0;
    for family in families.flatten() {
        let dir = family.path();
        if !dir.is_dir() || dir.file_name().is_some_and(|n| n == "bad") {
            continue;
        }
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if !(name.starts_with("model") && name.ends_with(".onnx")) {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let mut external = |loc: &str| -> webgan::Result<Vec<u8>> {
                std::fs::read(dir.join(loc)).map_err(|e| webgan::Error::Io { path: loc.into(), source: e })
            };
            let c = onnx::import(&bytes, &mut external, &options(Dtype::F32))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            check_weights_referenced(&c);
            // WEBGAN_ONNX_DUMP=DIR writes each converted folder there, to look at or run.
            if let Some(out) = std::env::var_os("WEBGAN_ONNX_DUMP") {
                let folder = std::path::Path::new(&out).join(format!(
                    "{}-{}",
                    dir.file_name().unwrap().to_string_lossy(),
                    name.trim_end_matches(".onnx")
                ));
                std::fs::create_dir_all(&folder).unwrap();
                std::fs::write(folder.join("model.json"), &c.manifest_json).unwrap();
                std::fs::write(folder.join("weights.safetensors"), &c.weights).unwrap();
            }
            converted += 1;
        }
    }
    eprintln!("converted {converted} fixture models");
}

fn npy(path: &std::path::Path) -> (Vec<u64>, npyz::NpyFile<std::io::Cursor<Vec<u8>>>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = npyz::NpyFile::new(std::io::Cursor::new(bytes)).unwrap();
    (file.shape().to_vec(), file)
}

/// Every fixture model converts, loads with `Model::from_parts`, and the CPU reference gives
/// onnxruntime's `out.npy` to 1e-4 (f32 weights) and 2e-2 (f16 weights).
#[test]
fn fixtures_match_onnxruntime() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx");
    let Ok(families) = std::fs::read_dir(&root) else { return };
    let mut checked = 0;
    for family in families.flatten() {
        let dir = family.path();
        if !dir.join("info.json").exists() {
            continue;
        }
        let info: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("info.json")).unwrap()).unwrap();
        let mut inputs = webgan::model::Inputs::default();
        for input in info["inputs"].as_array().unwrap() {
            let (shape, file) = npy(&dir.join(input["file"].as_str().unwrap()));
            let n = shape[0] as usize;
            match input["role"].as_str().unwrap() {
                "latent" => {
                    let data: Vec<f32> = file.into_vec().unwrap();
                    let z = data.len() / n;
                    inputs.latents = Some(webgan::Tensor::new(&[n, z], data).unwrap());
                }
                "class" => inputs.classes = Some(file.into_vec::<i64>().unwrap().iter().map(|&c| c as u32).collect()),
                _ => {
                    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
                    inputs.images = Some(webgan::Tensor::new(&dims, file.into_vec().unwrap()).unwrap());
                }
            }
        }
        let (_, out) = npy(&dir.join("out.npy"));
        let expected: Vec<f32> = out.into_vec().unwrap();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if !(name.starts_with("model") && name.ends_with(".onnx")) {
                continue;
            }
            let bytes = std::fs::read(entry.path()).unwrap();
            for (dtype, tol) in [(Dtype::F32, 1e-4f32), (Dtype::F16, 2e-2)] {
                let mut external = |loc: &str| -> webgan::Result<Vec<u8>> {
                    std::fs::read(dir.join(loc)).map_err(|e| webgan::Error::Io { path: loc.into(), source: e })
                };
                let what = format!("{}/{name} ({})", dir.file_name().unwrap().to_string_lossy(), dtype.as_str());
                let c = onnx::import(&bytes, &mut external, &options(dtype)).unwrap_or_else(|e| panic!("{what}: {e}"));
                let model = webgan::Model::from_parts(&c.manifest_json, &c.weights)
                    .unwrap_or_else(|e| panic!("{what}: the converted model does not load: {e}"));
                let got = webgan::cpu::run(&model, &inputs).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(got.data.len(), expected.len(), "{what}: output size");
                let (mut worst, mut at) = (0f32, 0);
                for (i, (g, e)) in got.data.iter().zip(&expected).enumerate() {
                    let excess = (g - e).abs() - tol * (1.0 + e.abs());
                    if excess > worst || !g.is_finite() {
                        (worst, at) = (excess.max(f32::MIN_POSITIVE), i);
                    }
                }
                let max_diff = got.data.iter().zip(&expected).map(|(g, e)| (g - e).abs()).fold(0f32, f32::max);
                assert!(
                    worst <= 0.0,
                    "{what}: max |webgan − onnxruntime| = {max_diff}; at {at}: {} vs {}; first values {:?} vs {:?}",
                    got.data[at],
                    expected[at],
                    &got.data[..4],
                    &expected[..4]
                );
                eprintln!("{what}: max diff {max_diff:.2e}");
                checked += 1;
            }
        }
    }
    eprintln!("checked {checked} conversions against onnxruntime");
}

/// The two files under tests/fixtures/onnx/bad/ fail with errors that name the op and the file.
#[test]
fn bad_fixtures_fail_clearly() {
    let bad = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx/bad");
    let Ok(unsupported) = std::fs::read(bad.join("unsupported_op.onnx")) else { return };
    let err = convert_err(&unsupported);
    assert!(err.contains("(CumSum): unsupported op; webgan supports Conv"), "{err}");
    let missing = std::fs::read(bad.join("external_missing.onnx")).unwrap();
    let err = convert_err(&missing);
    assert!(
        err.contains(r#"external data file "external_missing.onnx.data" for tensor "#)
            && err.ends_with("is missing: put it beside the .onnx"),
        "{err}"
    );
}

/// `webgan convert` writes a folder that loads (external data read from beside the .onnx), and a
/// failed conversion writes nothing.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn cli_convert() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx");
    let input = fixtures.join("cyclegan/model_dynamo.onnx");
    if !input.exists() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cyclegan");
    let run = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_webgan")).args(args).output().unwrap()
    };
    let done = run(&["convert".as_ref(), input.as_os_str(), out.as_os_str(), "--dtype".as_ref(), "f16".as_ref()]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let json = std::fs::read_to_string(out.join("model.json")).unwrap();
    let weights = std::fs::read(out.join("weights.safetensors")).unwrap();
    let model = webgan::Model::from_parts(&json, &weights).unwrap();
    assert_eq!(model.manifest.name, "model_dynamo");
    assert_eq!(model.manifest.source, "model_dynamo.onnx");
    assert!(json.contains("\"dtype\": \"f16\""));

    let failed = tmp.path().join("failed");
    let done = run(&["convert".as_ref(), fixtures.join("bad/external_missing.onnx").as_os_str(), failed.as_os_str()]);
    assert!(!done.status.success());
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(stderr.contains("is missing: put it beside the .onnx"), "{stderr}");
    assert!(!failed.join("model.json").exists() && !failed.join("weights.safetensors").exists());
}
