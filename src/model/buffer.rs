//! [`Floats`]: an `f32` buffer that starts on a 64-byte boundary, for the scratch images of the
//! depthwise kernels (`depthwise/x86.rs`), which load 8 floats (32 bytes) at a time at
//! offsets that are multiples of 8 floats. From a `Vec<f32>`, which the allocator aligns to 16
//! bytes only, half of those loads straddle two cache lines and cost two: aligning the padded
//! images took the three depthwise passes of an mnas h=8 step from 0.91 to 0.75 ms (issue #11,
//! the same code with its scratch 16 bytes off a line, measured in one run).
//! (The net's own activation and gradient buffers, aligned the same way, gave no measurable
//! gain, so they stay `Vec`s.) Written by hand: a dozen lines over a `Vec` of 64-byte lines,
//! where the crates that do it bring an allocator API of their own.

use std::ops::{Deref, DerefMut};

/// One cache line of floats.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; 16]);

/// A 64-byte-aligned buffer of `f32`, used as a slice.
#[derive(Clone, Default)]
pub struct Floats {
    lines: Vec<Line>,
    len: usize,
}

impl Floats {
    /// `len` zeros.
    pub fn zeros(len: usize) -> Floats {
        let mut f = Floats::default();
        f.set_zeros(len);
        f
    }

    /// Make this `len` zeros, keeping the allocation where it is large enough.
    pub fn set_zeros(&mut self, len: usize) {
        self.lines.clear();
        self.lines.resize(len.div_ceil(16), Line([0.0; 16]));
        self.len = len;
    }
}

impl Deref for Floats {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        // SAFETY: `Line` is 16 `f32`s with no padding (repr(C), size 64 = align), so the lines
        // are `16 · lines.len() >= len` contiguous, initialised floats.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<f32>(), self.len) }
    }
}

impl DerefMut for Floats {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `deref`, through the unique borrow of the lines.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f32>(), self.len) }
    }
}

impl std::fmt::Debug for Floats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_is_zeros_on_a_cache_line_and_keeps_what_is_written() {
        let mut a = Floats::default();
        assert!(a.is_empty());
        for len in [1, 7, 16, 100, 4099] {
            a.set_zeros(len);
            assert_eq!(a.len(), len);
            assert_eq!(a.as_ptr() as usize % 64, 0);
            assert!(a.iter().all(|v| *v == 0.0));
            a.iter_mut().enumerate().for_each(|(i, v)| *v = i as f32);
            let b = a.clone();
            assert_eq!(b.as_ptr() as usize % 64, 0);
            assert_eq!(b[len - 1], (len - 1) as f32);
        }
    }
}
