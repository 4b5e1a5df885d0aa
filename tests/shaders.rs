//! Every WGSL file in shaders/ parses and validates with naga under default capabilities (what
//! browsers accept), and every file is in the kernel table; the render shader beside the canvas
//! code (src/web/draw.wgsl) validates too.
#![cfg(not(target_arch = "wasm32"))]

use webgan::gpu::shaders::KERNELS;

fn validate(path: &std::path::Path) {
    let source = std::fs::read_to_string(path).unwrap();
    let module = naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
}

#[test]
fn render_shader_validates() {
    validate(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/draw.wgsl")));
}

#[test]
fn every_shader_validates() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wgsl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .wgsl files found in {dir}");
    for path in &files {
        validate(path);
        let stem = path.file_stem().unwrap().to_str().unwrap();
        assert!(KERNELS.iter().any(|k| k.name == stem), "{stem}.wgsl is not in the kernel table (src/gpu/shaders.rs)");
    }
    assert_eq!(files.len(), KERNELS.len(), "the kernel table names a file that is not in shaders/");
}
