#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sgd_regimes::fuzz::npy_pair(data));
