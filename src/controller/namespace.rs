//! Namespaces: logical blocks kept in sparse memory, with metadata beside the data (a
//! separate buffer, MPTR) or inside it (extended LBAs).
//!
//! Data and metadata live in two sparse byte stores, block `b` at `b × lba_size` and
//! `b × metadata_size`. A command's host buffers are one or two *streams* of bytes, mapped
//! onto the stores like this:
//!
//! ```text
//! separate metadata:  data stream     │ data b │ data b+1 │ …        → data store
//!                     metadata stream │ md b │ md b+1 │ …            → metadata store
//! extended LBAs:      data stream     │ data b │ md b │ data b+1 │ md b+1 │ …  (interleaved)
//! ```
//!
//! Blocks never written, or deallocated, read as zeros (DLFEAT = 001b).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;

use crate::spec::{IdentifyNamespace, LbaFormat};

/// How one namespace is formatted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamespaceConfig {
    /// Size in logical blocks (NSZE = NCAP).
    pub blocks: u64,
    /// Bytes per logical block: a power of two from 512 to 65536.
    pub lba_size: u32,
    /// Metadata bytes per block (0 for none).
    pub metadata_size: u16,
    /// Metadata inside the data buffer after each block (extended LBA) rather than in a
    /// separate buffer behind MPTR.
    pub extended: bool,
}

impl NamespaceConfig {
    /// `blocks` blocks of `lba_size` bytes without metadata.
    pub const fn new(blocks: u64, lba_size: u32) -> Self {
        NamespaceConfig {
            blocks,
            lba_size,
            metadata_size: 0,
            extended: false,
        }
    }

    /// With `bytes` of metadata per block, separate or extended.
    pub const fn with_metadata(mut self, bytes: u16, extended: bool) -> Self {
        self.metadata_size = bytes;
        self.extended = extended;
        self
    }

    /// LBADS, log2 of the block size, when the size is a power of two in range.
    pub fn lbads(&self) -> Option<u8> {
        let ok = self.lba_size.is_power_of_two() && (512..=65536).contains(&self.lba_size);
        ok.then_some(self.lba_size.trailing_zeros())
            .and_then(|shift| u8::try_from(shift).ok())
    }
}

/// LBA formats every namespace reports, so a host sees a realistic table; a namespace whose
/// format is not among them gets its own appended.
const STANDARD_FORMATS: [(u16, u8); 5] = [(0, 9), (8, 9), (0, 12), (8, 12), (64, 12)];

/// Sparse storage chunk: 64 KiB.
const CHUNK: u64 = 64 * 1024;
const CHUNK_BYTES: usize = 64 * 1024;

/// Zeros to hand out for never-written bytes.
static ZEROS: [u8; 4096] = [0; 4096];

/// A sparse byte store. Missing chunks read as zero.
#[derive(Debug, Default)]
pub(crate) struct SparseStore {
    chunks: BTreeMap<u64, Box<[u8]>>,
}

/// Split `len` bytes at `offset` into (chunk base, offset in chunk, length) pieces.
fn chunk_pieces(offset: u64, len: u64) -> impl Iterator<Item = (u64, usize, usize)> {
    let mut at = offset;
    let end = offset.saturating_add(len);
    core::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        // CHUNK is a power of two: the mask gives the offset, and both fit a usize.
        let within = at & (CHUNK - 1);
        let n = CHUNK.saturating_sub(within).min(end.saturating_sub(at));
        let piece = (
            at & !(CHUNK - 1),
            usize::try_from(within).unwrap_or(0),
            usize::try_from(n).unwrap_or(0),
        );
        at = at.saturating_add(n);
        Some(piece)
    })
}

impl SparseStore {
    /// Hand the bytes at `offset .. offset + len` to `sink`, in order, in slices.
    pub fn read_to<E>(
        &self,
        offset: u64,
        len: u64,
        mut sink: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        for (base, within, n) in chunk_pieces(offset, len) {
            match self
                .chunks
                .get(&base)
                .and_then(|c| c.get(within..within.saturating_add(n)))
            {
                Some(bytes) => sink(bytes)?,
                None => {
                    for zeros in (0..n).step_by(ZEROS.len()) {
                        sink(ZEROS.get(..ZEROS.len().min(n.saturating_sub(zeros))).unwrap_or_default())?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Let `source` fill the bytes at `offset .. offset + len`, in order, in slices.
    pub fn write_from<E>(
        &mut self,
        offset: u64,
        len: u64,
        mut source: impl FnMut(&mut [u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        for (base, within, n) in chunk_pieces(offset, len) {
            let chunk = self
                .chunks
                .entry(base)
                .or_insert_with(|| alloc::vec![0u8; CHUNK_BYTES].into_boxed_slice());
            if let Some(bytes) = chunk.get_mut(within..within.saturating_add(n)) {
                source(bytes)?;
            }
        }
        Ok(())
    }

    /// Zero `len` bytes at `offset`, freeing chunks that become wholly zero by it.
    pub fn zero(&mut self, offset: u64, len: u64) {
        for (base, within, n) in chunk_pieces(offset, len) {
            if n == CHUNK_BYTES {
                self.chunks.remove(&base);
            } else if let Some(bytes) = self
                .chunks
                .get_mut(&base)
                .and_then(|c| c.get_mut(within..within.saturating_add(n)))
            {
                bytes.fill(0);
            }
        }
    }
}

/// One bit per block: allocated (written) or not. Sparse, with a running count.
#[derive(Debug, Default)]
struct AllocationMap {
    words: BTreeMap<u64, u64>,
    count: u64,
}

impl AllocationMap {
    fn set(&mut self, first: u64, blocks: u64, allocated: bool) {
        let mut block = first;
        let end = first.saturating_add(blocks);
        while block < end {
            let bit = block & 63;
            let n = 64u64.saturating_sub(bit).min(end.saturating_sub(block));
            // n is 1 to 64 - bit, so the shifted mask stays inside the word.
            let mask = if n == 64 {
                u64::MAX
            } else {
                (1u64 << n).wrapping_sub(1) << bit
            };
            let word = self.words.entry(block / 64).or_insert(0);
            let before = u64::from(word.count_ones());
            if allocated {
                *word |= mask;
            } else {
                *word &= !mask;
            }
            let after = u64::from(word.count_ones());
            self.count = self.count.saturating_add(after).saturating_sub(before);
            if *word == 0 {
                self.words.remove(&(block / 64));
            }
            block = block.saturating_add(n);
        }
    }
}

/// Which store a piece of a stream lands in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Store {
    Data,
    Metadata,
}

/// Which of a command's host buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    /// DPTR's buffer: data, with metadata interleaved on an extended-LBA namespace.
    Data,
    /// MPTR's buffer (separate metadata only).
    Metadata,
}

/// One namespace: its format and its blocks.
#[derive(Debug)]
pub(crate) struct Namespace {
    pub config: NamespaceConfig,
    lbads: u8,
    data: SparseStore,
    metadata: SparseStore,
    allocated: AllocationMap,
}

impl Namespace {
    /// A fresh, all-deallocated namespace; `None` when the block size is not allowed.
    pub fn new(config: NamespaceConfig) -> Option<Self> {
        Some(Namespace {
            lbads: config.lbads()?,
            config,
            data: SparseStore::default(),
            metadata: SparseStore::default(),
            allocated: AllocationMap::default(),
        })
    }

    pub fn blocks(&self) -> u64 {
        self.config.blocks
    }

    fn lba(&self) -> u64 {
        u64::from(self.config.lba_size)
    }

    fn ms(&self) -> u64 {
        u64::from(self.config.metadata_size)
    }

    /// Bytes `nlb` blocks occupy in `stream`.
    pub fn stream_len(&self, stream: Stream, nlb: u64) -> u64 {
        let per_block = match (stream, self.config.extended) {
            (Stream::Data, false) => self.lba(),
            (Stream::Data, true) => self.lba().saturating_add(self.ms()),
            (Stream::Metadata, false) => self.ms(),
            (Stream::Metadata, true) => 0,
        };
        per_block.saturating_mul(nlb)
    }

    /// The store pieces, in stream order, that `stream` of blocks `slba .. slba + nlb`
    /// covers: (store, offset, length). The caller has checked the range is inside the
    /// namespace. The iterator holds no borrow of the namespace, so the caller may write
    /// the stores while following it.
    pub fn pieces(
        &self,
        stream: Stream,
        slba: u64,
        nlb: u64,
    ) -> impl Iterator<Item = (Store, u64, u64)> {
        let (lba, ms) = (self.lba(), self.ms());
        let interleaved = stream == Stream::Data && self.config.extended && ms > 0;
        let whole = match stream {
            Stream::Data => (Store::Data, slba.saturating_mul(lba), nlb.saturating_mul(lba)),
            Stream::Metadata => (
                Store::Metadata,
                slba.saturating_mul(ms),
                self.stream_len(Stream::Metadata, nlb),
            ),
        };
        let mut whole = (!interleaved && whole.2 > 0).then_some(whole);
        let mut next = 0u64;
        core::iter::from_fn(move || {
            if let Some(piece) = whole.take() {
                return Some(piece);
            }
            if !interleaved || next >= nlb.saturating_mul(2) {
                return None;
            }
            let block = slba.saturating_add(next / 2);
            let piece = if next % 2 == 0 {
                (Store::Data, block.saturating_mul(lba), lba)
            } else {
                (Store::Metadata, block.saturating_mul(ms), ms)
            };
            next = next.saturating_add(1);
            Some(piece)
        })
    }

    pub fn store(&self, store: Store) -> &SparseStore {
        match store {
            Store::Data => &self.data,
            Store::Metadata => &self.metadata,
        }
    }

    pub fn store_mut(&mut self, store: Store) -> &mut SparseStore {
        match store {
            Store::Data => &mut self.data,
            Store::Metadata => &mut self.metadata,
        }
    }

    /// Blocks `slba .. slba + nlb` were written.
    pub fn mark_written(&mut self, slba: u64, nlb: u64) {
        self.allocated.set(slba, nlb, true);
    }

    /// Zero blocks `slba .. slba + nlb`, data and metadata; deallocate them or leave them
    /// allocated (Write Zeroes without DEAC).
    pub fn zero(&mut self, slba: u64, nlb: u64, deallocate: bool) {
        let (lba, ms) = (self.lba(), self.ms());
        self.data
            .zero(slba.saturating_mul(lba), nlb.saturating_mul(lba));
        self.metadata
            .zero(slba.saturating_mul(ms), nlb.saturating_mul(ms));
        self.allocated.set(slba, nlb, !deallocate);
    }

    /// Blocks currently allocated (NUSE).
    pub fn used(&self) -> u64 {
        self.allocated.count
    }

    /// The Identify Namespace structure for this namespace.
    pub fn identify(&self) -> IdentifyNamespace {
        let mut id = IdentifyNamespace::default();
        id.nsze.set(self.config.blocks);
        id.ncap.set(self.config.blocks);
        id.nuse.set(self.used());
        // MC: metadata may be extended or separate.
        id.mc = 0b11;
        // DLFEAT (byte 33): deallocated blocks read as zeros.
        if let Some(dlfeat) = id.bytes_30_127.get_mut(3) {
            *dlfeat = 0b001;
        }
        let current = (self.config.metadata_size, self.lbads);
        let mut formats = STANDARD_FORMATS.to_vec();
        if !formats.contains(&current) {
            formats.push(current);
        }
        for (slot, &(ms, lbads)) in id.lbaf.iter_mut().zip(&formats) {
            *slot = LbaFormat::new(ms, lbads, 0);
        }
        let index = formats.iter().position(|&f| f == current).unwrap_or(0);
        id.nlbaf_z = u8::try_from(formats.len().saturating_sub(1)).unwrap_or(0);
        id.set_flbas_index(u8::try_from(index).unwrap_or(0));
        id.set_metadata_extended(self.config.extended);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn read_all(store: &SparseStore, offset: u64, len: u64) -> Vec<u8> {
        let mut out = Vec::new();
        store
            .read_to::<()>(offset, len, |s| {
                out.extend_from_slice(s);
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn store_reads_back_across_chunks_and_zero_frees() {
        let mut store = SparseStore::default();
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut at = 0;
        store
            .write_from::<()>(CHUNK - 100, data.len() as u64, |dst| {
                dst.copy_from_slice(&data[at..at + dst.len()]);
                at += dst.len();
                Ok(())
            })
            .unwrap();
        assert_eq!(read_all(&store, CHUNK - 100, data.len() as u64), data);
        assert_eq!(read_all(&store, 0, 16), [0; 16]);
        store.zero(CHUNK, CHUNK);
        // Chunks 0 to 4 were written; zeroing all of chunk 1 frees it.
        assert_eq!(store.chunks.len(), 4);
        assert!(!store.chunks.contains_key(&CHUNK));
        assert_eq!(read_all(&store, CHUNK, 8), [0; 8]);
    }

    #[test]
    fn interleaved_pieces_alternate_data_and_metadata() {
        let ns = Namespace::new(NamespaceConfig::new(100, 512).with_metadata(8, true)).unwrap();
        let pieces: Vec<_> = ns.pieces(Stream::Data, 3, 2).collect();
        assert_eq!(
            pieces,
            [
                (Store::Data, 3 * 512, 512),
                (Store::Metadata, 24, 8),
                (Store::Data, 4 * 512, 512),
                (Store::Metadata, 32, 8)
            ]
        );
        assert_eq!(ns.stream_len(Stream::Data, 2), 1040);
        assert_eq!(ns.pieces(Stream::Metadata, 3, 2).count(), 0);
        let separate = Namespace::new(NamespaceConfig::new(100, 4096).with_metadata(8, false)).unwrap();
        let pieces: Vec<_> = separate.pieces(Stream::Metadata, 3, 2).collect();
        assert_eq!(pieces, [(Store::Metadata, 24, 16)]);
    }

    #[test]
    fn allocation_counts_follow_writes_and_deallocation() {
        let mut ns = Namespace::new(NamespaceConfig::new(1000, 512)).unwrap();
        ns.mark_written(60, 10);
        ns.mark_written(65, 70);
        assert_eq!(ns.used(), 75);
        ns.zero(100, 200, true);
        assert_eq!(ns.used(), 40);
        ns.zero(0, 10, false);
        assert_eq!(ns.used(), 50);
        let id = ns.identify();
        assert_eq!(id.nuse.get(), 50);
        assert_eq!(id.current_lba_format().unwrap().lba_size_bytes(), Some(512));
        assert!(Namespace::new(NamespaceConfig::new(1, 1000)).is_none());
    }
}
