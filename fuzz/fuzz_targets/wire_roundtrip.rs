#![no_main]
//! See `nvme_dma_fuzz::wire` for what this target checks.

use libfuzzer_sys::fuzz_target;
use nvme_dma_fuzz::wire::{check, WireInput};

fuzz_target!(|input: WireInput| check(&input));
