#![no_main]
//! See `nvme_dma_fuzz::sgl_walk` for what this target checks.

use libfuzzer_sys::fuzz_target;
use nvme_dma_fuzz::sgl_walk::{check, SglWalkInput};

fuzz_target!(|input: SglWalkInput| check(&input));
