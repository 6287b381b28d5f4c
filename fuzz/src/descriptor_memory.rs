//! Descriptor memory the caller owns (PRP list pages, SGL segments), as the build targets
//! hand it to a builder: poisoned first, so that every byte the builder writes shows.

use nvme_dma::prp::PrpListPage;
use nvme_dma::sgl::SegmentBuf;
use nvme_dma::SimMemory;

use crate::memory::{MemorySpec, Region};

/// What unwritten descriptor memory holds. No PRP entry the builder writes has it (entries
/// are page aligned), nor does any SGL descriptor (its identifier byte would be reserved
/// type Ah).
pub const POISON: u8 = 0xa5;

/// Buffers as (bus address, bytes).
pub type Buffers = Vec<(u64, Vec<u8>)>;

/// How many slots each buffer of a chain fills with `items` items, from the chaining rule of
/// PRP lists and SGL segments alike: a buffer that cannot take every remaining item gives its
/// last slot to the pointer onward. The first buffer has `first` slots, the others `rest`.
pub fn chained_use(items: u64, first: u64, rest: u64) -> Vec<u64> {
    let mut used = Vec::new();
    let mut left = items;
    let mut slots = first;
    while left > 0 {
        if left <= slots {
            used.push(left);
            left = 0;
        } else {
            used.push(slots);
            left -= slots - 1;
        }
        slots = rest;
    }
    used
}

/// Panic unless no byte of any buffer was written.
pub fn assert_untouched(buffers: &Buffers, why: &str) {
    let written = buffers.iter().flat_map(|(_, b)| b).any(|&b| b != POISON);
    assert!(!written, "{why}: the builder wrote descriptor memory");
}

/// Panic unless buffer `i` was written in exactly its first `used[i]` slots of `slot` bytes
/// (buffers past `used` not at all).
pub fn assert_written_exactly(buffers: &Buffers, used: &[u64], slot: usize) {
    for (i, (addr, bytes)) in buffers.iter().enumerate() {
        let end = used.get(i).map_or(0, |&n| n as usize * slot);
        assert!(
            bytes[end..].iter().all(|&b| b == POISON),
            "buffer {i} at {addr:#x} written past its {end} bytes"
        );
        assert!(
            bytes[..end]
                .chunks(slot)
                .all(|s| s.iter().any(|&b| b != POISON)),
            "buffer {i} at {addr:#x} has an unwritten slot"
        );
    }
}

/// The buffers as memory regions, where a controller finds them.
pub fn regions_of(buffers: &Buffers) -> Vec<Region> {
    buffers
        .iter()
        .map(|(addr, bytes)| Region::with_bytes(*addr, bytes.clone()))
        .collect()
}

/// The buffers as host memory a walker reads, with nothing counted yet.
pub fn memory_of(buffers: &Buffers) -> SimMemory {
    MemorySpec {
        regions: regions_of(buffers),
    }
    .build()
    .0
}

/// The buffers as a PRP builder's list pages.
pub fn pages_of(buffers: &mut [(u64, Vec<u8>)]) -> Vec<PrpListPage<'_>> {
    buffers
        .iter_mut()
        .map(|(addr, bytes)| PrpListPage::new(*addr, bytes))
        .collect()
}

/// The buffers as an SGL builder's segment buffers.
pub fn segments_of(buffers: &mut [(u64, Vec<u8>)]) -> Vec<SegmentBuf<'_>> {
    buffers
        .iter_mut()
        .map(|(addr, bytes)| SegmentBuf::new(*addr, bytes))
        .collect()
}
