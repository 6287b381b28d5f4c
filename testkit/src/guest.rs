//! What a guest writes for a controller to read: PRP list slots, SGL descriptors, the
//! controller capabilities the catalogues assume, and the status every data-pointer error
//! carries.

use nvme_dma::sgl::{DataDescriptor, SegmentKind, SegmentPointer, SglCaps};
use nvme_dma::spec::{SglDescriptor, SglSupport, Sgls, Status};

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

/// An SGL Bit Bucket of `len` bytes.
pub fn bucket(len: u32) -> SglDescriptor {
    DataDescriptor::BitBucket { len }.to_raw()
}

/// A Segment or Last Segment descriptor for `count` descriptors at `addr`.
pub fn pointer(addr: u64, count: u32, kind: SegmentKind) -> SglDescriptor {
    SegmentPointer::new(addr, count, kind).unwrap().to_raw()
}

/// A Segment descriptor for `count` descriptors at `addr`.
pub fn segment(addr: u64, count: u32) -> SglDescriptor {
    pointer(addr, count, SegmentKind::Segment)
}

/// A Last Segment descriptor for `count` descriptors at `addr`.
pub fn last_segment(addr: u64, count: u32) -> SglDescriptor {
    pointer(addr, count, SegmentKind::LastSegment)
}

/// `n` pages of one contiguous buffer at `base`, as list entries.
pub fn pages_from(base: u64, n: u64) -> Vec<u64> {
    (0..n).map(|i| base + i * PS).collect()
}

/// A controller with byte-aligned SGLs and bit buckets.
pub fn byte_aligned() -> SglCaps {
    SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET)
}

/// A controller with dword-aligned SGLs and bit buckets.
pub fn dword_aligned() -> SglCaps {
    SglCaps::new(Sgls::from_support(SglSupport::DwordAligned) | Sgls::BIT_BUCKET)
}
