#![no_main]
//! See `nvme_dma_fuzz::prp_walk` for what this target checks.

use libfuzzer_sys::fuzz_target;
use nvme_dma_fuzz::prp_walk::{check, PrpWalkInput};

fuzz_target!(|input: PrpWalkInput| check(&input));
