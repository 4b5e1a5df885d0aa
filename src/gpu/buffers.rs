//! Buffer creation with the size checks the plan promises: every storage binding is checked
//! against the device's `maxStorageBufferBindingSize` and `maxBufferSize` before allocation.

use bytemuck::Pod;

use crate::error::{Error, Result};
use crate::gpu::Gpu;

/// Fails with the numbers when `bytes` exceeds what one storage binding may hold.
pub fn check_size(gpu: &Gpu, what: &str, bytes: u64) -> Result<()> {
    let limit = (gpu.limits.max_storage_buffer_binding_size as u64).min(gpu.limits.max_buffer_size);
    if bytes > limit {
        return Err(Error::Limit { what: format!("{what} ({bytes} bytes)"), needed: bytes, limit });
    }
    Ok(())
}

/// A storage buffer holding `data` (at least 16 bytes, so empty tensors still bind).
pub fn storage<T: Pod>(gpu: &Gpu, label: &str, data: &[T]) -> Result<wgpu::Buffer> {
    let bytes: &[u8] = bytemuck::cast_slice(data);
    let buffer = empty(gpu, label, bytes.len() as u64, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST)?;
    gpu.queue.write_buffer(&buffer, 0, bytes);
    Ok(buffer)
}

/// An uninitialized buffer of `bytes` (rounded up to 16) with `usage`.
pub fn empty(gpu: &Gpu, label: &str, bytes: u64, usage: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
    let size = bytes.max(16).saturating_add(15) / 16 * 16;
    if usage.contains(wgpu::BufferUsages::STORAGE) {
        check_size(gpu, label, size)?;
    }
    Ok(gpu.device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size, usage, mapped_at_creation: false }))
}

/// An activation buffer of `bytes` that kernels write and that can be copied out.
pub fn activation_bytes(gpu: &Gpu, label: &str, bytes: u64) -> Result<wgpu::Buffer> {
    empty(gpu, label, bytes, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST)
}

/// A uniform buffer holding `value`.
pub fn uniform<T: Pod>(gpu: &Gpu, label: &str, value: &T) -> wgpu::Buffer {
    let bytes = bytemuck::bytes_of(value);
    let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.len() as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    gpu.queue.write_buffer(&buffer, 0, bytes);
    buffer
}
