#![no_main]
//! The fuzzing kit against a driver's PRP builder: `nvme_dma_fuzz::planted::driver`, with a
//! bug planted (`NVME_DMA_PLANTED_FAULT=off` takes it out). See FUZZING.md, "Fuzzing your
//! own emulator or driver with nvme-dma".

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use nvme_dma::fuzzkit::DriverCase;
use nvme_dma::SimMemory;
use nvme_dma_fuzz::planted::driver::Driver;

fuzz_target!(|data: &[u8]| {
    let Ok(case) = DriverCase::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    // The driver builds PRPs only and declines what they cannot carry.
    let driver = Driver::new(case.target.page_size, case.target.block_size);
    let Some(built) = driver.build(&case.extents, case.direction, &case.descriptor_pages) else {
        return;
    };
    let mut memory = SimMemory::new();
    if built.write_lists(&mut memory).is_err() {
        return;
    }
    if let Err(finding) = case.check(&built.sqe, &memory) {
        panic!("{finding}");
    }
});
