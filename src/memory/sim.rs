//! Simulated host memory: sparse, with unmapped holes that fault, and a log of DMA accesses.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::ops::Range;

use super::{DmaFault, DmaMemory};

mod chunks;
use chunks::{Chunks, CHUNK, CHUNK_BYTES};

/// Whether a logged DMA access read or wrote memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessKind {
    /// The device read host memory (a PRP list, an SGL segment, write data).
    Read,
    /// The device wrote host memory (read data, a completion).
    Write,
}

/// One DMA access made through [`DmaMemory`], successful or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    /// Read or write.
    pub kind: AccessKind,
    /// First address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u64,
    /// False when the access faulted (nothing was transferred).
    pub ok: bool,
}

/// A sparse 64-bit memory for tests and for the mock controller.
///
/// Nothing is mapped at first; [`map`](SimMemory::map) makes a range readable and writable
/// (zero-filled), and any DMA that touches an unmapped byte fails whole with a [`DmaFault`].
/// DMA accesses through the [`DmaMemory`] trait are counted and, while logging is on (the
/// default), logged; the host's own set-up through [`poke`](SimMemory::poke) and
/// [`peek`](SimMemory::peek) is neither, so a test sees exactly what the device touched.
#[derive(Debug)]
pub struct SimMemory {
    /// Mapped ranges as first byte -> last byte (inclusive, so the top byte of the address
    /// space is representable). Disjoint and never adjacent: `map` merges neighbours.
    mapped: BTreeMap<u64, u64>,
    /// The region of `mapped` that answered the last lookup, as (first, last); `NO_REGION`
    /// when none did since the map last changed.
    last_region: Cell<(u64, u64)>,
    chunks: Chunks,
    log: RefCell<Vec<Access>>,
    quiet: bool,
    reads: Cell<u64>,
    bytes_read: Cell<u64>,
    writes: u64,
    bytes_written: u64,
}

/// An empty region (first > last) for `last_region`: no access lies inside it.
const NO_REGION: (u64, u64) = (1, 0);

impl Default for SimMemory {
    fn default() -> Self {
        SimMemory {
            mapped: BTreeMap::new(),
            last_region: Cell::new(NO_REGION),
            chunks: Chunks::default(),
            log: RefCell::default(),
            quiet: false,
            reads: Cell::default(),
            bytes_read: Cell::default(),
            writes: 0,
            bytes_written: 0,
        }
    }
}

impl SimMemory {
    /// An empty memory with nothing mapped and logging on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Map `len` bytes at `addr` (zero-filled where not mapped before). Fails when the range
    /// runs past `2^64 - 1`.
    pub fn map(&mut self, addr: u64, len: u64) -> Result<(), DmaFault> {
        let Some(last) = last_byte(addr, len) else {
            return if len == 0 {
                Ok(())
            } else {
                Err(DmaFault { addr, len })
            };
        };
        self.last_region.set(NO_REGION);
        let (mut first, mut last) = (addr, last);
        // Absorb every region that overlaps or touches [first, last].
        let touching: Vec<(u64, u64)> = self
            .mapped
            .range(..=last.saturating_add(1))
            .rev()
            .take_while(|&(_, &region_last)| region_last.saturating_add(1) >= first)
            .map(|(&s, &l)| (s, l))
            .collect();
        for (start, region_last) in touching {
            self.mapped.remove(&start);
            first = first.min(start);
            last = last.max(region_last);
        }
        self.mapped.insert(first, last);
        Ok(())
    }

    /// Unmap `len` bytes at `addr`; their contents are forgotten (a later `map` reads zeros).
    pub fn unmap(&mut self, addr: u64, len: u64) {
        let Some(last) = last_byte(addr, len) else {
            return;
        };
        self.last_region.set(NO_REGION);
        let overlapping: Vec<(u64, u64)> = self
            .mapped
            .range(..=last)
            .rev()
            .take_while(|&(_, &region_last)| region_last >= addr)
            .map(|(&s, &l)| (s, l))
            .collect();
        for (start, region_last) in overlapping {
            self.mapped.remove(&start);
            if start < addr {
                self.mapped.insert(start, addr.saturating_sub(1));
            }
            if region_last > last {
                self.mapped.insert(last.saturating_add(1), region_last);
            }
        }
        self.zero(addr, last);
    }

    /// True when all `len` bytes at `addr` are mapped (always true for `len == 0`).
    pub fn is_mapped(&self, addr: u64, len: u64) -> bool {
        if len == 0 {
            return true;
        }
        let Some(last) = last_byte(addr, len) else {
            return false;
        };
        // Regions are merged, so a mapped range lies inside a single region.
        let inside = |(first, region_last): (u64, u64)| first <= addr && last <= region_last;
        if inside(self.last_region.get()) {
            return true;
        }
        let Some(region) = self.mapped.range(..=addr).next_back() else {
            return false;
        };
        let region = (*region.0, *region.1);
        self.last_region.set(region);
        inside(region)
    }

    /// Host-side store (not DMA: not logged or counted). Fails whole on unmapped bytes.
    pub fn poke(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        self.check(addr, data.len())?;
        self.copy_in(addr, data);
        Ok(())
    }

    /// Host-side load (not DMA: not logged or counted). Fails whole on unmapped bytes.
    pub fn peek(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.check(addr, buf.len())?;
        self.copy_out(addr, buf);
        Ok(())
    }

    /// Host-side load into a new vector.
    pub fn peek_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, DmaFault> {
        let mut buf = alloc::vec![0u8; len];
        self.peek(addr, &mut buf)?;
        Ok(buf)
    }

    /// Turn the access log on or off (counters keep counting either way).
    pub fn set_logging(&mut self, on: bool) {
        self.quiet = !on;
    }

    /// The DMA accesses logged so far, oldest first.
    pub fn accesses(&self) -> Vec<Access> {
        self.log.borrow().clone()
    }

    /// Forget the logged accesses and reset the read and write counters.
    pub fn clear_log(&mut self) {
        self.log.get_mut().clear();
        self.reads.set(0);
        self.bytes_read.set(0);
        self.writes = 0;
        self.bytes_written = 0;
    }

    /// Number of DMA reads attempted since the last [`clear_log`](SimMemory::clear_log).
    pub fn read_count(&self) -> u64 {
        self.reads.get()
    }

    /// Bytes requested by DMA reads since the last [`clear_log`](SimMemory::clear_log).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.get()
    }

    /// Number of DMA writes attempted (failed ones included) since the last
    /// [`clear_log`](SimMemory::clear_log): zero proves the device changed nothing, even with
    /// logging off.
    pub fn write_count(&self) -> u64 {
        self.writes
    }

    /// Bytes offered by DMA writes (failed ones included) since the last
    /// [`clear_log`](SimMemory::clear_log).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    fn check(&self, addr: u64, len: usize) -> Result<(), DmaFault> {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        if self.is_mapped(addr, len) {
            Ok(())
        } else {
            Err(DmaFault { addr, len })
        }
    }

    fn record(&self, kind: AccessKind, addr: u64, len: usize, ok: bool) {
        if !self.quiet {
            let len = u64::try_from(len).unwrap_or(u64::MAX);
            self.log.borrow_mut().push(Access {
                kind,
                addr,
                len,
                ok,
            });
        }
    }

    /// Split `len` bytes at `addr` (already checked to lie below `2^64`) into pieces that
    /// stay within one chunk: (chunk base, offset in chunk, offset in the caller's buffer, length).
    fn pieces(addr: u64, len: usize) -> impl Iterator<Item = (u64, usize, usize, usize)> {
        let mut done = 0usize;
        core::iter::from_fn(move || {
            let left = len.checked_sub(done).filter(|&left| left > 0)?;
            let pos = addr.wrapping_add(done as u64);
            let in_chunk = usize::try_from(pos & (CHUNK - 1)).ok()?;
            let n = CHUNK_BYTES.saturating_sub(in_chunk).min(left);
            let piece = (pos & !(CHUNK - 1), in_chunk, done, n);
            done = done.saturating_add(n);
            Some(piece)
        })
    }

    /// Where `len` bytes at `addr` lie when they are not empty and fit in one chunk: (chunk
    /// base, byte range in the chunk). Most accesses do (a queue entry, an aligned page): one
    /// lookup, one copy.
    fn in_one_chunk(addr: u64, len: usize) -> Option<(u64, Range<usize>)> {
        let at = usize::try_from(addr & (CHUNK - 1)).ok()?;
        let end = at
            .checked_add(len)
            .filter(|&end| end > at && end <= CHUNK_BYTES)?;
        Some((addr & !(CHUNK - 1), at..end))
    }

    fn copy_in(&mut self, addr: u64, data: &[u8]) {
        if let Some((base, range)) = Self::in_one_chunk(addr, data.len()) {
            if let Some(dst) = self
                .chunks
                .get_or_insert(base)
                .and_then(|c| c.get_mut(range))
            {
                dst.copy_from_slice(data);
            }
            return;
        }
        for (base, at, from, n) in Self::pieces(addr, data.len()) {
            let Some(chunk) = self.chunks.get_or_insert(base) else {
                continue;
            };
            if let (Some(dst), Some(src)) = (
                chunk.get_mut(at..at.saturating_add(n)),
                data.get(from..from.saturating_add(n)),
            ) {
                dst.copy_from_slice(src);
            }
        }
    }

    fn copy_out(&self, addr: u64, buf: &mut [u8]) {
        if let Some((base, range)) = Self::in_one_chunk(addr, buf.len()) {
            match self.chunks.get(base).and_then(|c| c.get(range)) {
                Some(src) => buf.copy_from_slice(src),
                None => buf.fill(0),
            }
            return;
        }
        for (base, at, to, n) in Self::pieces(addr, buf.len()) {
            let Some(dst) = buf.get_mut(to..to.saturating_add(n)) else {
                continue;
            };
            match self
                .chunks
                .get(base)
                .and_then(|c| c.get(at..at.saturating_add(n)))
            {
                Some(src) => dst.copy_from_slice(src),
                None => dst.fill(0),
            }
        }
    }

    /// Zero the bytes `first ..= last` (used by `unmap`).
    fn zero(&mut self, first: u64, last: u64) {
        for base in self.chunks.bases_in(first & !(CHUNK - 1)..=last) {
            let chunk_last = base | (CHUNK - 1);
            if first <= base && chunk_last <= last {
                self.chunks.remove(base);
            } else if let Some(chunk) = self.chunks.get_mut(base) {
                // Both bounds are clamped into this chunk: their low bits are the offsets.
                let lo = usize::try_from(first.max(base) & (CHUNK - 1));
                let hi = usize::try_from(last.min(chunk_last) & (CHUNK - 1));
                if let Some(bytes) = lo
                    .ok()
                    .zip(hi.ok())
                    .and_then(|(lo, hi)| chunk.get_mut(lo..=hi))
                {
                    bytes.fill(0);
                }
            }
        }
    }
}

fn last_byte(addr: u64, len: u64) -> Option<u64> {
    addr.checked_add(len.checked_sub(1)?)
}

impl DmaMemory for SimMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.reads.set(self.reads.get().saturating_add(1));
        let len = u64::try_from(buf.len()).unwrap_or(u64::MAX);
        self.bytes_read
            .set(self.bytes_read.get().saturating_add(len));
        let result = self.peek(addr, buf);
        self.record(AccessKind::Read, addr, buf.len(), result.is_ok());
        result
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        self.writes = self.writes.saturating_add(1);
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.bytes_written = self.bytes_written.saturating_add(len);
        let result = self.poke(addr, data);
        self.record(AccessKind::Write, addr, data.len(), result.is_ok());
        result
    }

    fn probe(&self, addr: u64, len: u64) -> Result<(), DmaFault> {
        if self.is_mapped(addr, len) {
            Ok(())
        } else {
            Err(DmaFault { addr, len })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmapped_memory_faults_whole() {
        let mut mem = SimMemory::new();
        mem.map(0x1000, 0x2000).unwrap();
        assert!(mem.is_mapped(0x1000, 0x2000));
        assert!(!mem.is_mapped(0xfff, 2));
        assert!(!mem.is_mapped(0x2fff, 2));
        // A write straddling the end changes nothing.
        assert!(mem.write(0x2ffe, &[1, 2, 3, 4]).is_err());
        assert_eq!(mem.peek_vec(0x2ffe, 2).unwrap(), [0, 0]);
        let log = mem.accesses();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].kind, AccessKind::Write);
        assert!(!log[0].ok);
        // A failed write still counts as an attempt.
        assert_eq!((mem.write_count(), mem.bytes_written()), (1, 4));
    }

    #[test]
    fn data_crosses_chunks_and_survives_merging() {
        let mut mem = SimMemory::new();
        mem.map(0x0ff0, 0x10).unwrap();
        mem.map(0x1000, 0x20).unwrap(); // adjacent: merged into one region
        assert!(mem.is_mapped(0x0ff0, 0x30));
        let data: Vec<u8> = (0..0x30).collect();
        mem.write(0x0ff0, &data).unwrap();
        let mut back = [0u8; 0x30];
        mem.read(0x0ff0, &mut back).unwrap();
        assert_eq!(back[..], data[..]);
        assert_eq!(mem.read_count(), 1);
        assert_eq!(mem.bytes_read(), 0x30);
        assert_eq!((mem.write_count(), mem.bytes_written()), (1, 0x30));
        // Host-side stores are not DMA: not counted.
        mem.poke(0x0ff0, &[1]).unwrap();
        assert_eq!(mem.write_count(), 1);
        mem.clear_log();
        assert_eq!((mem.write_count(), mem.bytes_written()), (0, 0));
    }

    #[test]
    fn unmap_splits_regions_and_forgets_bytes() {
        let mut mem = SimMemory::new();
        mem.map(0, 0x3000).unwrap();
        mem.poke(0x1800, &[7; 16]).unwrap();
        mem.unmap(0x1000, 0x1000);
        assert!(mem.is_mapped(0, 0x1000));
        assert!(!mem.is_mapped(0x1000, 1));
        assert!(mem.is_mapped(0x2000, 0x1000));
        mem.map(0x1000, 0x1000).unwrap();
        assert_eq!(mem.peek_vec(0x1800, 16).unwrap(), [0; 16]);
    }

    #[test]
    fn top_of_address_space() {
        let mut mem = SimMemory::new();
        mem.map(u64::MAX - 0xfff, 0x1000).unwrap();
        assert!(mem.map(u64::MAX, 2).is_err());
        mem.write(u64::MAX - 3, &[1, 2, 3, 4]).unwrap();
        assert_eq!(mem.peek_vec(u64::MAX - 3, 4).unwrap(), [1, 2, 3, 4]);
        assert!(mem.read(u64::MAX - 1, &mut [0; 4]).is_err());
        mem.unmap(u64::MAX - 0xfff, 0x1000);
        assert!(!mem.is_mapped(u64::MAX, 1));
    }
}
