//! `reduce_mean` over per-sample dims.

use crate::tensor::Tensor;

/// Mean of x `[N, …per-sample]` over the per-sample dims `axes` (0 = the first per-sample dim,
/// e.g. channels; order and repeats do not matter; empty reduces nothing). The reduced dims
/// are kept as 1 with `keepdims`, dropped otherwise; N always stays. Sums run in f64.
pub fn reduce_mean(x: &Tensor, axes: &[usize], keepdims: bool) -> Tensor {
    let dims = &x.shape[1..];
    let reduced = |d: usize| axes.contains(&d);
    let mut shape = vec![x.batch()];
    for (d, &size) in dims.iter().enumerate() {
        if !reduced(d) {
            shape.push(size);
        } else if keepdims {
            shape.push(1);
        }
    }
    // Reducing every dim without keepdims leaves one value per sample: `[N, 1]` (per-sample `[1]`).
    if shape.len() == 1 {
        shape.push(1);
    }
    // Output stride of each input dim: 0 on reduced dims, so every input value lands on the
    // output element it averages into.
    let mut out_strides = vec![0usize; dims.len()];
    let mut step = 1usize;
    for d in (0..dims.len()).rev() {
        if !reduced(d) {
            out_strides[d] = step;
            step *= dims[d];
        }
    }
    let out_per = step;
    let count: usize = dims.iter().enumerate().filter(|&(d, _)| reduced(d)).map(|(_, &s)| s).product();
    let per: usize = dims.iter().product();

    let mut sums = vec![0f64; x.batch() * out_per];
    let mut index = vec![0usize; dims.len()];
    for (s, sample) in x.data.chunks(per.max(1)).enumerate().take(x.batch()) {
        let out = &mut sums[s * out_per..(s + 1) * out_per];
        let mut o = 0usize;
        index.iter_mut().for_each(|i| *i = 0);
        for &v in sample {
            out[o] += v as f64;
            for d in (0..dims.len()).rev() {
                index[d] += 1;
                o += out_strides[d];
                if index[d] < dims[d] {
                    break;
                }
                o -= out_strides[d] * dims[d];
                index[d] = 0;
            }
        }
    }
    let data = sums.iter().map(|&sum| (sum / count.max(1) as f64) as f32).collect();
    Tensor { shape, data }
}
