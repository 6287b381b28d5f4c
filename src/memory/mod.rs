//! The memory a controller reaches by DMA.
//!
//! Walkers read PRP lists and SGL segments, and a controller moves data, only through
//! [`DmaMemory`]. An emulator implements it over its guest memory; tests use
//! [`SliceMemory`] (one flat region, no allocation) or, with the `alloc` feature,
//! [`SimMemory`] (sparse, with unmapped holes that fault and a log of every access). With the
//! `vm-memory` feature, `GuestMemoryDma` adapts rust-vmm's guest memory (vm-memory 0.18,
//! re-exported as `memory::vm_memory`).
//!
//! Every access either completes whole or fails whole with a [`DmaFault`]: a read that is
//! partly outside mapped memory returns an error and a write of that kind changes nothing,
//! as a PCIe request that hits an unsupported address is completed with an error rather
//! than half done.

use core::fmt;

mod mover;
pub use mover::{DataMover, MoveError};
#[cfg(feature = "alloc")]
mod sim;
#[cfg(feature = "alloc")]
pub use sim::{Access, AccessKind, SimMemory};
#[cfg(feature = "vm-memory")]
mod vm;
#[cfg(feature = "vm-memory")]
pub use vm::{AsGuestMemory, GuestMemoryDma};
/// The vm-memory release [`GuestMemoryDma`] is built against (0.18).
///
/// Guest memory from another vm-memory release is a different type to the compiler, so build
/// it with this re-export or with a dependency on the same major.minor release of `vm-memory`;
/// see [`GuestMemoryDma`] for the error a mismatch gives. The re-export has the features the
/// adapter needs (`backend-atomic`); `GuestMemoryMmap` also needs `backend-mmap`, which a
/// dependency of your own on `vm-memory` 0.18 turns on for both (Cargo unifies features).
#[cfg(feature = "vm-memory")]
pub use vm_memory;

/// A DMA access that could not be completed: `len` bytes at `addr` are not all backed by memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DmaFault {
    /// First address of the failed access.
    pub addr: u64,
    /// Length of the failed access in bytes.
    pub len: u64,
}

impl fmt::Display for DmaFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DMA access of {} bytes at {:#x} is not backed by memory",
            self.len, self.addr
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DmaFault {}

/// Memory as a DMA engine sees it: byte-addressed, 64-bit bus addresses.
///
/// Implementations must either complete an access whole or fail it whole (a failed write
/// changes nothing), and must not panic for any address or length, including ones that run
/// past `2^64`.
pub trait DmaMemory {
    /// Fill `buf` with the bytes at `addr ..` `addr + buf.len()`.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault>;

    /// Store `data` at `addr ..` `addr + data.len()`.
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault>;

    /// Whether an access (read or write) of `len` bytes at `addr` would succeed, moving no
    /// data.
    ///
    /// A controller probes every buffer of a command before it moves any byte, so a command
    /// that would fault part-way fails with nothing changed. The default reads the range
    /// through a small buffer, which costs O(`len`) and assumes readable memory is writable;
    /// implementations that know their map override it with a lookup.
    fn probe(&self, addr: u64, len: u64) -> Result<(), DmaFault> {
        let mut scratch = [0u8; 256];
        let mut done = 0u64;
        while done < len {
            let n = len.saturating_sub(done).min(scratch.len() as u64);
            let at = addr.checked_add(done).ok_or(DmaFault { addr, len })?;
            // `n` is at most the scratch length, so it fits a usize.
            let piece = scratch
                .get_mut(..usize::try_from(n).unwrap_or(0))
                .unwrap_or_default();
            self.read(at, piece).map_err(|_| DmaFault { addr, len })?;
            done = done.saturating_add(n);
        }
        Ok(())
    }
}

impl<M: DmaMemory + ?Sized> DmaMemory for &mut M {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        (**self).read(addr, buf)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        (**self).write(addr, data)
    }

    fn probe(&self, addr: u64, len: u64) -> Result<(), DmaFault> {
        (**self).probe(addr, len)
    }
}

/// One flat region of memory that starts at bus address `base`, over a slice the caller owns.
///
/// The simplest [`DmaMemory`]: an emulator with one contiguous guest RAM block, or a test that
/// needs no allocation.
#[derive(Debug)]
pub struct SliceMemory<'a> {
    base: u64,
    bytes: &'a mut [u8],
}

impl<'a> SliceMemory<'a> {
    /// Memory whose first byte, `bytes[0]`, has bus address `base`.
    pub fn new(base: u64, bytes: &'a mut [u8]) -> Self {
        SliceMemory { base, bytes }
    }

    /// Bus address of the first byte.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The bytes, for the host side to fill or inspect without going through DMA.
    pub fn bytes(&mut self) -> &mut [u8] {
        self.bytes
    }

    /// The index range of `len` bytes at `addr`, if all of them lie inside the region.
    fn range(&self, addr: u64, len: usize) -> Option<core::ops::Range<usize>> {
        let start = usize::try_from(addr.checked_sub(self.base)?).ok()?;
        let end = start.checked_add(len)?;
        (end <= self.bytes.len()).then_some(start..end)
    }
}

fn fault(addr: u64, len: usize) -> DmaFault {
    DmaFault {
        addr,
        len: u64::try_from(len).unwrap_or(u64::MAX),
    }
}

impl DmaMemory for SliceMemory<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        let src = self
            .range(addr, buf.len())
            .and_then(|r| self.bytes.get(r))
            .ok_or_else(|| fault(addr, buf.len()))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        let range = self
            .range(addr, data.len())
            .ok_or_else(|| fault(addr, data.len()))?;
        let dst = self
            .bytes
            .get_mut(range)
            .ok_or_else(|| fault(addr, data.len()))?;
        dst.copy_from_slice(data);
        Ok(())
    }

    fn probe(&self, addr: u64, len: u64) -> Result<(), DmaFault> {
        let fault = DmaFault { addr, len };
        let len = usize::try_from(len).map_err(|_| fault)?;
        self.range(addr, len).map(|_| ()).ok_or(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_memory_reads_and_writes_inside_only() {
        let mut backing = [0u8; 16];
        let mut mem = SliceMemory::new(0x1000, &mut backing);
        mem.write(0x1004, &[1, 2, 3, 4]).unwrap();
        let mut buf = [0u8; 6];
        mem.read(0x1003, &mut buf).unwrap();
        assert_eq!(buf, [0, 1, 2, 3, 4, 0]);
        // Partly outside: fails whole and changes nothing.
        assert_eq!(
            mem.write(0x100e, &[9, 9, 9]),
            Err(DmaFault {
                addr: 0x100e,
                len: 3
            })
        );
        assert_eq!(mem.bytes()[14..], [0, 0]);
        assert!(mem.read(0xfff, &mut buf).is_err());
        assert!(mem.read(u64::MAX, &mut buf).is_err());
        // An empty access inside the region succeeds; at its end too.
        assert!(mem.read(0x1010, &mut []).is_ok());
    }
}
