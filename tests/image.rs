//! The grid layout shared by PNG grids, the canvas and hit testing.
#![cfg(not(target_arch = "wasm32"))]

use webgan::Tensor;
use webgan::image::{GRID_GAP, GridLayout, grid};

#[test]
fn layout_places_and_finds_tiles() {
    // 5 tiles of 4×3 in the most nearly square grid: 3 columns, 2 rows.
    let l = GridLayout::square(5, 4, 3);
    assert_eq!((l.columns, l.rows), (3, 2));
    assert_eq!((l.width, l.height), (3 * 4 + 2 * GRID_GAP, 2 * 3 + GRID_GAP));
    assert_eq!(l.origin(4), (4 + GRID_GAP, 3 + GRID_GAP));
    assert_eq!(l.tile_at(0, 0, 5), Some(0));
    assert_eq!(l.tile_at(4 + GRID_GAP, 3 + GRID_GAP, 5), Some(4));
    assert_eq!(l.tile_at(4, 0, 5), None, "the gap after tile 0");
    assert_eq!(l.tile_at(2 * (4 + GRID_GAP), 3 + GRID_GAP, 5), None, "past the last tile");
    // Columns are clamped to 1 … count.
    assert_eq!(GridLayout::new(2, 9, 4, 3).columns, 2);
    assert_eq!(GridLayout::new(2, 0, 4, 3).columns, 1);
}

#[test]
fn grid_draws_tiles_where_the_layout_says() {
    // Two 1×1 grey tiles: -1 → 0 and 1 → 255, in one row.
    let t = Tensor::new(&[2, 1, 1, 1], vec![-1.0, 1.0]).unwrap();
    let g = grid(&t, 2).unwrap();
    assert_eq!((g.width, g.height), (2 + GRID_GAP, 1));
    assert_eq!(&g.pixels[..4], &[0, 0, 0, 255]);
    let last = (1 + GRID_GAP) * 4;
    assert_eq!(&g.pixels[last..last + 4], &[255, 255, 255, 255]);
}
