#![no_main]
//! See `nvme_dma_fuzz::prp_build` for what this target checks.

use libfuzzer_sys::fuzz_target;
use nvme_dma_fuzz::prp_build::{check, PrpBuildInput};

fuzz_target!(|input: PrpBuildInput| check(&input));
