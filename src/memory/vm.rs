//! [`DmaMemory`] over rust-vmm's guest memory, for emulators built on `vm-memory` (Cloud
//! Hypervisor, Firecracker and others).

use vm_memory::{Bytes, GuestAddress, GuestMemory};

use super::{DmaFault, DmaMemory};

/// A guest's memory as the DMA engine of an emulated NVMe controller sees it.
///
/// Wraps anything that implements [`GuestMemory`] (for example `GuestMemoryMmap`, or a
/// reference to one). Every access is checked against the guest's regions before a byte
/// moves, so an access that runs off the end of a region or into a hole fails whole, as
/// [`DmaMemory`] requires, instead of copying the part that fits.
#[derive(Debug)]
pub struct GuestMemoryDma<G>(pub G);

impl<G: GuestMemory> GuestMemoryDma<G> {
    fn check(&self, addr: u64, len: usize) -> Result<(), DmaFault> {
        let fault = DmaFault {
            addr,
            len: len as u64,
        };
        // An empty access needs no memory; anything else must lie wholly in guest RAM.
        if len == 0 || self.0.check_range(GuestAddress(addr), len) {
            Ok(())
        } else {
            Err(fault)
        }
    }
}

impl<G: GuestMemory> DmaMemory for GuestMemoryDma<G> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.check(addr, buf.len())?;
        self.0
            .read_slice(buf, GuestAddress(addr))
            .map_err(|_| DmaFault {
                addr,
                len: buf.len() as u64,
            })
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        self.check(addr, data.len())?;
        self.0
            .write_slice(data, GuestAddress(addr))
            .map_err(|_| DmaFault {
                addr,
                len: data.len() as u64,
            })
    }

    fn probe(&self, addr: u64, len: u64) -> Result<(), DmaFault> {
        let n = usize::try_from(len).map_err(|_| DmaFault { addr, len })?;
        self.check(addr, n)
    }
}
