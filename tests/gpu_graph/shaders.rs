//! Every graph shader parses and validates with naga and is listed in `GRAPH_KERNELS`.

use webgan::gpu::shaders::GRAPH_KERNELS;

#[test]
fn every_graph_shader_validates() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/graph");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.retain(|p| p.extension().is_some_and(|x| x == "wgsl"));
    assert!(!files.is_empty(), "no .wgsl files in {dir}");
    for path in &files {
        let source = std::fs::read_to_string(path).unwrap();
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
        let stem = path.file_stem().unwrap().to_str().unwrap();
        assert!(GRAPH_KERNELS.iter().any(|k| k.name == stem), "{stem}.wgsl is not in GRAPH_KERNELS");
    }
    assert_eq!(files.len(), GRAPH_KERNELS.len(), "GRAPH_KERNELS names a file that is not in shaders/graph/");
}
