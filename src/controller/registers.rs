//! The controller's register file (BAR0 below the doorbells): what reads return, what writes
//! change, and the checks CC.EN = 1 makes.

use core::fmt;

use super::config::ControllerConfig;
use super::{cmb_location, cmb_size};
use crate::spec::registers::offset;
use crate::spec::{Aqa, Cap, Cc, Csts, ShutdownNotification, ShutdownStatus};

/// Something the host did that the controller did not accept and that no completion reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControllerEvent {
    /// CC.EN was set but the configuration is not one the controller can run: RDY stays
    /// clear and CSTS.CFS is set.
    EnableRefused(EnableRefusal),
    /// A doorbell was written while the controller was not ready; ignored.
    DoorbellWhileNotReady {
        /// BAR0 offset written.
        offset: u64,
        /// Value written.
        value: u32,
    },
    /// A doorbell of a queue that does not exist (or a misaligned doorbell offset); ignored.
    InvalidDoorbellRegister {
        /// BAR0 offset written.
        offset: u64,
        /// Value written.
        value: u32,
    },
    /// A tail or head at or past the queue size, or a CQ head releasing entries never
    /// posted; ignored.
    InvalidDoorbellValue {
        /// BAR0 offset written.
        offset: u64,
        /// Value written.
        value: u32,
    },
    /// A write to a read-only or unimplemented register; ignored.
    ReadOnlyRegister {
        /// BAR0 offset written.
        offset: u64,
    },
    /// A submission entry could not be fetched by DMA: fatal (CSTS.CFS).
    SqeFetchFailed {
        /// The submission queue.
        qid: u16,
        /// The entry's address.
        addr: u64,
    },
    /// A completion entry could not be posted by DMA: fatal (CSTS.CFS).
    CqePostFailed {
        /// The completion queue.
        cqid: u16,
        /// The slot's address.
        addr: u64,
    },
    /// The profile's controller hangs on this command for good (an SGL whose segments loop
    /// without moving data, [`Deviation::SglEmptySegmentLoops`](super::Deviation)): the
    /// mock completes nothing more until it is reset.
    Hung {
        /// The submission queue.
        qid: u16,
        /// The command.
        cid: u16,
    },
}

impl fmt::Display for ControllerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ControllerEvent::EnableRefused(why) => {
                write!(f, "CC.EN = 1 refused: {why}; CSTS.CFS set")
            }
            ControllerEvent::DoorbellWhileNotReady { offset, value } => write!(
                f,
                "doorbell {offset:#x} <- {value} ignored: the controller is not ready"
            ),
            ControllerEvent::InvalidDoorbellRegister { offset, value } => write!(
                f,
                "doorbell {offset:#x} <- {value} ignored: no such queue (invalid doorbell register)"
            ),
            ControllerEvent::InvalidDoorbellValue { offset, value } => write!(
                f,
                "doorbell {offset:#x} <- {value} ignored: beyond the queue size or past the \
                 entries posted (invalid doorbell write value)"
            ),
            ControllerEvent::ReadOnlyRegister { offset } => {
                write!(
                    f,
                    "write to read-only or unimplemented register {offset:#x} ignored"
                )
            }
            ControllerEvent::SqeFetchFailed { qid, addr } => write!(
                f,
                "submission queue {qid}: the entry at {addr:#x} could not be fetched; CSTS.CFS set"
            ),
            ControllerEvent::CqePostFailed { cqid, addr } => write!(
                f,
                "completion queue {cqid}: the entry at {addr:#x} could not be posted; CSTS.CFS set"
            ),
            ControllerEvent::Hung { qid, cid } => write!(
                f,
                "SQ {qid} CID {cid}: the SGL's segments loop without moving data; the \
                 controller modelled would spin for good, so nothing more is processed \
                 until a reset"
            ),
        }
    }
}

/// Why CC.EN = 1 was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnableRefusal {
    /// CC.MPS outside CAP.MPSMIN ..= CAP.MPSMAX.
    PageSize {
        /// CC.MPS.
        mps: u8,
    },
    /// CC.CSS names a command set other than NVM.
    CommandSet {
        /// CC.CSS.
        css: u8,
    },
    /// AQA.ASQS or AQA.ACQS below 1 (a queue needs 2 slots) or above 4095.
    AdminQueueSize,
    /// ASQ or ACQ has bits 11:0 set (they are reserved: queues are 4 KiB aligned).
    AdminQueueBase,
}

impl fmt::Display for EnableRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnableRefusal::PageSize { mps } => {
                write!(f, "CC.MPS = {mps} is outside CAP.MPSMIN..=CAP.MPSMAX")
            }
            EnableRefusal::CommandSet { css } => write!(f, "CC.CSS = {css} is not NVM (0)"),
            EnableRefusal::AdminQueueSize => {
                f.write_str("AQA gives an admin queue of fewer than 2 slots")
            }
            EnableRefusal::AdminQueueBase => {
                f.write_str("ASQ or ACQ has reserved bits 11:0 set (not 4 KiB aligned)")
            }
        }
    }
}

/// Register state.
#[derive(Clone, Debug)]
pub(crate) struct Registers {
    pub cap: Cap,
    pub cc: Cc,
    pub csts: Csts,
    pub aqa: Aqa,
    pub asq: u64,
    pub acq: u64,
    /// CC.MPS as it was when the controller became ready: the page size in force until the
    /// next reset, whatever the host writes to CC meanwhile.
    pub active_mps: u8,
    intms: u32,
}

/// Set the low or high dword of a 64-bit register.
fn set_half(reg: &mut u64, high: bool, value: u32) {
    *reg = if high {
        *reg & 0xffff_ffff | u64::from(value) << 32
    } else {
        *reg & !0xffff_ffff | u64::from(value)
    };
}

impl Registers {
    pub fn new(config: &ControllerConfig) -> Self {
        let mqes_z = u16::try_from(config.max_queue_entries.saturating_sub(1)).unwrap_or(u16::MAX);
        let cap = Cap::new()
            .with_mqes_z(mqes_z)
            .with_cqr(config.contiguous_queues_required)
            .with_to(config.timeout_500ms)
            .with_dstrd(config.doorbell_stride)
            .with_css(1)
            .with_mpsmin(config.mps_min)
            .with_mpsmax(config.mps_max)
            .with_cmbs(config.cmb.is_some());
        Registers {
            cap,
            cc: Cc::new(),
            csts: Csts::empty(),
            aqa: Aqa::new(),
            asq: 0,
            acq: 0,
            active_mps: 0,
            intms: 0,
        }
    }

    pub fn read32(&self, off: u64, config: &ControllerConfig) -> u32 {
        let low = |v: u64| (v & 0xffff_ffff) as u32;
        let high = |v: u64| (v >> 32) as u32;
        match off {
            offset::CAP => low(self.cap.raw()),
            0x04 => high(self.cap.raw()),
            offset::VS => config.version.raw(),
            offset::INTMS | offset::INTMC => self.intms,
            offset::CC => self.cc.raw(),
            offset::CSTS => self.csts.bits(),
            offset::AQA => self.aqa.raw(),
            offset::ASQ => low(self.asq),
            0x2C => high(self.asq),
            offset::ACQ => low(self.acq),
            0x34 => high(self.acq),
            offset::CMBLOC if config.cmb.is_some() => cmb_location().raw(),
            offset::CMBSZ => config.cmb.as_ref().map_or(0, |c| cmb_size(c).raw()),
            _ => 0,
        }
    }

    /// Apply a register write; returns an event when the write was not accepted.
    pub fn write32(
        &mut self,
        off: u64,
        value: u32,
        _config: &ControllerConfig,
    ) -> Option<ControllerEvent> {
        match off {
            offset::INTMS => self.intms |= value,
            offset::INTMC => self.intms &= !value,
            offset::CC => {
                self.cc = Cc(value);
                let shst = match self.cc.shn() {
                    ShutdownNotification::None => ShutdownStatus::Normal,
                    _ => ShutdownStatus::Complete,
                };
                self.csts = self.csts.with_shst(shst);
            }
            offset::AQA => self.aqa = Aqa(value),
            offset::ASQ => set_half(&mut self.asq, false, value),
            0x2C => set_half(&mut self.asq, true, value),
            offset::ACQ => set_half(&mut self.acq, false, value),
            0x34 => set_half(&mut self.acq, true, value),
            _ => return Some(ControllerEvent::ReadOnlyRegister { offset: off }),
        }
        None
    }

    /// The checks CC.EN 0 → 1 makes before the controller becomes ready.
    pub fn check_enable(&self, config: &ControllerConfig) -> Result<(), EnableRefusal> {
        let mps = self.cc.mps();
        if !(config.mps_min..=config.mps_max).contains(&mps) {
            return Err(EnableRefusal::PageSize { mps });
        }
        if self.cc.css() != 0 {
            return Err(EnableRefusal::CommandSet { css: self.cc.css() });
        }
        if self.aqa.asqs_z() == 0 || self.aqa.acqs_z() == 0 {
            return Err(EnableRefusal::AdminQueueSize);
        }
        if self.asq & 0xfff != 0 || self.acq & 0xfff != 0 {
            return Err(EnableRefusal::AdminQueueBase);
        }
        Ok(())
    }
}

/// Which queue a doorbell offset names: `(qid, is_cq_head)`, or `None` when the offset is
/// not on a doorbell (misaligned for the stride, or a queue id beyond 65535).
pub(crate) fn decode_doorbell(off: u64, dstrd: u8) -> Option<(u16, bool)> {
    let stride = 4u64.checked_shl(u32::from(dstrd))?;
    let rel = off.checked_sub(offset::DOORBELL_BASE)?;
    if rel.checked_rem(stride)? != 0 {
        return None;
    }
    let index = rel.checked_div(stride)?;
    Some((u16::try_from(index / 2).ok()?, index % 2 == 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doorbells_decode_at_the_configured_stride() {
        assert_eq!(decode_doorbell(0x1000, 0), Some((0, false)));
        assert_eq!(decode_doorbell(0x1004, 0), Some((0, true)));
        assert_eq!(decode_doorbell(0x1008, 0), Some((1, false)));
        assert_eq!(decode_doorbell(0x1010, 2), Some((0, true)));
        assert_eq!(decode_doorbell(0x1020, 2), Some((1, false)));
        assert_eq!(decode_doorbell(0x1004, 2), None);
    }
}
