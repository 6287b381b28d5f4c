//! What a guest writes for a controller to read, shared by the adversarial catalogues (the
//! data-pointer level, `tests/adversarial.rs`, and the controller level,
//! `tests/adversarial_controller.rs`): PRP list slots, SGL descriptors, and the status every
//! data-pointer error carries.
#![allow(dead_code)]

use nvme_dma::sgl::{DataDescriptor, SegmentKind, SegmentPointer};
use nvme_dma::spec::{SglDescriptor, Status};

/// The memory page size of every case (4 KiB).
pub const PS: u64 = 4096;
/// What memory holds before a case, so that any byte it changes shows.
pub const POISON: u8 = 0xa5;

/// The status every data-pointer error carries: DNR set, the same command fails again.
pub fn dnr(status: Status) -> Status {
    status.with_dnr(true)
}

/// PRP list slots as the guest writes them.
pub fn slots(entries: &[u64]) -> Vec<u8> {
    entries.iter().flat_map(|e| e.to_le_bytes()).collect()
}

/// SGL descriptors as the guest writes them.
pub fn descriptors(list: &[SglDescriptor]) -> Vec<u8> {
    list.iter().flat_map(|d| d.to_bytes()).collect()
}

/// An SGL Data Block of `len` bytes at `addr`.
pub fn block(addr: u64, len: u32) -> SglDescriptor {
    DataDescriptor::Block { addr, len }.to_raw()
}

/// A Segment or Last Segment descriptor for `count` descriptors at `addr`.
pub fn pointer(addr: u64, count: u32, kind: SegmentKind) -> SglDescriptor {
    SegmentPointer::new(addr, count, kind).unwrap().to_raw()
}

/// `n` pages of one contiguous buffer at `base`, as list entries.
pub fn pages_from(base: u64, n: u64) -> Vec<u64> {
    (0..n).map(|i| base + i * PS).collect()
}
