//! A small polling NVMe host driver over [`RegisterAccess`] and [`DmaMemory`].
//!
//! This file holds the driver's types, bring-up, admin commands and accessors. The data path
//! (Read, Write, data pointers and their descriptor pages) is in `io`; both go through
//! `submit`, which puts commands in a queue and reaps their completions.

use alloc::boxed::Box;
use alloc::vec::Vec;

use zerocopy::{FromZeros, IntoBytes};

use super::arena::DmaArena;
use super::cid::CidAllocator;
use super::error::DriverError;
use super::ring::{CqRing, SqRing};
use crate::bus::RegisterAccess;
use crate::dptr::{ControllerCaps, Filled};
use crate::extent::{Extent, PageSize};
use crate::memory::DmaMemory;
use crate::sgl::SglCaps;
use crate::spec::features::{NumberOfQueues, SetFeatures, FID_NUMBER_OF_QUEUES};
use crate::spec::identify::{CNS_CONTROLLER, CNS_NAMESPACE};
use crate::spec::registers::{self, offset};
use crate::spec::{
    Aqa, BlockRange, Cap, Cc, CompletionEntry, CreateIoCq, CreateIoSq, Csts, DeleteIoQueue,
    Identify, IdentifyController, IdentifyNamespace, MaxTransfer, Opcode, QueueCount, QueueSize,
    Sgls, ShutdownNotification, ShutdownStatus, SubmissionEntry,
};

mod io;
mod submit;

/// Identifiers tracked per queue: 64 words of 64 bits, 4096 CIDs, enough for any queue the
/// driver creates.
const CID_WORDS: usize = 64;

/// The largest queue the driver creates (bounded by its CID space).
pub const MAX_DRIVER_QUEUE_ENTRIES: u32 = 4096;

/// The largest admin queue the specification allows (AQA sizes are 12 bits).
const MAX_ADMIN_QUEUE_ENTRIES: u32 = 4096;

/// log2 of the submission and completion entry sizes the driver uses (64 and 16 bytes).
const SQES_LOG2: u8 = 6;
const CQES_LOG2: u8 = 4;

/// How the driver runs: the memory it may use, queue sizes, page size and poll budgets.
///
/// Polling is bounded everywhere; the driver never sleeps. A caller whose device needs real
/// time to answer (hardware, or an emulator running in another thread) sizes the budgets, or
/// lets its register or memory accesses take the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DriverConfig {
    /// Bus addresses the driver may use for queues, descriptor pages and Identify buffers.
    pub arena: Extent,
    /// The memory page size (CC.MPS) to run the controller with.
    pub page_size: PageSize,
    /// Admin queue slots (both admin queues).
    pub admin_entries: u32,
    /// I/O queue slots for queue pairs created by [`Driver::start`].
    pub io_entries: u32,
    /// I/O queue pairs [`Driver::start`] asks for with Set Features Number of Queues (it
    /// creates one; the rest are for [`Driver::create_io_queue_pair`]).
    pub io_queue_pairs: u16,
    /// CSTS polls per 500 ms unit of CAP.TO while waiting for RDY: the budget is
    /// `max(CAP.TO, 1) × this`.
    pub ready_polls_per_to_unit: u32,
    /// Completion-queue polls before a command is declared lost.
    pub completion_polls: u32,
    /// CSTS polls while waiting for a shutdown to complete.
    pub shutdown_polls: u32,
}

impl DriverConfig {
    /// A configuration with `arena` and defaults: 4 KiB pages, 32 admin and 64 I/O slots, one
    /// I/O queue pair, 1000 polls per CAP.TO unit, 100,000 completion polls, 100,000 shutdown
    /// polls.
    pub const fn new(arena: Extent) -> Self {
        DriverConfig {
            arena,
            page_size: PageSize::SIZE_4K,
            admin_entries: 32,
            io_entries: 64,
            io_queue_pairs: 1,
            ready_polls_per_to_unit: 1000,
            completion_polls: 100_000,
            shutdown_polls: 100_000,
        }
    }

    /// This configuration with memory page size `page_size`.
    pub const fn with_page_size(mut self, page_size: PageSize) -> Self {
        self.page_size = page_size;
        self
    }

    /// This configuration with `entries` slots per I/O queue.
    pub const fn with_io_entries(mut self, entries: u32) -> Self {
        self.io_entries = entries;
        self
    }

    /// This configuration asking for `pairs` I/O queue pairs at start.
    pub const fn with_io_queue_pairs(mut self, pairs: u16) -> Self {
        self.io_queue_pairs = pairs;
        self
    }

    /// This configuration with `entries` slots per admin queue.
    pub const fn with_admin_entries(mut self, entries: u32) -> Self {
        self.admin_entries = entries;
        self
    }
}

/// What the driver knows about a namespace, from Identify Namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Namespace {
    /// The namespace identifier.
    pub nsid: u32,
    /// Size in logical blocks (NSZE).
    pub blocks: u64,
    /// Logical block size in bytes, from the format in use.
    pub block_size: u64,
    /// Metadata bytes per block in the format in use.
    pub metadata_size: u16,
}

/// The state of a [`Driver`] that has not been given a namespace to read and write: what
/// [`Driver::enable`] returns. [`Driver::with_namespace`] gives it one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoNamespace;

/// What a finished Read or Write did: every command it took, in order. One command unless no
/// single command could carry the data (MDTS, NLB's 65,536 blocks, or PRP rules the buffer
/// breaks between extents), when each chunk of the split is a command at its own blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoReport {
    /// Each command of the transfer, in the order they ran.
    pub commands: Vec<CommandReport>,
}

/// One command of a Read or Write ([`IoReport`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandReport {
    /// The blocks the command moved.
    pub blocks: BlockRange,
    /// PSDT, MPTR and the descriptor memory its data pointer used.
    pub filled: Filled,
    /// Its completion entry.
    pub completion: CompletionEntry,
}

impl IoReport {
    /// The last command's report: the whole transfer's, when one command carried it.
    pub fn last(&self) -> Option<&CommandReport> {
        self.commands.last()
    }
}

/// One submission queue with its completion queue, their memory and doorbells.
#[derive(Clone, Debug)]
struct QueuePair {
    qid: u16,
    sq: SqRing,
    cq: CqRing,
    sq_mem: Extent,
    cq_mem: Extent,
    cids: CidAllocator<CID_WORDS>,
    sq_doorbell: u64,
    cq_doorbell: u64,
}

/// A polling NVMe host driver over a device `B`: its BAR0 registers ([`RegisterAccess`]) and
/// the host memory it reaches by DMA ([`DmaMemory`]).
///
/// It brings a controller up (reset, admin queues, enable), identifies it and a namespace,
/// creates I/O queue pairs, and reads and writes through any data pointer layout the crate
/// builds: [`Driver::read`] and [`Driver::write`] choose PRP or SGL with an [`SglPolicy`]
/// and put PRP lists and SGL segments in pages of the driver's own [`DmaArena`];
/// [`Driver::submit`] runs any command the caller has built. Every wait is a bounded poll.
///
/// Queues are physically contiguous (PC = 1) and run without interrupts (IEN = 0). Commands
/// go one at a time through [`Driver::submit`], or several in flight at once through
/// [`Driver::submit_batch`].
///
/// `N` says whether the driver has a namespace to read and write: a `Driver<B>` (from
/// [`Driver::start`] or [`Driver::with_namespace`]) has one, [`Driver::namespace`], and
/// [`Driver::read`] and [`Driver::write`] go to it; a `Driver<B, NoNamespace>` (from
/// [`Driver::enable`]) runs admin commands and [`Driver::transfer`] to a namespace named in
/// the call.
///
/// [`SglPolicy`]: crate::dptr::SglPolicy
pub struct Driver<B, N = Namespace> {
    bus: B,
    config: DriverConfig,
    cap: Cap,
    arena: DmaArena,
    /// `queues[0]` is the admin pair; I/O pairs follow in creation order.
    queues: Vec<QueuePair>,
    controller: ControllerCaps,
    identify: Option<Box<IdentifyController>>,
    namespace: N,
}

impl<B, N: core::fmt::Debug> core::fmt::Debug for Driver<B, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Driver")
            .field("config", &self.config)
            .field("cap", &self.cap)
            .field("queues", &self.queues.len())
            .field("controller", &self.controller)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

type Result<T, B> = core::result::Result<T, DriverError<<B as RegisterAccess>::Error>>;

impl<B: RegisterAccess + DmaMemory> Driver<B> {
    /// Everything a driver does before I/O: [`Driver::enable`], Identify Controller, Set
    /// Features Number of Queues (`config.io_queue_pairs`), one I/O queue pair of
    /// `config.io_entries` slots (queue 1), and Identify Namespace 1, which reads and writes
    /// then go to.
    pub fn start(bus: B, config: DriverConfig) -> Result<Self, B> {
        let mut driver = Driver::enable(bus, config)?;
        driver.identify_controller()?;
        driver.set_queue_count(config.io_queue_pairs)?;
        driver.create_io_queue_pair(config.io_entries)?;
        let namespace = driver.identify_namespace(1)?;
        Ok(driver.with_namespace(namespace))
    }

    /// The namespace reads and writes go to.
    pub const fn namespace(&self) -> Namespace {
        self.namespace
    }
}

impl<B: RegisterAccess + DmaMemory> Driver<B, NoNamespace> {
    /// Reset the controller (CC.EN = 0, wait for CSTS.RDY = 0), set up the admin queues in
    /// the arena (AQA, ASQ, ACQ), configure CC (MPS, IOSQES = 6, IOCQES = 4, NVM command set)
    /// and enable it, waiting for CSTS.RDY = 1 within `max(CAP.TO, 1) ×
    /// ready_polls_per_to_unit` polls. The driver has no namespace yet
    /// ([`Driver::with_namespace`]).
    pub fn enable(mut bus: B, config: DriverConfig) -> Result<Self, B> {
        let cap = Cap(bus.read64(offset::CAP).map_err(DriverError::Register)?);
        let page_size = config.page_size;
        if !(cap.page_size_min()..=cap.page_size_max()).contains(&page_size.bytes()) {
            return Err(DriverError::PageSizeUnsupported {
                page_size,
                min: cap.page_size_min(),
                max: cap.page_size_max(),
            });
        }
        let admin_max = MAX_ADMIN_QUEUE_ENTRIES.min(MAX_DRIVER_QUEUE_ENTRIES);
        if !(2..=admin_max).contains(&config.admin_entries) {
            return Err(DriverError::QueueSize {
                entries: config.admin_entries,
                max: admin_max,
            });
        }
        let arena = DmaArena::new(config.arena, page_size)?;
        let controller = ControllerCaps {
            page_size,
            sgl: SglCaps::new(Sgls::empty()),
            max_transfer: MaxTransfer::Unlimited,
        };
        let mut driver = Driver {
            bus,
            config,
            cap,
            arena,
            queues: Vec::new(),
            controller,
            identify: None,
            namespace: NoNamespace,
        };
        let cc = Cc(driver.read32(offset::CC)?);
        if cc.en() {
            driver.write32(offset::CC, cc.with_en(false).raw())?;
        }
        driver.wait_ready(false)?;
        let admin = driver.new_queue_pair(0, config.admin_entries)?;
        let aqa = Aqa::new()
            .with_asqs_z(admin.sq.size_z())
            .with_acqs_z(admin.cq.size_z());
        driver.write32(offset::AQA, aqa.raw())?;
        driver.write64(offset::ASQ, admin.sq_mem.addr)?;
        driver.write64(offset::ACQ, admin.cq_mem.addr)?;
        driver.queues.push(admin);
        let cc = Cc::new()
            .with_css(0)
            .with_mps(page_size.mps())
            .with_ams(0)
            .with_shn(ShutdownNotification::None)
            .with_iosqes(SQES_LOG2)
            .with_iocqes(CQES_LOG2);
        driver.write32(offset::CC, cc.raw())?;
        driver.write32(offset::CC, cc.with_en(true).raw())?;
        driver.wait_ready(true)?;
        Ok(driver)
    }
}

impl<B: RegisterAccess + DmaMemory, N> Driver<B, N> {
    /// This driver, reading and writing `namespace` (from [`Driver::identify_namespace`]).
    pub fn with_namespace(self, namespace: Namespace) -> Driver<B> {
        let Driver {
            bus,
            config,
            cap,
            arena,
            queues,
            controller,
            identify,
            namespace: _,
        } = self;
        Driver {
            bus,
            config,
            cap,
            arena,
            queues,
            controller,
            identify,
            namespace,
        }
    }

    /// Identify Controller (CNS 01h). Also takes the SGL support (SGLS, MSDBD) and the
    /// maximum transfer (MDTS) from it for building data pointers.
    pub fn identify_controller(&mut self) -> Result<&IdentifyController, B> {
        let mut id = Box::new(IdentifyController::new_zeroed());
        self.identify_into(CNS_CONTROLLER, 0, id.as_mut_bytes())?;
        self.controller.sgl = SglCaps::from_identify(&id);
        self.controller.max_transfer = id.max_transfer(self.cap.page_size_min());
        Ok(self.identify.insert(id))
    }

    /// Identify Namespace (CNS 00h) for `nsid`: its size and format in use. Reads and writes
    /// go to it through [`Driver::with_namespace`] or [`Driver::transfer`].
    pub fn identify_namespace(&mut self, nsid: u32) -> Result<Namespace, B> {
        let mut id = Box::new(IdentifyNamespace::new_zeroed());
        self.identify_into(CNS_NAMESPACE, nsid, id.as_mut_bytes())?;
        let format = id.current_lba_format();
        let namespace = Namespace {
            nsid,
            blocks: id.nsze.get(),
            block_size: format.and_then(|f| f.lba_size_bytes()).unwrap_or(0),
            metadata_size: format.map_or(0, |f| f.metadata_size()),
        };
        Ok(namespace)
    }

    /// Set Features, Number of Queues: ask for `pairs` I/O submission and completion queues.
    /// Returns the counts the controller allocated (submission, completion). The spec allows
    /// it only before any I/O queue exists (after: Command Sequence Error).
    pub fn set_queue_count(&mut self, pairs: u16) -> Result<(u32, u32), B> {
        // 0 pairs asks for one, the fewest the field can say.
        let count = QueueCount::from_zero_based(pairs.saturating_sub(1));
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_SET_FEATURES, 0);
        SetFeatures {
            fid: FID_NUMBER_OF_QUEUES,
            save: false,
        }
        .write_to(&mut sqe);
        NumberOfQueues::pairs(count).write_to(&mut sqe);
        let granted = NumberOfQueues::from_dw0(self.submit(0, sqe)?.dw0());
        Ok((granted.submission.get(), granted.completion.get()))
    }

    /// Create an I/O completion queue and its submission queue, both of `entries` slots and
    /// physically contiguous, with the next free queue identifier; returns it.
    pub fn create_io_queue_pair(&mut self, entries: u32) -> Result<u16, B> {
        let max = self.cap.max_queue_entries().min(MAX_DRIVER_QUEUE_ENTRIES);
        if !(2..=max).contains(&entries) {
            return Err(DriverError::QueueSize { entries, max });
        }
        let qid = u16::try_from(self.queues.len())
            .map_err(|_| DriverError::QueueSize { entries, max })?;
        let pair = self.new_queue_pair(qid, entries)?;
        let size = QueueSize::from_zero_based(pair.sq.size_z());
        let created = (|| {
            let mut cq = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_CQ, 0);
            cq.set_prp1(pair.cq_mem.addr);
            CreateIoCq::polled(qid, size).write_to(&mut cq);
            self.submit(0, cq)?;
            let mut sq = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_SQ, 0);
            sq.set_prp1(pair.sq_mem.addr);
            CreateIoSq::contiguous(qid, size, qid).write_to(&mut sq);
            self.submit(0, sq).map(|_| ())
        })();
        if let Err(e) = created {
            // The queue memory goes back; a half-created pair stays with the controller.
            self.arena.free(pair.sq_mem)?;
            self.arena.free(pair.cq_mem)?;
            return Err(e);
        }
        self.queues.push(pair);
        Ok(qid)
    }

    /// Delete the most recently created I/O queue pair (submission queue first, as the spec
    /// requires) and give its memory back.
    pub fn delete_io_queue_pair(&mut self) -> Result<(), B> {
        let Some(pair) = self.queues.get(1..).and_then(|io| io.last()) else {
            return Err(DriverError::NoSuchQueue { qid: 1 });
        };
        let (queue, sq_mem, cq_mem) = (DeleteIoQueue { qid: pair.qid }, pair.sq_mem, pair.cq_mem);
        let mut sq = SubmissionEntry::new(Opcode::ADMIN_DELETE_IO_SQ, 0);
        queue.write_to(&mut sq);
        self.submit(0, sq)?;
        let mut cq = SubmissionEntry::new(Opcode::ADMIN_DELETE_IO_CQ, 0);
        queue.write_to(&mut cq);
        self.submit(0, cq)?;
        self.queues.pop();
        self.arena.free(sq_mem)?;
        self.arena.free(cq_mem)?;
        Ok(())
    }

    /// Delete every I/O queue pair, then ask for a normal shutdown (CC.SHN = 01b) and wait for
    /// CSTS.SHST = complete.
    pub fn shutdown(&mut self) -> Result<(), B> {
        while self.queues.len() > 1 {
            self.delete_io_queue_pair()?;
        }
        let cc = Cc(self.read32(offset::CC)?);
        self.write32(offset::CC, cc.with_shn(ShutdownNotification::Normal).raw())?;
        for _ in 0..self.config.shutdown_polls {
            let csts = self.csts()?;
            if csts.shst() == ShutdownStatus::Complete {
                return Ok(());
            }
        }
        Err(DriverError::ShutdownTimeout {
            polls: self.config.shutdown_polls,
        })
    }
    /// The device.
    pub fn bus(&self) -> &B {
        &self.bus
    }

    /// The device, to reach host memory (fill write buffers, check read buffers) or registers.
    pub fn bus_mut(&mut self) -> &mut B {
        &mut self.bus
    }

    /// The driver's DMA arena, for buffers the caller wants from it.
    pub fn arena_mut(&mut self) -> &mut DmaArena {
        &mut self.arena
    }

    /// CAP as read at bring-up.
    pub const fn cap(&self) -> Cap {
        self.cap
    }

    /// What the driver builds data pointers for: page size, SGL support, maximum transfer.
    pub const fn controller(&self) -> &ControllerCaps {
        &self.controller
    }

    /// Identify Controller data, once [`Driver::identify_controller`] has run.
    pub fn identify(&self) -> Option<&IdentifyController> {
        self.identify.as_deref()
    }

    /// The configuration the driver runs with.
    pub const fn config(&self) -> &DriverConfig {
        &self.config
    }

    /// Give up the driver and keep the device (after [`Driver::shutdown`], say).
    pub fn into_bus(self) -> B {
        self.bus
    }

    /// Identify data for `cns` and `nsid` into `out` (4096 bytes), through a page of the arena.
    fn identify_into(&mut self, cns: u8, nsid: u32, out: &mut [u8]) -> Result<(), B> {
        let page = self.arena.alloc(1)?;
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 0);
        Identify::namespace(cns, nsid).write_to(&mut sqe);
        // One page of at least 4 KiB holds the 4096 bytes: PRP1 alone describes it.
        sqe.set_prp1(page.addr);
        let result = self
            .submit(0, sqe)
            .and_then(|_| Ok(self.bus.read(page.addr, out)?));
        self.arena.free(page)?;
        result
    }

    /// Queue memory (zeroed completion queue) and doorbells for a new pair.
    fn new_queue_pair(&mut self, qid: u16, entries: u32) -> Result<QueuePair, B> {
        let sq = SqRing::new(entries).map_err(|error| DriverError::Ring { qid, error })?;
        let cq = CqRing::new(entries).map_err(|error| DriverError::Ring { qid, error })?;
        let dstrd = self.cap.dstrd();
        let (Some(sq_doorbell), Some(cq_doorbell)) = (
            registers::sq_tail_doorbell(qid, dstrd),
            registers::cq_head_doorbell(qid, dstrd),
        ) else {
            return Err(DriverError::NoSuchQueue { qid });
        };
        let sq_mem = self.queue_memory(entries, SubmissionEntry::SIZE)?;
        let cq_mem = match self.queue_memory(entries, CompletionEntry::SIZE) {
            Ok(mem) => mem,
            Err(e) => {
                self.arena.free(sq_mem)?;
                return Err(e);
            }
        };
        // A zeroed completion queue: every slot's phase tag reads 0, so none looks new.
        let zeros = alloc::vec![0u8; usize::try_from(cq_mem.len).unwrap_or(0)];
        self.bus.write(cq_mem.addr, &zeros)?;
        Ok(QueuePair {
            qid,
            sq,
            cq,
            sq_mem,
            cq_mem,
            cids: CidAllocator::new(),
            sq_doorbell,
            cq_doorbell,
        })
    }

    /// Contiguous pages for `entries` entries of `entry_size` bytes.
    fn queue_memory(&mut self, entries: u32, entry_size: usize) -> Result<Extent, B> {
        let bytes = u64::from(entries).saturating_mul(entry_size as u64);
        let pages = bytes.div_ceil(self.arena.page_size().bytes());
        Ok(self.arena.alloc(pages)?)
    }

    fn csts(&mut self) -> Result<Csts, B> {
        let csts = Csts::from_bits_retain(self.read32(offset::CSTS)?);
        if csts.contains(Csts::CFS) {
            return Err(DriverError::ControllerFatal { csts: csts.bits() });
        }
        Ok(csts)
    }

    /// Poll CSTS until RDY equals `ready`, within the CAP.TO-derived budget.
    fn wait_ready(&mut self, ready: bool) -> Result<(), B> {
        let units = u64::from(self.cap.to().max(1));
        let budget = units.saturating_mul(u64::from(self.config.ready_polls_per_to_unit));
        for _ in 0..budget.max(1) {
            if self.csts()?.contains(Csts::RDY) == ready {
                return Ok(());
            }
        }
        Err(DriverError::ReadyTimeout {
            ready,
            polls: budget.max(1),
            timeout_ms: self.cap.timeout_ms(),
        })
    }

    fn read32(&mut self, offset: u64) -> Result<u32, B> {
        self.bus.read32(offset).map_err(DriverError::Register)
    }

    fn write32(&mut self, offset: u64, value: u32) -> Result<(), B> {
        self.bus
            .write32(offset, value)
            .map_err(DriverError::Register)
    }

    fn write64(&mut self, offset: u64, value: u64) -> Result<(), B> {
        self.bus
            .write64(offset, value)
            .map_err(DriverError::Register)
    }
}

#[cfg(test)]
mod tests;
