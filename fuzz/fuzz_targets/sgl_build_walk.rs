#![no_main]
//! See `nvme_dma_fuzz::sgl_build` for what this target checks.

use libfuzzer_sys::fuzz_target;
use nvme_dma_fuzz::sgl_build::{check, SglBuildInput};

fuzz_target!(|input: SglBuildInput| check(&input));
