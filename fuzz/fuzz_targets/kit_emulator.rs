#![no_main]
//! The fuzzing kit against an emulator's data path: `nvme_dma_fuzz::planted::emulator`, a
//! PRP mapper with a bug planted (`NVME_DMA_PLANTED_FAULT=off` takes it out). See FUZZING.md,
//! "Fuzzing your own emulator or driver with nvme-dma".

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use nvme_dma::controller::Profile;
use nvme_dma::fuzzkit::{DataPointerCase, Target, MAX_BLOCKS};
use nvme_dma::spec::{SglSupport, Sgls};
use nvme_dma::{Direction, PageSize, SimMemory};
use nvme_dma_fuzz::planted::emulator::Emulator;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    // The emulator maps PRPs only; 4, 8 or 16 KiB pages, so that lists fill within the
    // kit's transfers.
    let Ok(mps) = u.int_in_range(0..=2) else {
        return;
    };
    let target = Target {
        page_size: PageSize::from_mps(mps).unwrap_or(PageSize::SIZE_4K),
        sgls: Sgls::from_support(SglSupport::None),
        ..Target::DEFAULT
    };
    let Ok(case) = DataPointerCase::generate(&mut u, &target) else {
        return;
    };
    let mut memory = SimMemory::new();
    memory.set_logging(false);
    case.map_into(&mut memory);
    if case.image.write_to(&mut memory).is_err() {
        return;
    }

    let mut emulator = Emulator::new(target.page_size, target.block_size, MAX_BLOCKS.into());
    let before = emulator.media.clone();
    let status = emulator.submit(&case.sqe(1, 0), &mut memory);

    let expected = case.expected(Profile::STRICT);
    let len = usize::try_from(case.data_len()).unwrap_or(usize::MAX);
    let verdict = match case.direction {
        Direction::Read => case.check_read(&expected, status, &before[..len], &memory),
        Direction::Write => {
            case.check_write(&expected, status, &emulator.media[..len], &before[..len])
        }
    };
    if let Err(finding) = verdict {
        panic!("{finding}");
    }
});
