//! Run-time choice of instruction set for the hand-written loops (depthwise convolution,
//! direct convolution): [`multiversion!`] compiles a function's body twice, for the baseline
//! x86-64 (SSE2) and for AVX2, and calls the AVX2 copy where the CPU has it. Written by hand
//! because the crates that do this (`multiversion`) bring proc-macro dependencies for what is
//! a dozen lines here.
//!
//! Both copies give the same bits: Rust never fuses a multiply and an add on its own, and the
//! loops vectorise across independent outputs (channels), so each output sees the same
//! operations in the same order whatever the vector width.

use std::cell::Cell;

thread_local! {
    static PORTABLE_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// Whether the AVX2 copies are used on this thread.
#[inline]
pub fn use_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !PORTABLE_ONLY.with(Cell::get) && std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the kernels that need AVX2 and fused multiply-adds (`direct_conv/`) run on this
/// thread; [`portable_only`] turns them off too.
#[inline]
pub fn use_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use_avx2() && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Run `f` with the baseline copies only on this thread (for tests comparing the two).
pub fn portable_only<R>(f: impl FnOnce() -> R) -> R {
    let before = PORTABLE_ONLY.with(|p| p.replace(true));
    let out = f();
    PORTABLE_ONLY.with(|p| p.set(before));
    out
}

/// `multiversion! { /// docs
/// pub fn name(arg: Type, ...) { body } }`: the function, with its body compiled for the
/// baseline and for AVX2, dispatching at each call (one cached feature test).
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                /// # Safety
                /// The CPU has AVX2 (the body is safe code compiled with AVX2 enabled).
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if $crate::model::simd::use_avx2() {
                    // SAFETY: the CPU has AVX2 (checked at run time just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use multiversion;
