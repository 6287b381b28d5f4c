//! A mock NVMe controller that executes commands against simulated (or emulated) host memory,
//! strictly, as the specification says a controller must.
//!
//! It is driven like hardware: the host reads and writes BAR0 registers, and every queue
//! entry, PRP list, SGL segment and data byte moves by DMA through a [`DmaMemory`] the caller
//! passes to each register write. An emulator therefore keeps its own guest memory and hands
//! it over on each doorbell; a test uses [`Machine`], which owns a memory and a controller and
//! implements [`RegisterAccess`](crate::bus::RegisterAccess) so the crate's host driver (or any
//! other) can drive it.
//!
//! ```text
//!  host                                  MockController
//!  ────                                  ──────────────
//!  write CC.EN=1 ───────────────────────▶ check CC, AQA, ASQ, ACQ → CSTS.RDY=1
//!  write SQ tail doorbell ──────────────▶ for each new SQE:
//!                                           fetch SQE (DMA) ─▶ decode + walk the whole data
//!                                           pointer (PRP lists / SGL segments by DMA) ─▶ probe
//!                                           every buffer ─▶ move data ─▶ post CQE (phase tag)
//!  write CQ head doorbell ──────────────▶ free CQ slots; resume SQs that waited on a full CQ
//! ```
//!
//! # Behaviour the specification leaves open, as this controller does it
//!
//! * Commands run to completion one at a time, in submission order, during the doorbell
//!   write that made them visible. Only Asynchronous Event Requests stay outstanding, so
//!   Abort always answers "not aborted". CIDs are not checked for reuse (no Command ID
//!   Conflict): a command may reuse the CID of a held event request, whose completion then
//!   carries the same CID.
//! * A full completion queue is never overwritten: the controller stops fetching from every
//!   SQ that feeds it, and resumes when the host's CQ head doorbell frees a slot.
//! * A doorbell write for a queue that does not exist, a tail or head value at or beyond the
//!   queue size, an SQ tail that adds more entries than the queue has free, or a CQ head
//!   that releases entries never posted is ignored (no queue state changes). It is recorded
//!   in [`MockController::events`] and, when the host has an Asynchronous Event Request
//!   outstanding, reported through it (error status: "write to invalid doorbell register"
//!   or "invalid doorbell write value", log page 01h).
//! * Invalid Doorbell Write Value (01h among the Error Status values an Asynchronous Event
//!   Request completes with; Base 2.3, Figure 152) lists as possible causes that "the
//!   number of commands that would be added as part of a doorbell write would exceed the
//!   number of available entries" and that the host "attempted to add a command to a full
//!   Submission Queue" (the list's wording as NVMe 1.x gives it). The controller can tell:
//!   it knows its own head (the next entry it fetches) and the last tail, so the entries it
//!   has not fetched, and how many slots are free. An SQ's entries stay unfetched only
//!   while its completion queue is full (or the controller is stopped), and only then can a
//!   tail go past the head: with head 3 and tail 2 on a 4-slot queue, tail 3 would make the
//!   queue look empty and lose three commands. Such a tail is refused as above, and the
//!   queue keeps its three. What it cannot tell is a tail moved round the whole ring, to
//!   the value it had (that adds nothing, and is accepted as such), or a host that rewrote
//!   an entry the controller has not fetched yet.
//! * Setting CC.EN with a page size outside CAP.MPSMIN..MPSMAX, an admin queue size below
//!   2 slots, a queue base with reserved bits set, or a command set other than NVM leaves
//!   CSTS.RDY clear and sets CSTS.CFS; the reason is recorded as an event.
//! * A submission or completion entry that cannot be fetched or posted by DMA is a fatal
//!   error: CSTS.CFS is set and the controller stops processing until it is reset.
//! * Every failed command's status has DNR set (under the strict profile; a
//!   [`Profile`] may clear it where the controller it models does) and is added to the Error
//!   Information log.
//! * No fused operation is supported (FUSES = 0): a command with FUSE other than 00b gets
//!   Invalid Field in Command.
//! * PSDT is checked for every command before it runs, whether or not it moves data: 11b
//!   (reserved), an SGL on the admin queue, or an SGL kind SGLS does not advertise is
//!   Invalid Field in Command.
//! * A command that fails moves nothing: its whole data and metadata pointer is walked and
//!   every buffer probed ([`DmaMemory::probe`]) before the first byte moves. (If the host's
//!   memory changes between the probe and the move, the move may stop part-way with Data
//!   Transfer Error.)
//! * DMA whose range touches the register window is refused (Data Transfer Error); DMA into
//!   the controller memory buffer lands there. A command whose descriptors and data are not
//!   all in host memory or all in the CMB, or that puts in the CMB what CMBSZ does not allow,
//!   gets Invalid Use of Controller Memory Buffer.

mod admin;
mod config;
mod datapath;
mod dma;
mod engine;
pub(crate) mod lenient;
mod machine;
mod namespace;
mod nvm;
mod pcie;
mod profile;
mod queue;
mod registers;
mod trace;

use alloc::vec::Vec;

pub use config::{CmbConfig, ConfigError, ControllerConfig};
pub use machine::Machine;
pub use namespace::NamespaceConfig;
pub use pcie::{PcieCost, PcieLink};
pub use profile::{Deviation, DeviationKind, Profile, ProfileParseError};
pub use queue::{QueueRole, QueueView};
pub use registers::ControllerEvent;
pub use trace::{summarize, DmaAccess, DmaPurpose, DmaTarget, DmaTrace, TraceSummary};

use self::admin::AdminState;
use self::datapath::{Gathered, PointerRules};
use self::dma::{CmbWindow, DmaPort};
#[cfg(feature = "fuzzkit")]
pub(crate) use self::engine::data_path;
use self::engine::Engine;
pub(crate) use self::engine::Outcome;
use self::namespace::Namespace;
use self::queue::{CompletionQueue, SubmissionQueue};
use self::registers::Registers;
use crate::extent::{Extent, PageSize};
use crate::memory::DmaMemory;
use crate::spec::{
    log::SmartLog, registers::offset, CmbLoc, CmbSz, CommandId, CompletionEntry, Csts, Fuse,
    Status, SubmissionEntry,
};
use crate::QueueKind;

/// The mock controller. See the [module docs](self) for how it behaves.
#[derive(Debug)]
pub struct MockController {
    config: ControllerConfig,
    regs: Registers,
    queues: Queues,
    namespaces: Vec<Namespace>,
    admin: AdminState,
    cmb: Vec<u8>,
    trace: DmaTrace,
    tracing: bool,
    events: Vec<ControllerEvent>,
    scratch: Gathered,
    /// What walking a data pointer needs; the page size is fixed when the controller is
    /// enabled, the rest by the configuration.
    rules: PointerRules,
    /// The profile's controller would be spinning on a command for good
    /// ([`ControllerEvent::Hung`]): nothing is processed until a reset.
    hung: bool,
}

/// The queues that exist, indexed by queue id (0 is the admin pair).
#[derive(Debug, Default)]
pub(crate) struct Queues {
    pub sqs: Vec<Option<SubmissionQueue>>,
    pub cqs: Vec<Option<CompletionQueue>>,
}

impl Queues {
    fn new(max_io_queues: u16) -> Self {
        let n = usize::from(max_io_queues).saturating_add(1);
        Queues {
            sqs: alloc::vec![None; n],
            cqs: alloc::vec![None; n],
        }
    }

    fn clear(&mut self) {
        self.sqs.iter_mut().for_each(|q| *q = None);
        self.cqs.iter_mut().for_each(|q| *q = None);
    }

    pub fn sq(&self, qid: u16) -> Option<&SubmissionQueue> {
        self.sqs.get(usize::from(qid))?.as_ref()
    }

    pub fn cq(&self, qid: u16) -> Option<&CompletionQueue> {
        self.cqs.get(usize::from(qid))?.as_ref()
    }

    fn sq_mut(&mut self, qid: u16) -> Option<&mut SubmissionQueue> {
        self.sqs.get_mut(usize::from(qid))?.as_mut()
    }

    fn cq_mut(&mut self, qid: u16) -> Option<&mut CompletionQueue> {
        self.cqs.get_mut(usize::from(qid))?.as_mut()
    }

    /// I/O queues that exist (admin excluded).
    pub fn io_queues_exist(&self) -> bool {
        self.sqs.iter().skip(1).any(Option::is_some) || self.cqs.iter().skip(1).any(Option::is_some)
    }
}

/// Entry sizes: 64-byte SQEs and 16-byte CQEs (IOSQES 6, IOCQES 4).
const SQE_BYTES: u64 = 64;
const CQE_BYTES: u64 = 16;

impl MockController {
    /// A controller, disabled (CC.EN = 0), with fresh namespaces.
    pub fn new(config: ControllerConfig) -> Result<Self, ConfigError> {
        config.check()?;
        let namespaces = config
            .namespaces
            .iter()
            .filter_map(|ns| Namespace::new(*ns))
            .collect();
        let cmb = config
            .cmb
            .map(|c| alloc::vec![0u8; usize::try_from(c.size).unwrap_or(0)])
            .unwrap_or_default();
        Ok(MockController {
            regs: Registers::new(&config),
            queues: Queues::new(config.max_io_queues),
            admin: AdminState::new(&config),
            namespaces,
            cmb,
            trace: DmaTrace::default(),
            tracing: false,
            events: Vec::new(),
            scratch: Gathered::default(),
            rules: PointerRules::new(&config, PageSize::SIZE_4K),
            hung: false,
            config,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &ControllerConfig {
        &self.config
    }

    /// The register window (BAR0) on the bus.
    pub fn register_window(&self) -> Extent {
        Extent::new(self.config.bar0, self.config.bar0_size())
    }

    /// True when CSTS.RDY is set.
    pub fn is_ready(&self) -> bool {
        self.regs.csts.contains(Csts::RDY)
    }

    /// Read a 32-bit register at `offset` in BAR0 (reads have no side effects).
    pub fn read32(&self, offset: u64) -> u32 {
        self.regs.read32(offset, &self.config)
    }

    /// Read a 64-bit register (CAP, ASQ, ACQ) at `offset`.
    pub fn read64(&self, offset: u64) -> u64 {
        u64::from(self.read32(offset.wrapping_add(4))) << 32 | u64::from(self.read32(offset))
    }

    /// Write a 32-bit register at `offset`. Doorbell writes run the commands they make
    /// visible, moving data through `mem`.
    pub fn write32<M: DmaMemory + ?Sized>(&mut self, mem: &mut M, offset: u64, value: u32) {
        if offset >= offset::DOORBELL_BASE {
            self.doorbell(mem, offset, value);
            return;
        }
        let before = self.regs.cc;
        if let Some(event) = self.regs.write32(offset, value, &self.config) {
            self.events.push(event);
        }
        let after = self.regs.cc;
        if !before.en() && after.en() {
            self.enable();
        } else if before.en() && !after.en() {
            self.reset();
        }
    }

    /// Write a 64-bit register (ASQ, ACQ) as two 32-bit writes, low dword first.
    pub fn write64<M: DmaMemory + ?Sized>(&mut self, mem: &mut M, offset: u64, value: u64) {
        self.write32(mem, offset, (value & 0xffff_ffff) as u32);
        self.write32(mem, offset.wrapping_add(4), (value >> 32) as u32);
    }

    /// Record DMA accesses from now on (off by default; a long run would grow the trace
    /// without bound).
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    /// Accesses recorded so far.
    pub fn trace(&self) -> &DmaTrace {
        &self.trace
    }

    /// Take the recorded accesses, leaving the trace empty.
    pub fn take_trace(&mut self) -> DmaTrace {
        core::mem::take(&mut self.trace)
    }

    /// Things the controller did not accept that have no completion to report them:
    /// ignored doorbell writes, refused enables, fatal errors.
    pub fn events(&self) -> &[ControllerEvent] {
        &self.events
    }

    /// The submission queue `qid` as the controller sees it, if it exists.
    pub fn submission_queue(&self, qid: u16) -> Option<QueueView> {
        let sq = self.queues.sq(qid)?;
        Some(QueueView::submission(qid, sq, self.page_size().bytes()))
    }

    /// The completion queue `qid` as the controller sees it, if it exists.
    pub fn completion_queue(&self, qid: u16) -> Option<QueueView> {
        let cq = self.queues.cq(qid)?;
        Some(QueueView::completion(qid, cq, self.page_size().bytes()))
    }

    /// Every queue that exists: submission queues by id, then completion queues by id.
    pub fn queues(&self) -> impl Iterator<Item = QueueView> + '_ {
        let ids = 0..=self.config.max_io_queues;
        let sqs = ids.clone().filter_map(|qid| self.submission_queue(qid));
        sqs.chain(ids.filter_map(|qid| self.completion_queue(qid)))
    }

    /// The controller memory buffer, as the host reaches it through its BAR.
    pub fn cmb(&self) -> Option<&[u8]> {
        self.config.cmb.map(|_| self.cmb.as_slice())
    }

    /// The controller memory buffer, for host writes through its BAR.
    pub fn cmb_mut(&mut self) -> Option<&mut [u8]> {
        self.config.cmb.map(|_| self.cmb.as_mut_slice())
    }

    /// Store `data` (a whole number of blocks) in namespace `nsid` from block `slba`
    /// directly (no DMA, no command): for tests and emulators that load media. `None`, and
    /// nothing stored, when the blocks are not all in the namespace.
    pub fn set_namespace_data(&mut self, nsid: u32, slba: u64, data: &[u8]) -> Option<()> {
        let ns = self
            .namespaces
            .get_mut(usize::try_from(nsid.checked_sub(1)?).ok()?)?;
        let lba = u64::from(ns.config.lba_size);
        let len = data.len() as u64;
        let nlb = len.checked_div(lba)?;
        if len.checked_rem(lba)? != 0 || slba.checked_add(nlb)? > ns.blocks() {
            return None;
        }
        let mut rest = data;
        ns.store_mut(namespace::Store::Data)
            .write_from::<()>(slba.checked_mul(lba)?, len, |chunk| {
                let (head, tail) = rest.split_at(chunk.len().min(rest.len()));
                chunk.copy_from_slice(head);
                rest = tail;
                Ok(())
            })
            .ok()?;
        ns.mark_written(slba, nlb);
        Some(())
    }

    /// The separate metadata of blocks `slba .. slba + nlb` of namespace `nsid` (empty for a
    /// namespace without it, or with metadata inside its blocks), read directly as
    /// [`MockController::namespace_data`] reads data.
    pub fn namespace_metadata(&self, nsid: u32, slba: u64, nlb: u64) -> Option<Vec<u8>> {
        let ns = self
            .namespaces
            .get(usize::try_from(nsid.checked_sub(1)?).ok()?)?;
        if slba.checked_add(nlb)? > ns.blocks() {
            return None;
        }
        let per_block = ns.stream_len(namespace::Stream::Metadata, 1);
        let len = per_block.checked_mul(nlb)?;
        let mut out = Vec::with_capacity(usize::try_from(len).ok()?);
        ns.store(namespace::Store::Metadata)
            .read_to::<()>(slba.checked_mul(per_block)?, len, |b| {
                out.extend_from_slice(b);
                Ok(())
            })
            .ok()?;
        Some(out)
    }

    /// The data bytes of blocks `slba .. slba + nlb` of namespace `nsid`, read directly (no
    /// DMA, no command): for tests that check what a command stored. `None` when the range
    /// is not in the namespace or too large for memory.
    pub fn namespace_data(&self, nsid: u32, slba: u64, nlb: u64) -> Option<Vec<u8>> {
        let ns = self
            .namespaces
            .get(usize::try_from(nsid.checked_sub(1)?).ok()?)?;
        if slba.checked_add(nlb)? > ns.blocks() {
            return None;
        }
        let lba = u64::from(ns.config.lba_size);
        let mut out = Vec::with_capacity(usize::try_from(lba.checked_mul(nlb)?).ok()?);
        ns.store(namespace::Store::Data)
            .read_to::<()>(slba.checked_mul(lba)?, lba.checked_mul(nlb)?, |b| {
                out.extend_from_slice(b);
                Ok(())
            })
            .ok()?;
        Some(out)
    }

    /// The SMART / Health Information page as Get Log Page would return it now.
    pub fn smart_log(&self) -> SmartLog {
        self.admin.smart()
    }

    /// The memory page size latched from CC.MPS at the last enable (4 KiB before any).
    pub fn page_size(&self) -> PageSize {
        self.rules.page_size
    }

    fn enable(&mut self) {
        match self.regs.check_enable(&self.config) {
            Ok(()) => {
                let (asq, acq) = (self.regs.asq, self.regs.acq);
                let (sq_size, cq_size) = (
                    self.regs.aqa.asqs_z().saturating_add(1),
                    self.regs.aqa.acqs_z().saturating_add(1),
                );
                if let (Some(sq), Some(cq)) =
                    (self.queues.sqs.get_mut(0), self.queues.cqs.get_mut(0))
                {
                    *sq = Some(SubmissionQueue {
                        memory: queue::QueueMemory::Contiguous(asq),
                        size: sq_size,
                        head: 0,
                        tail: 0,
                        cqid: 0,
                    });
                    *cq = Some(CompletionQueue::new(
                        queue::QueueMemory::Contiguous(acq),
                        cq_size,
                    ));
                }
                self.regs.active_mps = self.regs.cc.mps();
                let page_size =
                    PageSize::from_mps(self.regs.active_mps).unwrap_or(PageSize::SIZE_4K);
                self.rules = PointerRules::new(&self.config, page_size);
                self.regs.csts = Csts::RDY;
            }
            Err(reason) => {
                self.regs.csts = Csts::CFS;
                self.events.push(ControllerEvent::EnableRefused(reason));
            }
        }
    }

    /// CC.EN 1 → 0: a controller reset. Queues and outstanding requests are dropped;
    /// namespaces and logs persist.
    fn reset(&mut self) {
        self.hung = false;
        self.queues.clear();
        self.admin.reset(&self.config);
        self.regs.csts = Csts::empty();
    }

    fn doorbell<M: DmaMemory + ?Sized>(&mut self, mem: &mut M, offset: u64, value: u32) {
        if !self.is_ready() || self.regs.csts.contains(Csts::CFS) {
            self.events
                .push(ControllerEvent::DoorbellWhileNotReady { offset, value });
            return;
        }
        let Some((qid, is_cq)) = registers::decode_doorbell(offset, self.config.doorbell_stride)
        else {
            self.events
                .push(ControllerEvent::InvalidDoorbellRegister { offset, value });
            self.admin
                .queue_event(admin::AsyncEvent::InvalidDoorbellRegister);
            self.run(mem, Wake::Nothing);
            return;
        };
        let accepted = match (is_cq, u16::try_from(value)) {
            (false, Ok(tail)) => match self.queues.sq_mut(qid) {
                None => Err(admin::AsyncEvent::InvalidDoorbellRegister),
                Some(sq) if !sq.tail_is_valid(tail) => Err(admin::AsyncEvent::InvalidDoorbellValue),
                Some(sq) => {
                    sq.tail = tail;
                    Ok(())
                }
            },
            (true, Ok(head)) => match self.queues.cq_mut(qid) {
                None => Err(admin::AsyncEvent::InvalidDoorbellRegister),
                Some(cq) if !cq.head_is_valid(head) => Err(admin::AsyncEvent::InvalidDoorbellValue),
                Some(cq) => {
                    cq.head = head;
                    Ok(())
                }
            },
            (_, Err(_)) => match (
                is_cq,
                self.queues.sq(qid).is_some(),
                self.queues.cq(qid).is_some(),
            ) {
                (false, false, _) | (true, _, false) => {
                    Err(admin::AsyncEvent::InvalidDoorbellRegister)
                }
                _ => Err(admin::AsyncEvent::InvalidDoorbellValue),
            },
        };
        match accepted {
            Ok(()) if is_cq => self.run(mem, Wake::FreedCq(qid)),
            Ok(()) => self.run(mem, Wake::Sq(qid)),
            Err(event) => {
                self.events.push(match event {
                    admin::AsyncEvent::InvalidDoorbellRegister => {
                        ControllerEvent::InvalidDoorbellRegister { offset, value }
                    }
                    admin::AsyncEvent::InvalidDoorbellValue => {
                        ControllerEvent::InvalidDoorbellValue { offset, value }
                    }
                });
                self.admin.queue_event(event);
                self.run(mem, Wake::Nothing);
            }
        }
    }

    /// Post what is waiting (async events), then process the queues `wake` names.
    fn run<M: DmaMemory + ?Sized>(&mut self, mem: &mut M, wake: Wake) {
        // A CQ head doorbell usually wakes nothing: skip setting up the engine unless an SQ
        // stalled on that CQ or an async event can complete.
        let stalled = match wake {
            Wake::FreedCq(cqid) => self
                .queues
                .cq_mut(cqid)
                .is_some_and(|cq| core::mem::take(&mut cq.stalled)),
            Wake::Sq(_) | Wake::Nothing => false,
        };
        if matches!(wake, Wake::FreedCq(_)) && !stalled && !self.admin.async_completion_ready() {
            return;
        }
        let registers = self.register_window();
        let cmb = self.config.cmb.map(|c| CmbWindow {
            base: c.addr,
            bytes: self.cmb.as_mut_slice(),
            caps: cmb_size(&c),
        });
        let trace = self.tracing.then_some(&mut self.trace);
        let ignore = self.config.profile.has(Deviation::DataOutsideMemoryIgnored);
        let mut port = DmaPort::new(mem, cmb, registers, trace).with_data_faults_ignored(ignore);
        let mut engine = Engine {
            port: &mut port,
            queues: &mut self.queues,
            namespaces: &mut self.namespaces,
            admin: &mut self.admin,
            regs: &mut self.regs,
            events: &mut self.events,
            scratch: &mut self.scratch,
            config: &self.config,
            rules: self.rules,
            hung: &mut self.hung,
        };
        engine.post_async_events();
        match wake {
            Wake::Sq(qid) => engine.process(qid),
            Wake::FreedCq(cqid) => {
                // Only SQs that feed this CQ can have been waiting, and only if it was full.
                if stalled {
                    for qid in 0..=self.config.max_io_queues {
                        if engine.queues.sq(qid).is_some_and(|sq| sq.cqid == cqid) {
                            engine.process(qid);
                        }
                    }
                }
            }
            Wake::Nothing => {}
        }
        // An Asynchronous Event Request just submitted may already have an event waiting.
        engine.post_async_events();
    }
}

/// The kind of queue `qid` is: 0 is the admin queue.
fn queue_kind(qid: u16) -> QueueKind {
    if qid == 0 {
        QueueKind::Admin
    } else {
        QueueKind::Io
    }
}

/// Which queues a doorbell write may have given work.
#[derive(Clone, Copy, Debug)]
enum Wake {
    /// This SQ's tail moved.
    Sq(u16),
    /// This CQ's head moved, freeing slots that SQs feeding it may have waited for.
    FreedCq(u16),
    /// No queue moved (an ignored doorbell write): only async events may post.
    Nothing,
}

/// CMBSZ for a configured buffer, in 4 KiB units.
fn cmb_size(c: &CmbConfig) -> CmbSz {
    CmbSz::new()
        .with_sqs(c.submission_queues)
        .with_cqs(c.completion_queues)
        .with_lists(c.lists)
        .with_rds(c.read_data)
        .with_wds(c.write_data)
        .with_szu(0)
        .with_sz(u32::try_from(c.size / 4096).unwrap_or(0))
}

/// CMBLOC for a configured buffer: BAR2, offset 0.
fn cmb_location() -> CmbLoc {
    CmbLoc::new().with_bir(2).with_ofst(0)
}
