//! Where [`SimMemory`](super::SimMemory) keeps its bytes: fixed-size chunks, allocated on
//! first write and found by address.
//!
//! A DMA-heavy workload touches the same few chunks over and over (a submission queue slot,
//! a completion queue slot, a data buffer), so a small direct-mapped table of recent hits sits
//! in front of the ordered index: a hit costs a compare instead of a tree search.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cell::Cell;
use core::ops::RangeInclusive;

/// Bytes per chunk; chunks start at multiples of it.
pub(super) const CHUNK: u64 = 4096;
pub(super) const CHUNK_BYTES: usize = 4096;

/// Entries in the table of recent hits; a chunk's entry is its chunk number modulo this.
const RECENT: usize = 16;
const RECENT_ENTRIES: u64 = RECENT as u64;
/// Marks an empty entry: no chunk starts here, as chunk bases are multiples of [`CHUNK`].
const NO_CHUNK: u64 = u64::MAX;

/// Chunk base address -> `CHUNK` bytes. Missing chunks read as zero.
#[derive(Debug)]
pub(super) struct Chunks {
    /// Chunk base -> index in `slab`.
    index: BTreeMap<u64, usize>,
    /// The chunks' bytes; a slot listed in `free` belongs to no base and is all zeros.
    slab: Vec<Box<[u8]>>,
    free: Vec<usize>,
    /// Recent lookups as (chunk base, slab index), at the entry the base's chunk number picks.
    /// Every entry either is empty or agrees with `index`.
    recent: [Cell<(u64, usize)>; RECENT],
}

impl Default for Chunks {
    fn default() -> Self {
        Chunks {
            index: BTreeMap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            recent: core::array::from_fn(|_| Cell::new((NO_CHUNK, 0))),
        }
    }
}

impl Chunks {
    /// The recent-hit entry for chunk `base`.
    fn recent_entry(&self, base: u64) -> Option<&Cell<(u64, usize)>> {
        let which = (base / CHUNK) % RECENT_ENTRIES;
        self.recent.get(usize::try_from(which).ok()?)
    }

    /// The slab index of chunk `base`, if it exists.
    fn find(&self, base: u64) -> Option<usize> {
        let entry = self.recent_entry(base);
        if let Some((hit, slot)) = entry.map(Cell::get) {
            if hit == base {
                return Some(slot);
            }
        }
        let slot = *self.index.get(&base)?;
        if let Some(entry) = entry {
            entry.set((base, slot));
        }
        Some(slot)
    }

    /// The bytes of chunk `base`, if it was ever written.
    pub fn get(&self, base: u64) -> Option<&[u8]> {
        self.slab.get(self.find(base)?).map(|c| &**c)
    }

    /// The bytes of chunk `base` for writing, if it was ever written.
    pub fn get_mut(&mut self, base: u64) -> Option<&mut [u8]> {
        let slot = self.find(base)?;
        self.slab.get_mut(slot).map(|c| &mut **c)
    }

    /// The bytes of chunk `base`, zero-filled on first use.
    pub fn get_or_insert(&mut self, base: u64) -> Option<&mut [u8]> {
        let slot = match self.find(base) {
            Some(slot) => slot,
            None => {
                let slot = match self.free.pop() {
                    Some(slot) => slot,
                    None => {
                        self.slab
                            .push(alloc::vec![0u8; CHUNK_BYTES].into_boxed_slice());
                        self.slab.len().checked_sub(1)?
                    }
                };
                self.index.insert(base, slot);
                if let Some(entry) = self.recent_entry(base) {
                    entry.set((base, slot));
                }
                slot
            }
        };
        self.slab.get_mut(slot).map(|c| &mut **c)
    }

    /// Forget chunk `base`: it reads as zeros until written again.
    pub fn remove(&mut self, base: u64) {
        let Some(slot) = self.index.remove(&base) else {
            return;
        };
        if let Some(entry) = self.recent_entry(base) {
            if entry.get().0 == base {
                entry.set((NO_CHUNK, 0));
            }
        }
        if let Some(chunk) = self.slab.get_mut(slot) {
            chunk.fill(0);
            self.free.push(slot);
        }
    }

    /// Bases of the chunks that exist within `range`, in order.
    pub fn bases_in(&self, range: RangeInclusive<u64>) -> Vec<u64> {
        self.index.range(range).map(|(&base, _)| base).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_chunks_read_as_missing_and_their_slots_come_back_zeroed() {
        let mut chunks = Chunks::default();
        // Bases 0 and 16 × CHUNK share a recent-hit entry; 2 × CHUNK has its own.
        let (a, b, c) = (0, 16 * CHUNK, 2 * CHUNK);
        for (base, byte) in [(a, 1), (b, 2), (c, 3)] {
            chunks.get_or_insert(base).unwrap().fill(byte);
        }
        // Looked up alternately, each keeps its own bytes.
        for _ in 0..2 {
            assert_eq!(chunks.get(a).unwrap()[0], 1);
            assert_eq!(chunks.get(b).unwrap()[CHUNK_BYTES - 1], 2);
        }
        chunks.remove(b);
        assert!(chunks.get(b).is_none());
        assert_eq!(chunks.get(a).unwrap()[0], 1);
        // The freed slot is reused, zeroed, for the next new chunk.
        let d = 5 * CHUNK;
        assert!(chunks.get_or_insert(d).unwrap().iter().all(|&x| x == 0));
        assert!(chunks.get(b).is_none());
        assert_eq!(chunks.bases_in(0..=5 * CHUNK), [a, c, d]);
        assert_eq!(chunks.get(c).unwrap()[7], 3);
    }
}
