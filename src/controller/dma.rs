//! The controller's DMA engine: every access the controller makes to memory goes through one
//! [`DmaPort`], which routes it to host memory or to the controller memory buffer, refuses
//! what it must, and records it in the trace.
//!
//! ```text
//!   bus address space
//!   ─────────────────────────────────────────────────────────────────────────────
//!   │ host memory (the caller's DmaMemory) │ BAR0 registers │ … │ CMB (BAR2) │ …
//!   ─────────────────────────────────────────────────────────────────────────────
//!        routed to the host memory          refused: a DMA     routed to the
//!                                           into the device's  controller's own
//!                                           own registers      buffer
//! ```
//!
//! An access that touches the register window at all, even one that starts below it and runs
//! into it, is refused whole, as is one that straddles the edge of the CMB: the command gets
//! Data Transfer Error and nothing moves. (A data buffer that straddles the CMB's edge never
//! gets that far: the data path judges its two sides apart, and a buffer in both host memory
//! and the CMB is Invalid Use of Controller Memory Buffer.)

use core::cell::{Cell, RefCell};
use core::ops::Range;

use super::trace::{DmaAccess, DmaPurpose, DmaTarget, DmaTrace};
use crate::extent::Extent;
use crate::memory::{DmaFault, DmaMemory};
use crate::spec::CmbSz;

/// Which memories a command's data pointer has touched so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Touched {
    pub host: bool,
    pub cmb: bool,
}

/// The controller memory buffer as the DMA engine sees it.
pub(crate) struct CmbWindow<'a> {
    pub base: u64,
    pub bytes: &'a mut [u8],
    pub caps: CmbSz,
}

/// Where an access goes.
enum Route {
    Host,
    Cmb(Range<usize>),
}

/// One command's (or one doorbell's) view of memory.
pub(crate) struct DmaPort<'a, M: DmaMemory + ?Sized> {
    host: &'a mut M,
    cmb: Option<CmbWindow<'a>>,
    registers: Extent,
    trace: Option<RefCell<&'a mut DmaTrace>>,
    touched: Cell<Touched>,
    /// Data (not descriptor) accesses that fault are ignored: reads give zeros, writes go
    /// nowhere ([`Deviation::DataOutsideMemoryIgnored`](super::Deviation)).
    data_faults_ignored: bool,
}

/// Whether an access moves a command's data or metadata (rather than a queue entry, a list
/// or a segment).
fn moves_data(purpose: DmaPurpose) -> bool {
    matches!(
        purpose,
        DmaPurpose::DataRead
            | DmaPurpose::DataWrite
            | DmaPurpose::MetadataRead
            | DmaPurpose::MetadataWrite
    )
}

fn fault(addr: u64, len: usize) -> DmaFault {
    DmaFault {
        addr,
        len: len as u64,
    }
}

impl<'a, M: DmaMemory + ?Sized> DmaPort<'a, M> {
    pub fn new(
        host: &'a mut M,
        cmb: Option<CmbWindow<'a>>,
        registers: Extent,
        trace: Option<&'a mut DmaTrace>,
    ) -> Self {
        DmaPort {
            host,
            cmb,
            registers,
            trace: trace.map(RefCell::new),
            touched: Cell::new(Touched::default()),
            data_faults_ignored: false,
        }
    }

    /// This port, ignoring data accesses that fault when `ignored` is true.
    pub fn with_data_faults_ignored(mut self, ignored: bool) -> Self {
        self.data_faults_ignored = ignored;
        self
    }

    /// Whether a fault of an access for `purpose` at `addr .. addr + len` is ignored: a data
    /// access that reaches no memory, but never one into the register window, which the
    /// controller refuses whatever the profile.
    fn ignores(&self, purpose: DmaPurpose, addr: u64, len: u64) -> bool {
        let into_registers = Extent::new(addr, len).last_byte().map_or(true, |last| {
            self.registers
                .last_byte()
                .is_some_and(|end| addr <= end && self.registers.addr <= last)
        });
        self.data_faults_ignored && moves_data(purpose) && !into_registers
    }

    /// The CMB's capabilities, if there is one.
    pub fn cmb_caps(&self) -> Option<CmbSz> {
        self.cmb.as_ref().map(|c| c.caps)
    }

    /// Where the CMB sits on the bus, if there is one.
    pub fn cmb_window(&self) -> Option<Extent> {
        self.cmb
            .as_ref()
            .map(|c| Extent::new(c.base, c.bytes.len() as u64))
    }

    /// Forget what the previous command touched.
    pub fn reset_touched(&self) {
        self.touched.set(Touched::default());
    }

    pub fn touched(&self) -> Touched {
        self.touched.get()
    }

    fn route(&self, addr: u64, len: usize) -> Result<Route, DmaFault> {
        let extent = Extent::new(addr, len as u64);
        let Some(last) = extent.last_byte() else {
            // Empty accesses go nowhere; ones that wrap past 2^64 go nowhere either.
            return if len == 0 {
                Ok(Route::Host)
            } else {
                Err(fault(addr, len))
            };
        };
        let overlaps = |window: Extent| {
            window
                .last_byte()
                .is_some_and(|window_last| addr <= window_last && window.addr <= last)
        };
        if overlaps(self.registers) {
            return Err(fault(addr, len));
        }
        if let Some(cmb) = &self.cmb {
            let window = Extent::new(cmb.base, cmb.bytes.len() as u64);
            if overlaps(window) {
                let start = usize::try_from(addr.wrapping_sub(cmb.base)).ok();
                let range = start.and_then(|s| Some(s..s.checked_add(len)?));
                return match range {
                    Some(r) if addr >= cmb.base && r.end <= cmb.bytes.len() => Ok(Route::Cmb(r)),
                    _ => Err(fault(addr, len)),
                };
            }
        }
        Ok(Route::Host)
    }

    fn record(&self, purpose: DmaPurpose, addr: u64, len: u64, target: DmaTarget) {
        let mut touched = self.touched.get();
        match target {
            DmaTarget::Host => touched.host = true,
            DmaTarget::Cmb => touched.cmb = true,
            DmaTarget::Refused => {}
        }
        self.touched.set(touched);
        if let Some(trace) = &self.trace {
            if let Ok(mut trace) = trace.try_borrow_mut() {
                trace.push(DmaAccess {
                    purpose,
                    addr,
                    len,
                    target,
                });
            }
        }
    }

    /// Where `len` bytes at `addr` would go, without moving anything: `Ok(true)` for the CMB.
    /// A range that cannot be reached is recorded in the trace as a refused access for
    /// `purpose`, so the trace shows which buffer failed the command.
    pub fn probe(&self, purpose: DmaPurpose, addr: u64, len: u64) -> Result<bool, DmaFault> {
        let fault = DmaFault { addr, len };
        let result = usize::try_from(len)
            .map_err(|_| fault)
            .and_then(|n| self.route(addr, n))
            .and_then(|route| match route {
                Route::Host => self.host.probe(addr, len).map(|()| false),
                Route::Cmb(_) => Ok(true),
            });
        if result.is_err() {
            self.record(purpose, addr, len, DmaTarget::Refused);
            if self.ignores(purpose, addr, len) {
                return Ok(false);
            }
        }
        result
    }

    /// A device read of host memory or the CMB.
    pub fn read(&self, purpose: DmaPurpose, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        if buf.is_empty() {
            return Ok(());
        }
        let result = match self.route(addr, buf.len()) {
            Ok(Route::Host) => self.host.read(addr, buf).map(|()| DmaTarget::Host),
            Ok(Route::Cmb(r)) => match self.cmb.as_ref().and_then(|c| c.bytes.get(r)) {
                Some(src) => {
                    buf.copy_from_slice(src);
                    Ok(DmaTarget::Cmb)
                }
                None => Err(fault(addr, buf.len())),
            },
            Err(e) => Err(e),
        };
        self.record(
            purpose,
            addr,
            buf.len() as u64,
            *result.as_ref().unwrap_or(&DmaTarget::Refused),
        );
        if result.is_err() && self.ignores(purpose, addr, buf.len() as u64) {
            buf.fill(0);
            return Ok(());
        }
        result.map(|_| ())
    }

    /// A device write of host memory or the CMB.
    pub fn write(&mut self, purpose: DmaPurpose, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        if data.is_empty() {
            return Ok(());
        }
        let result = match self.route(addr, data.len()) {
            Ok(Route::Host) => self.host.write(addr, data).map(|()| DmaTarget::Host),
            Ok(Route::Cmb(r)) => match self.cmb.as_mut().and_then(|c| c.bytes.get_mut(r)) {
                Some(dst) => {
                    dst.copy_from_slice(data);
                    Ok(DmaTarget::Cmb)
                }
                None => Err(fault(addr, data.len())),
            },
            Err(e) => Err(e),
        };
        self.record(
            purpose,
            addr,
            data.len() as u64,
            *result.as_ref().unwrap_or(&DmaTarget::Refused),
        );
        if result.is_err() && self.ignores(purpose, addr, data.len() as u64) {
            return Ok(());
        }
        result.map(|_| ())
    }

    /// A read-only view for a walker, labelling its reads with `purpose`.
    pub fn fetcher(&self, purpose: DmaPurpose) -> Fetcher<'_, 'a, M> {
        Fetcher {
            port: self,
            purpose,
        }
    }
}

/// The memory a PRP or SGL walker reads its lists through.
pub(crate) struct Fetcher<'p, 'a, M: DmaMemory + ?Sized> {
    port: &'p DmaPort<'a, M>,
    purpose: DmaPurpose,
}

impl<M: DmaMemory + ?Sized> DmaMemory for Fetcher<'_, '_, M> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.port.read(self.purpose, addr, buf)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        // Walkers only read; a write through a fetcher is refused.
        Err(fault(addr, data.len()))
    }

    fn probe(&self, addr: u64, len: u64) -> Result<(), DmaFault> {
        self.port.probe(self.purpose, addr, len).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimMemory;
    use alloc::vec::Vec;

    #[test]
    fn register_window_and_cmb_edges_are_refused_whole() {
        let mut host = SimMemory::new();
        host.map(0xfdff_0000, 0x1_0000).unwrap();
        let mut cmb = [0u8; 0x1000];
        let window = CmbWindow {
            base: 0x8000_0000,
            bytes: &mut cmb,
            caps: CmbSz::new(),
        };
        let mut trace = DmaTrace::default();
        let mut port = DmaPort::new(
            &mut host,
            Some(window),
            Extent::new(0xfe00_0000, 0x4000),
            Some(&mut trace),
        );
        // Starts below the register window and runs into it.
        assert!(port
            .write(DmaPurpose::DataWrite, 0xfdff_fff0, &[1; 32])
            .is_err());
        // Inside the CMB: lands there.
        port.write(DmaPurpose::DataWrite, 0x8000_0010, &[7; 4])
            .unwrap();
        let mut buf = [0u8; 4];
        port.read(DmaPurpose::DataRead, 0x8000_0010, &mut buf)
            .unwrap();
        assert_eq!(buf, [7; 4]);
        // Straddles the CMB's end.
        assert!(port
            .read(DmaPurpose::DataRead, 0x8000_0ffe, &mut buf)
            .is_err());
        assert_eq!(
            port.touched(),
            Touched {
                host: false,
                cmb: true
            }
        );
        let _ = port;
        let targets: Vec<DmaTarget> = trace.accesses().iter().map(|a| a.target).collect();
        assert_eq!(
            targets,
            [
                DmaTarget::Refused,
                DmaTarget::Cmb,
                DmaTarget::Cmb,
                DmaTarget::Refused
            ]
        );
        // The refused write left the host bytes below the window alone.
        assert_eq!(host.peek_vec(0xfdff_fff0, 16).unwrap(), [0; 16]);
    }
}
