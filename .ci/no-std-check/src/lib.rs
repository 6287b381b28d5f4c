//! Builds and walks a PRP layout with no standard library and no allocator.
#![no_std]

use core::panic::PanicInfo;

use nvme_dma::prp::{PrpBuilder, PrpListPage, PrpWalker};
use nvme_dma::spec::{Opcode, SubmissionEntry};
use nvme_dma::{Extent, PageSize, SliceMemory};

/// Build a 64 KiB layout into a caller-provided list page, put it in an SQE, walk it back, and
/// return the number of bytes the walk described (0 on any error).
#[no_mangle]
pub extern "C" fn nvme_dma_no_std_smoke(list: &mut [u8; 4096]) -> u64 {
    let builder = PrpBuilder::new(PageSize::SIZE_4K);
    let extents = [Extent::new(0x10_0200, 0x10000)];
    let Ok(layout) = builder.build(&extents, &mut [PrpListPage::new(0x8000, &mut list[..])]) else {
        return 0;
    };
    let sqe = SubmissionEntry::new(Opcode::NVM_READ, 1)
        .with_prp1(layout.pair.prp1)
        .with_prp2(layout.pair.prp2.raw());
    let mem = SliceMemory::new(0x8000, &mut list[..]);
    let mut total = 0u64;
    for segment in PrpWalker::new(sqe.prp1(), sqe.prp2(), layout.plan.len(), PageSize::SIZE_4K, &mem) {
        match segment {
            Ok(s) => total += s.len(),
            Err(_) => return 0,
        }
    }
    total
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}
