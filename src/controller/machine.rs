//! A host machine in a box: host memory and one mock controller, reachable the way a driver
//! reaches real hardware.

use core::convert::Infallible;

use super::MockController;
use crate::bus::RegisterAccess;
use crate::memory::{DmaFault, DmaMemory};

/// Host memory `M` plus a [`MockController`] whose BAR0 the host reaches through
/// [`RegisterAccess`] and whose controller memory buffer (if any) appears in the host's
/// address space at its configured address.
///
/// A driver generic over `RegisterAccess + DmaMemory` drives it exactly as it would drive a
/// real controller: register offsets go to the controller, memory accesses go to `M` or to
/// the CMB. Register accesses cannot fail, so the error type is [`Infallible`].
#[derive(Debug)]
pub struct Machine<M: DmaMemory> {
    /// The controller.
    pub controller: MockController,
    /// Host memory.
    pub memory: M,
}

impl<M: DmaMemory> Machine<M> {
    /// Plug `controller` into a machine with `memory`.
    pub fn new(controller: MockController, memory: M) -> Self {
        Machine { controller, memory }
    }

    /// The CMB bytes at `addr .. addr + len`, if the range lies inside the CMB.
    fn cmb_range(&self, addr: u64, len: usize) -> Option<core::ops::Range<usize>> {
        let cmb = self.controller.config().cmb?;
        let start = usize::try_from(addr.checked_sub(cmb.addr)?).ok()?;
        let end = start.checked_add(len)?;
        (end as u64 <= cmb.size).then_some(start..end)
    }
}

impl<M: DmaMemory> RegisterAccess for Machine<M> {
    type Error = Infallible;

    fn read32(&mut self, offset: u64) -> Result<u32, Infallible> {
        Ok(self.controller.read32(offset))
    }

    fn write32(&mut self, offset: u64, value: u32) -> Result<(), Infallible> {
        self.controller.write32(&mut self.memory, offset, value);
        Ok(())
    }
}

impl<M: DmaMemory> DmaMemory for Machine<M> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        match self.cmb_range(addr, buf.len()) {
            Some(r) => {
                let src = self.controller.cmb().and_then(|c| c.get(r));
                buf.copy_from_slice(src.ok_or(DmaFault { addr, len: buf.len() as u64 })?);
                Ok(())
            }
            None => self.memory.read(addr, buf),
        }
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        match self.cmb_range(addr, data.len()) {
            Some(r) => {
                let dst = self.controller.cmb_mut().and_then(|c| c.get_mut(r));
                dst.ok_or(DmaFault { addr, len: data.len() as u64 })?
                    .copy_from_slice(data);
                Ok(())
            }
            None => self.memory.write(addr, data),
        }
    }

    fn probe(&self, addr: u64, len: u64) -> Result<(), DmaFault> {
        match self.cmb_range(addr, usize::try_from(len).unwrap_or(usize::MAX)) {
            Some(_) => Ok(()),
            None => self.memory.probe(addr, len),
        }
    }
}
