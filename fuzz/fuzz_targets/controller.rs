#![no_main]
//! See `nvme_dma_fuzz::controller` for what this target checks.

use libfuzzer_sys::fuzz_target;
use nvme_dma_fuzz::controller::{check, ControllerInput};

fuzz_target!(|input: ControllerInput| check(&input));
