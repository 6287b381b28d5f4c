//! Host memory as a case lays it out: descriptors and data, written into any [`DmaMemory`].

use alloc::vec::Vec;

use crate::extent::Extent;
use crate::memory::{DmaFault, DmaMemory};

/// The bytes a case puts in host memory, as writes at bus addresses, in order (a later write
/// may cover an earlier one: a hostile case overwrites a valid layout's descriptors).
///
/// It writes itself into any [`DmaMemory`] ([`MemoryImage::write_to`]): the crate's
/// [`SimMemory`](crate::SimMemory), a rust-vmm guest memory through the `vm-memory`
/// adapter, QEMU through qtest, or a C emulator's memory through a callback.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryImage {
    writes: Vec<(u64, Vec<u8>)>,
}

impl MemoryImage {
    /// An empty image.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `bytes` at `addr`.
    pub fn put(&mut self, addr: u64, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.writes.push((addr, bytes));
        }
    }

    /// The writes, in order.
    pub fn writes(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.writes
            .iter()
            .map(|(addr, bytes)| (*addr, bytes.as_slice()))
    }

    /// The ranges the image writes, in order (they may overlap).
    pub fn regions(&self) -> impl Iterator<Item = Extent> + '_ {
        self.writes
            .iter()
            .map(|(addr, bytes)| Extent::new(*addr, bytes.len() as u64))
    }

    /// The byte the image leaves at `addr`, if it writes one there.
    pub fn byte_at(&self, addr: u64) -> Option<u8> {
        self.writes.iter().rev().find_map(|(start, bytes)| {
            let offset = usize::try_from(addr.checked_sub(*start)?).ok()?;
            bytes.get(offset).copied()
        })
    }

    /// Write every byte into `mem`, in order; the first write that faults stops it.
    pub fn write_to<M: DmaMemory + ?Sized>(&self, mem: &mut M) -> Result<(), DmaFault> {
        for (addr, bytes) in &self.writes {
            mem.write(*addr, bytes)?;
        }
        Ok(())
    }

    /// Total bytes written.
    pub fn len(&self) -> usize {
        self.writes.iter().map(|(_, b)| b.len()).sum()
    }

    /// Whether the image writes nothing.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}
