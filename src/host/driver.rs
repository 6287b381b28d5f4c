//! A small polling NVMe host driver over [`RegisterAccess`] and [`DmaMemory`].

use alloc::boxed::Box;
use alloc::vec::Vec;

use zerocopy::{FromZeros, IntoBytes};

use super::arena::DmaArena;
use super::cid::CidAllocator;
use super::error::DriverError;
use super::ring::{CqRing, SqRing};
use crate::bus::RegisterAccess;
use crate::dptr::{
    self, ControllerCaps, DescriptorMemory, DptrError, Filled, Plan, Request, SglPolicy,
};
use crate::extent::{Extent, PageSize};
use crate::memory::DmaMemory;
use crate::prp::{PrpBuilder, PrpListPage};
use crate::sgl::{SegmentBuf, SglCaps};
use crate::spec::identify::{CNS_CONTROLLER, CNS_NAMESPACE};
use crate::spec::registers::{self, offset};
use crate::spec::{
    Aqa, BlockRange, Cap, Cc, CompletionEntry, Csts, IdentifyController, IdentifyNamespace,
    MaxTransfer, Opcode, Sgls, ShutdownNotification, ShutdownStatus, SubmissionEntry,
};
use crate::Direction;
use crate::QueueKind;

/// Identifiers tracked per queue: 64 words of 64 bits, 4096 CIDs, enough for any queue the
/// driver creates.
const CID_WORDS: usize = 64;

/// The largest queue the driver creates (bounded by its CID space).
pub const MAX_DRIVER_QUEUE_ENTRIES: u32 = 4096;

/// The largest admin queue the specification allows (AQA sizes are 12 bits).
const MAX_ADMIN_QUEUE_ENTRIES: u32 = 4096;

/// Feature Identifier 07h, Number of Queues.
const FEATURE_NUMBER_OF_QUEUES: u32 = 0x07;

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

/// A finished Read or Write: the completion and data pointer of its last command, and how
/// many commands it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// The completion entry.
    pub completion: CompletionEntry,
    /// PSDT, MPTR and the descriptor memory used, as written into the (last) command.
    pub filled: Filled,
    /// Commands the transfer took: more than one when it had to be split.
    pub commands: usize,
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
pub struct Driver<B> {
    bus: B,
    config: DriverConfig,
    cap: Cap,
    arena: DmaArena,
    /// `queues[0]` is the admin pair; I/O pairs follow in creation order.
    queues: Vec<QueuePair>,
    controller: ControllerCaps,
    identify: Option<Box<IdentifyController>>,
    namespace: Option<Namespace>,
}

impl<B> core::fmt::Debug for Driver<B> {
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
    /// `config.io_entries` slots (queue 1), and Identify Namespace 1.
    pub fn start(bus: B, config: DriverConfig) -> Result<Self, B> {
        let mut driver = Self::enable(bus, config)?;
        driver.identify_controller()?;
        driver.set_queue_count(config.io_queue_pairs)?;
        driver.create_io_queue_pair(config.io_entries)?;
        driver.identify_namespace(1)?;
        Ok(driver)
    }

    /// Reset the controller (CC.EN = 0, wait for CSTS.RDY = 0), set up the admin queues in
    /// the arena (AQA, ASQ, ACQ), configure CC (MPS, IOSQES = 6, IOCQES = 4, NVM command set)
    /// and enable it, waiting for CSTS.RDY = 1 within `max(CAP.TO, 1) ×
    /// ready_polls_per_to_unit` polls.
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
            namespace: None,
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

    /// Identify Controller (CNS 01h). Also takes the SGL support (SGLS, MSDBD) and the
    /// maximum transfer (MDTS) from it for building data pointers.
    pub fn identify_controller(&mut self) -> Result<&IdentifyController, B> {
        let mut id = Box::new(IdentifyController::new_zeroed());
        self.identify_into(CNS_CONTROLLER, 0, id.as_mut_bytes())?;
        self.controller.sgl = SglCaps::from_identify(&id);
        self.controller.max_transfer = id.max_transfer(self.cap.page_size_min());
        Ok(self.identify.insert(id))
    }

    /// Identify Namespace (CNS 00h) for `nsid`; reads and writes then go to this namespace.
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
        self.namespace = Some(namespace);
        Ok(namespace)
    }

    /// Set Features, Number of Queues: ask for `pairs` I/O submission and completion queues.
    /// Returns the counts the controller allocated (submission, completion). The spec allows
    /// it only before any I/O queue exists (after: Command Sequence Error).
    pub fn set_queue_count(&mut self, pairs: u16) -> Result<(u32, u32), B> {
        let z = u32::from(pairs.saturating_sub(1));
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_SET_FEATURES, 0);
        sqe.set_cdw10(FEATURE_NUMBER_OF_QUEUES);
        sqe.set_cdw11(z << 16 | z);
        let done = self.submit(0, sqe)?;
        let dw0 = done.dw0();
        Ok((
            (dw0 & 0xffff).saturating_add(1),
            (dw0 >> 16).saturating_add(1),
        ))
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
        let qsize = u32::from(pair.sq.size_z()) << 16 | u32::from(qid);
        let created = (|| {
            let mut cq = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_CQ, 0);
            cq.set_prp1(pair.cq_mem.addr);
            cq.set_cdw10(qsize);
            cq.set_cdw11(1); // PC = 1, IEN = 0: contiguous, polled
            self.submit(0, cq)?;
            let mut sq = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_SQ, 0);
            sq.set_prp1(pair.sq_mem.addr);
            sq.set_cdw10(qsize);
            sq.set_cdw11(u32::from(qid) << 16 | 1); // CQID, PC = 1, priority 0
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
        let (qid, sq_mem, cq_mem) = (u32::from(pair.qid), pair.sq_mem, pair.cq_mem);
        let mut sq = SubmissionEntry::new(Opcode::ADMIN_DELETE_IO_SQ, 0);
        sq.set_cdw10(qid);
        self.submit(0, sq)?;
        let mut cq = SubmissionEntry::new(Opcode::ADMIN_DELETE_IO_CQ, 0);
        cq.set_cdw10(qid);
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

    /// Write `data` to the namespace from logical block `lba`. `data` is the buffer's extents
    /// in host memory, holding the bytes already; `policy` picks PRP or SGL.
    pub fn write(&mut self, lba: u64, data: &[Extent], policy: SglPolicy) -> Result<Transfer, B> {
        self.transfer(Direction::Write, lba, data, policy)
    }

    /// Read from logical block `lba` of the namespace into `data`, the buffer's extents in
    /// host memory; `policy` picks PRP or SGL.
    pub fn read(&mut self, lba: u64, data: &[Extent], policy: SglPolicy) -> Result<Transfer, B> {
        self.transfer(Direction::Read, lba, data, policy)
    }

    /// A Read or Write on I/O queue 1: plan the data pointer ([`dptr::plan`]), and run one
    /// command, or, when no single command can carry the data (MDTS, NLB's 65,536 blocks, or
    /// PRP rules the buffer breaks between extents), one command per chunk of the split, each
    /// at its own blocks. Descriptor pages come from the arena and go back after each command.
    fn transfer(
        &mut self,
        direction: Direction,
        lba: u64,
        data: &[Extent],
        policy: SglPolicy,
    ) -> Result<Transfer, B> {
        let ns = self.namespace.ok_or(DriverError::NoNamespace)?;
        let len = data
            .iter()
            .try_fold(0u64, |sum, e| sum.checked_add(e.len))
            .unwrap_or(u64::MAX);
        if len == 0 || len.checked_rem(ns.block_size) != Some(0) {
            return Err(DriverError::NotWholeBlocks {
                len,
                block_size: ns.block_size,
            });
        }
        let opcode = match direction {
            Direction::Write => Opcode::NVM_WRITE,
            Direction::Read => Opcode::NVM_READ,
        };
        // Every chunk of a split is 1 to 65,536 blocks, and so is a transfer that needs none.
        let command = |first_block: u64, blocks: u64| {
            BlockRange::new(lba.wrapping_add(first_block), blocks).map(|range| {
                SubmissionEntry::new(opcode, 0)
                    .with_nsid(ns.nsid)
                    .with_block_range(range)
            })
        };
        let not_whole = || DriverError::NotWholeBlocks {
            len,
            block_size: ns.block_size,
        };
        let request = Request::new(data, direction, QueueKind::Io).with_block_size(ns.block_size);
        let plan = dptr::plan(&request, &self.controller, policy)?;
        let Plan::Split(split) = plan else {
            let mut sqe =
                command(0, len.checked_div(ns.block_size).unwrap_or(0)).map_err(|_| not_whole())?;
            let (filled, pages) = self.fill_planned(&mut sqe, &request, plan)?;
            return self.run_and_free(sqe, filled, &pages, 1);
        };
        let mut last = None;
        for (done, chunk) in (1..).zip(split) {
            let mut sqe = command(chunk.first_block, chunk.blocks).map_err(|_| not_whole())?;
            let pages_needed = PrpBuilder::new(self.controller.page_size)
                .plan(chunk.extents(data))
                .map_or(0, |p| {
                    if p.needs_list() {
                        p.list_pages_needed(0)
                    } else {
                        0
                    }
                });
            let (filled, pages) =
                self.with_descriptor_pages(pages_needed, true, |memory, ctrl| {
                    dptr::fill_chunk(&mut sqe, &request, &chunk, ctrl, memory)
                })?;
            last = Some(self.run_and_free(sqe, filled, &pages, done)?);
        }
        last.ok_or_else(not_whole)
    }

    /// Run one command of a transfer on I/O queue 1 and give its descriptor pages back.
    fn run_and_free(
        &mut self,
        sqe: SubmissionEntry,
        filled: Filled,
        pages: &[Extent],
        commands: usize,
    ) -> Result<Transfer, B> {
        let done = self.submit(1, sqe);
        self.free_pages(pages)?;
        Ok(Transfer {
            completion: done?,
            filled,
            commands,
        })
    }

    /// Submit `sqe` on queue `qid` with a fresh command identifier (the one in `sqe` is
    /// replaced), ring the doorbell, and poll for its completion. A completion with an error
    /// status is [`DriverError::Command`].
    pub fn submit(&mut self, qid: u16, sqe: SubmissionEntry) -> Result<CompletionEntry, B> {
        let opcode = sqe.opcode();
        let done = self.run(qid, core::slice::from_ref(&sqe))?;
        let completion = done.into_iter().next().unwrap_or_default();
        let status = completion.status();
        if status.is_success() {
            Ok(completion)
        } else {
            Err(DriverError::Command {
                opcode,
                qid,
                cid: completion.cid(),
                status,
            })
        }
    }

    /// Submit all of `sqes` on queue `qid` (fresh command identifiers), ring the doorbell once,
    /// and reap every completion. Returns the completions in submission order, whatever their
    /// status; at most the queue's capacity (slots − 1) may be submitted at once.
    pub fn submit_batch(
        &mut self,
        qid: u16,
        sqes: &[SubmissionEntry],
    ) -> Result<Vec<CompletionEntry>, B> {
        self.run(qid, sqes)
    }

    /// Put `sqes` in queue `qid`, ring once, reap a completion for each.
    fn run(&mut self, qid: u16, sqes: &[SubmissionEntry]) -> Result<Vec<CompletionEntry>, B> {
        let index = usize::from(qid);
        let pair = self
            .queues
            .get_mut(index)
            .ok_or(DriverError::NoSuchQueue { qid })?;
        let free = pair.sq.capacity().saturating_sub(pair.sq.len());
        if u32::try_from(sqes.len()).map_or(true, |n| n > free) {
            return Err(DriverError::Ring {
                qid,
                error: super::RingError::Full {
                    entries: pair.sq.entries(),
                },
            });
        }
        let mut cids = Vec::with_capacity(sqes.len());
        let mut writes = Vec::with_capacity(sqes.len());
        for sqe in sqes {
            // Capacity was checked: neither a CID nor a slot can run out here.
            let cid = pair.cids.allocate().ok_or(DriverError::Ring {
                qid,
                error: super::RingError::Full {
                    entries: pair.sq.entries(),
                },
            })?;
            let slot = pair
                .sq
                .push()
                .map_err(|error| DriverError::Ring { qid, error })?;
            let addr = slot_addr(pair.sq_mem, slot, SubmissionEntry::SIZE);
            cids.push(cid);
            writes.push((addr, sqe.with_cid(cid).to_bytes()));
        }
        let (tail, doorbell) = (pair.sq.tail(), pair.sq_doorbell);
        for (addr, bytes) in &writes {
            self.bus.write(*addr, bytes)?;
        }
        self.write32(doorbell, tail)?;
        let mut done: Vec<Option<CompletionEntry>> = alloc::vec![None; sqes.len()];
        let mut remaining = sqes.len();
        let mut polls = 0u32;
        while remaining > 0 {
            let Some(entry) = self.reap_one(qid)? else {
                polls = polls.saturating_add(1);
                if polls >= self.config.completion_polls {
                    let waiting = cids
                        .iter()
                        .zip(&done)
                        .find(|(_, d)| d.is_none())
                        .map_or(0, |(cid, _)| *cid);
                    return Err(DriverError::CompletionTimeout {
                        qid,
                        cid: waiting,
                        polls,
                    });
                }
                continue;
            };
            let position = cids
                .iter()
                .zip(&done)
                .position(|(cid, d)| *cid == entry.cid() && d.is_none());
            let Some(slot) = position.and_then(|i| done.get_mut(i)) else {
                return Err(DriverError::UnexpectedCompletion {
                    qid,
                    cid: entry.cid(),
                });
            };
            *slot = Some(entry);
            remaining = remaining.saturating_sub(1);
        }
        Ok(done.into_iter().flatten().collect())
    }

    /// Look at the head of queue `qid`'s completion queue once: if a new entry is there,
    /// consume it (SQ head, CID, head doorbell) and return it.
    fn reap_one(&mut self, qid: u16) -> Result<Option<CompletionEntry>, B> {
        let pair = self
            .queues
            .get(usize::from(qid))
            .ok_or(DriverError::NoSuchQueue { qid })?;
        let addr = slot_addr(pair.cq_mem, pair.cq.head(), CompletionEntry::SIZE);
        let mut bytes = [0u8; CompletionEntry::SIZE];
        self.bus.read(addr, &mut bytes)?;
        let entry = CompletionEntry::from_bytes(bytes);
        let pair = self
            .queues
            .get_mut(usize::from(qid))
            .ok_or(DriverError::NoSuchQueue { qid })?;
        if !pair.cq.is_new(&entry) {
            return Ok(None);
        }
        if !pair.cids.is_in_flight(entry.cid()) {
            return Err(DriverError::UnexpectedCompletion {
                qid,
                cid: entry.cid(),
            });
        }
        pair.sq
            .update_head(entry.sqhd())
            .map_err(|error| DriverError::Ring { qid, error })?;
        pair.cids.release(entry.cid());
        pair.cq.consume(&entry);
        let (head, doorbell) = (pair.cq.head(), pair.cq_doorbell);
        self.write32(doorbell, head)?;
        Ok(Some(entry))
    }

    /// Plan `request`'s data pointer, take the descriptor pages it needs from the arena, fill
    /// `sqe`, and copy the descriptors into host memory. Returns the layout and the pages to
    /// give back once the command has completed. A request no single command can carry is
    /// [`DriverError::NeedsSplit`] ([`Driver::read`] and [`Driver::write`] split it).
    pub fn fill_data_pointer(
        &mut self,
        sqe: &mut SubmissionEntry,
        request: &Request<'_>,
        policy: SglPolicy,
    ) -> Result<(Filled, Vec<Extent>), B> {
        let plan = dptr::plan(request, &self.controller, policy)?;
        self.fill_planned(sqe, request, plan)
    }

    /// [`Driver::fill_data_pointer`] from a plan already made.
    fn fill_planned(
        &mut self,
        sqe: &mut SubmissionEntry,
        request: &Request<'_>,
        plan: Plan<'_>,
    ) -> Result<(Filled, Vec<Extent>), B> {
        let page_bytes = self.arena.page_size().bytes();
        let (count, is_prp) = match &plan {
            Plan::Prp { plan, .. } if plan.needs_list() => (plan.list_pages_needed(0), true),
            Plan::Prp { .. } => (0, true),
            Plan::Sgl { plan, .. } => (plan.segments_needed(page_bytes / 16), false),
            Plan::Split(split) => {
                return Err(DriverError::NeedsSplit {
                    commands: split.commands(),
                })
            }
        };
        self.with_descriptor_pages(count, is_prp, |memory, ctrl| {
            plan.fill(sqe, request, ctrl, memory)
        })
    }

    /// Take `count` pages from the arena as PRP list pages (`is_prp`) or SGL segments, let
    /// `fill` write descriptors into them, and copy the pages it used into host memory.
    /// Returns what `fill` returned and the pages to give back after the command.
    fn with_descriptor_pages(
        &mut self,
        count: u64,
        is_prp: bool,
        fill: impl FnOnce(
            &mut DescriptorMemory<'_, '_>,
            &ControllerCaps,
        ) -> core::result::Result<Filled, DptrError>,
    ) -> Result<(Filled, Vec<Extent>), B> {
        let page_bytes = self.arena.page_size().bytes();
        let mut pages = Vec::new();
        for _ in 0..count {
            match self.arena.alloc(1) {
                Ok(page) => pages.push(page),
                Err(e) => {
                    self.free_pages(&pages)?;
                    return Err(e.into());
                }
            }
        }
        let page_len = usize::try_from(page_bytes).unwrap_or(0);
        let mut buffers: Vec<Vec<u8>> = pages.iter().map(|_| alloc::vec![0; page_len]).collect();
        let outcome = {
            let mut lists: Vec<PrpListPage<'_>> = Vec::new();
            let mut segments: Vec<SegmentBuf<'_>> = Vec::new();
            for (page, bytes) in pages.iter().zip(buffers.iter_mut()) {
                if is_prp {
                    lists.push(PrpListPage::new(page.addr, bytes));
                } else {
                    segments.push(SegmentBuf::new(page.addr, bytes));
                }
            }
            let mut memory = DescriptorMemory {
                prp_lists: &mut lists,
                sgl_segments: &mut segments,
                metadata_segments: &mut [],
            };
            fill(&mut memory, &self.controller)
        };
        let filled = match outcome {
            Ok(filled) => filled,
            Err(e) => {
                self.free_pages(&pages)?;
                return Err(DriverError::Dptr(e));
            }
        };
        for (page, bytes) in pages.iter().zip(&buffers).take(filled.lists_used) {
            self.bus.write(page.addr, bytes)?;
        }
        Ok((filled, pages))
    }

    /// Give back pages from [`Driver::fill_data_pointer`] or the arena.
    pub fn free_pages(&mut self, pages: &[Extent]) -> Result<(), B> {
        for page in pages {
            self.arena.free(*page)?;
        }
        Ok(())
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

    /// The namespace reads and writes go to, once identified.
    pub const fn namespace(&self) -> Option<Namespace> {
        self.namespace
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
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 0).with_nsid(nsid);
        // One page of at least 4 KiB holds the 4096 bytes: PRP1 alone describes it.
        sqe.set_prp1(page.addr);
        sqe.set_cdw10(u32::from(cns));
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

/// Bus address of slot `slot` in queue memory `mem` of `entry_size`-byte entries. The slot is
/// below the queue's entries, all inside `mem`, so this cannot overflow.
fn slot_addr(mem: Extent, slot: u32, entry_size: usize) -> u64 {
    mem.addr
        .saturating_add(u64::from(slot).saturating_mul(entry_size as u64))
}

#[cfg(test)]
mod tests {
    //! Bring-up paths a real controller rarely shows: a device that never becomes ready, one
    //! that reports a fatal error, one whose registers cannot be reached, and configurations
    //! the driver must refuse. The register file here is scripted, not a controller: the QEMU
    //! conformance tests and the mock controller cover real command processing.
    use std::collections::BTreeMap;
    use std::string::{String, ToString};

    use super::*;
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
    fn a_command_nobody_completes_times_out_and_io_needs_a_namespace() {
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
            driver.write(0, &[Extent::new(0x18_0000, 512)], SglPolicy::Never),
            Err(DriverError::NoNamespace)
        );
        assert_eq!(
            driver.submit(3, get_features),
            Err(DriverError::NoSuchQueue { qid: 3 })
        );
        driver.namespace = Some(Namespace {
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
}
