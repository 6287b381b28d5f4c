//! Bring-up paths a real controller rarely shows: a device that never becomes ready, one
//! that reports a fatal error, one whose registers cannot be reached, and configurations
//! the driver must refuse. The register file here is scripted, not a controller: the QEMU
//! conformance tests and the mock controller cover real command processing.

use std::collections::BTreeMap;
use std::string::{String, ToString};

use super::*;
use crate::dptr::SglPolicy;
use crate::host::ArenaError;
use crate::spec::registers::Vs;
use crate::SimMemory;

/// Registers that remember writes, with CSTS scripted from CC.EN.
struct Scripted {
    regs: BTreeMap<u64, u32>,
    cap: Cap,
    /// CSTS.RDY follows CC.EN.
    ready_follows_enable: bool,
    fatal: bool,
    /// Register reads fail from this count on.
    fail_after: Option<u32>,
    reads: u32,
    mem: SimMemory,
}

impl Scripted {
    fn new() -> Self {
        let mut mem = SimMemory::new();
        mem.map(0x10_0000, 0x10_0000).unwrap();
        Scripted {
            regs: BTreeMap::new(),
            cap: Cap::new()
                .with_mqes_z(63)
                .with_cqr(true)
                .with_to(2)
                .with_mpsmax(4),
            ready_follows_enable: true,
            fatal: false,
            fail_after: None,
            reads: 0,
            mem,
        }
    }
}

impl RegisterAccess for Scripted {
    type Error = String;

    fn read32(&mut self, offset: u64) -> core::result::Result<u32, String> {
        self.reads += 1;
        if self.fail_after.is_some_and(|n| self.reads > n) {
            return Err("link down".to_string());
        }
        Ok(match offset {
            offset::CSTS => {
                let en = Cc(self.regs.get(&offset::CC).copied().unwrap_or(0)).en();
                let rdy = u32::from(en && self.ready_follows_enable);
                rdy | if self.fatal { Csts::CFS.bits() } else { 0 }
            }
            offset::VS => Vs::V1_4.raw(),
            _ => self.regs.get(&offset).copied().unwrap_or(0),
        })
    }

    fn write32(&mut self, offset: u64, value: u32) -> core::result::Result<(), String> {
        self.regs.insert(offset, value);
        Ok(())
    }

    fn read64(&mut self, offset: u64) -> core::result::Result<u64, String> {
        if offset == offset::CAP {
            return Ok(self.cap.raw());
        }
        let low = self.read32(offset)?;
        let high = self.read32(offset + 4)?;
        Ok(u64::from(high) << 32 | u64::from(low))
    }
}

impl DmaMemory for Scripted {
    fn read(&self, addr: u64, buf: &mut [u8]) -> core::result::Result<(), crate::DmaFault> {
        self.mem.read(addr, buf)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> core::result::Result<(), crate::DmaFault> {
        self.mem.write(addr, data)
    }
}

fn config() -> DriverConfig {
    let mut config = DriverConfig::new(Extent::new(0x10_0000, 0x10_0000));
    config.ready_polls_per_to_unit = 10;
    config.completion_polls = 7;
    config
}

#[test]
fn enable_programs_the_admin_queues_and_cc() {
    let driver = Driver::enable(Scripted::new(), config().with_admin_entries(8)).unwrap();
    let regs = &driver.bus().regs;
    let aqa = Aqa(regs[&offset::AQA]);
    assert_eq!((aqa.asqs_z(), aqa.acqs_z()), (7, 7));
    let asq = u64::from(regs[&offset::ASQ]) | u64::from(regs[&(offset::ASQ + 4)]) << 32;
    let acq = u64::from(regs[&offset::ACQ]) | u64::from(regs[&(offset::ACQ + 4)]) << 32;
    assert!(
        asq >= 0x10_0000 && asq % 4096 == 0,
        "ASQ {asq:#x} in the arena, page aligned"
    );
    assert!(
        acq >= 0x10_0000 && acq % 4096 == 0 && acq != asq,
        "ACQ {acq:#x}"
    );
    let cc = Cc(regs[&offset::CC]);
    assert!(cc.en());
    assert_eq!((cc.mps(), cc.iosqes(), cc.iocqes(), cc.css()), (0, 6, 4, 0));
    // The completion queue was zeroed, so no slot looks new.
    let mut cq = [0xffu8; 8 * 16];
    driver.bus().read(acq, &mut cq).unwrap();
    assert!(cq.iter().all(|b| *b == 0));
}

#[test]
fn a_device_that_never_becomes_ready_times_out_after_its_budget() {
    let mut device = Scripted::new();
    device.ready_follows_enable = false;
    let err = Driver::enable(device, config()).unwrap_err();
    // CAP.TO = 2 (1 s) at 10 polls per 500 ms unit.
    assert_eq!(
        err,
        DriverError::ReadyTimeout {
            ready: true,
            polls: 20,
            timeout_ms: 1000
        }
    );
    assert!(err
        .to_string()
        .contains("CSTS.RDY did not become 1 within 20 polls"));
}

#[test]
fn a_fatal_status_stops_bring_up() {
    let mut device = Scripted::new();
    device.fatal = true;
    assert!(matches!(
        Driver::enable(device, config()),
        Err(DriverError::ControllerFatal { csts }) if csts & Csts::CFS.bits() != 0
    ));
}

#[test]
fn transport_errors_are_reported_as_such() {
    let mut device = Scripted::new();
    device.fail_after = Some(0);
    assert_eq!(
        Driver::enable(device, config()).unwrap_err(),
        DriverError::Register("link down".to_string())
    );
}

#[test]
fn configurations_the_controller_cannot_take_are_refused() {
    let big = config().with_page_size(PageSize::from_mps(5).unwrap());
    assert_eq!(
        Driver::enable(Scripted::new(), big).unwrap_err(),
        DriverError::PageSizeUnsupported {
            page_size: PageSize::from_mps(5).unwrap(),
            min: 4096,
            max: 65536
        }
    );
    for entries in [0, 1, 4097] {
        assert_eq!(
            Driver::enable(Scripted::new(), config().with_admin_entries(entries)).unwrap_err(),
            DriverError::QueueSize { entries, max: 4096 }
        );
    }
    let mut tiny = config();
    tiny.arena = Extent::new(0x10_0800, 0x1000);
    assert!(matches!(
        Driver::enable(Scripted::new(), tiny),
        Err(DriverError::Arena(ArenaError::NoWholePage { .. }))
    ));
    // More I/O slots than CAP.MQES + 1 (64).
    let mut driver = Driver::enable(Scripted::new(), config()).unwrap();
    assert_eq!(
        driver.create_io_queue_pair(65),
        Err(DriverError::QueueSize {
            entries: 65,
            max: 64
        })
    );
}

#[test]
fn a_command_nobody_completes_times_out_and_io_needs_whole_blocks() {
    let mut driver = Driver::enable(Scripted::new(), config()).unwrap();
    let get_features = SubmissionEntry::new(Opcode::ADMIN_GET_FEATURES, 0);
    assert_eq!(
        driver.submit(0, get_features),
        Err(DriverError::CompletionTimeout {
            qid: 0,
            cid: 0,
            polls: 7
        })
    );
    // The command reached the queue and the doorbell.
    let tail = driver.bus().regs[&registers::sq_tail_doorbell(0, 0).unwrap()];
    assert_eq!(tail, 1);
    assert_eq!(
        driver.submit(3, get_features),
        Err(DriverError::NoSuchQueue { qid: 3 })
    );
    let mut driver = driver.with_namespace(Namespace {
        nsid: 1,
        blocks: 1 << 20,
        block_size: 512,
        metadata_size: 0,
    });
    // (More than 65,536 blocks is split, not refused: see tests/driver_on_mock.rs.)
    for len in [0, 500, 513] {
        assert_eq!(
            driver.read(0, &[Extent::new(0x18_0000, len)], SglPolicy::Never),
            Err(DriverError::NotWholeBlocks {
                len,
                block_size: 512
            }),
            "{len} bytes"
        );
    }
}
