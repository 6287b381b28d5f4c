//! A small host that drives the library's mock controller the way a driver drives hardware:
//! BAR0 registers to bring it up, submission entries written into queue memory, tail and head
//! doorbells, completions reaped by their phase tag. `demo` and `exec` run commands through it;
//! `exec`'s steps also submit without ringing, ring later, reap on request, and reset or shut
//! the controller down.
//!
//! It keeps its own queue bookkeeping and knows nothing of the controller's insides: the two
//! meet only through [`RegisterAccess`] and the host memory both see.

use std::collections::BTreeMap;

use nvme_dma::bus::RegisterAccess;
use nvme_dma::controller::{ControllerConfig, ControllerEvent, DmaTrace, Machine, MockController};
use nvme_dma::spec::registers::{cq_head_doorbell, offset, sq_tail_doorbell};
use nvme_dma::spec::{
    Aqa, Cc, CompletionEntry, CreateIoCq, CreateIoSq, Csts, Opcode, QueueSize,
    ShutdownNotification, SubmissionEntry,
};
use nvme_dma::{DmaMemory, PageSize, SimMemory};

/// Slots of the admin submission and completion queues.
pub const ADMIN_ENTRIES: u16 = 32;

/// Bytes of one submission and one completion entry.
const SQE_BYTES: u64 = 64;
const CQE_BYTES: u64 = 16;

/// A queue pair as the host tracks it.
#[derive(Clone, Debug)]
struct HostQueue {
    sq_base: u64,
    cq_base: u64,
    entries: u16,
    sq_tail: u16,
    /// The SQ head the last completion from this SQ reported: slots before it are free.
    sq_head: u16,
    cq_head: u16,
    /// The phase tag a new completion carries on this pass of the CQ.
    phase: bool,
}

/// Where a queue pair's slots live.
#[derive(Clone, Copy, Debug)]
pub struct QueuePlacement {
    /// Submission queue base (memory-page aligned).
    pub sq: u64,
    /// Completion queue base (memory-page aligned).
    pub cq: u64,
    /// Slots in each queue.
    pub entries: u16,
}

/// What one command did.
#[derive(Clone, Debug)]
pub struct Ran {
    /// The completion naming the command (same SQ, same CID), if one was posted.
    pub completion: Option<CompletionEntry>,
    /// Other completions posted on the command's CQ meanwhile (Asynchronous Event Requests).
    pub others: Vec<CompletionEntry>,
    /// Every DMA access the controller made for it, in order.
    pub trace: DmaTrace,
    /// What the controller recorded that no completion reports (ignored doorbells, fatal errors).
    pub events: Vec<ControllerEvent>,
}

/// The host: a machine (controller and memory) and the queues it created.
#[derive(Debug)]
pub struct MockHost {
    /// The controller and host memory.
    pub machine: Machine<SimMemory>,
    queues: BTreeMap<u16, HostQueue>,
    dstrd: u8,
    page_size: PageSize,
    admin: QueuePlacement,
    /// The I/O queue pairs created, in order, to create again after a reset.
    created: Vec<(u16, QueuePlacement)>,
    /// Refuse to submit into a submission queue that is full as far as the host knows.
    pub refuse_full: bool,
}

/// What the controller did during a host action.
#[derive(Clone, Debug)]
pub struct Observed<T> {
    /// The action's own result.
    pub value: T,
    /// Every DMA access the controller made meanwhile, in order.
    pub trace: DmaTrace,
    /// What the controller recorded meanwhile that no completion reports.
    pub events: Vec<ControllerEvent>,
}

impl MockHost {
    /// Build the controller, program the admin queues at `admin`, and enable it with memory
    /// pages of `page_size`. The queue memory must be mapped (or in the CMB).
    pub fn bring_up(
        config: ControllerConfig,
        memory: SimMemory,
        page_size: PageSize,
        admin: QueuePlacement,
    ) -> Result<MockHost, String> {
        let dstrd = config.doorbell_stride;
        let controller = MockController::new(config).map_err(|e| e.to_string())?;
        let mut host = MockHost {
            machine: Machine::new(controller, memory),
            queues: BTreeMap::new(),
            dstrd,
            page_size,
            admin,
            created: Vec::new(),
            refuse_full: false,
        };
        host.enable()?;
        Ok(host)
    }

    /// Program the admin queues and set CC.EN, as a driver does after a reset; the host's
    /// admin queue starts empty.
    fn enable(&mut self) -> Result<(), String> {
        let admin = self.admin;
        let zero_based = admin.entries.saturating_sub(1);
        let aqa = Aqa::new().with_asqs_z(zero_based).with_acqs_z(zero_based);
        let cc = Cc::new()
            .with_en(true)
            .with_mps(self.page_size.mps())
            .with_iosqes(6)
            .with_iocqes(4);
        // Zeroed first, so no completion from before a reset reads as new.
        self.zero(admin.cq, admin.entries)?;
        let m = &mut self.machine;
        // Register writes on the machine cannot fail (its error type is Infallible).
        let _ = m.write32(offset::AQA, aqa.raw());
        let _ = m.write64(offset::ASQ, admin.sq);
        let _ = m.write64(offset::ACQ, admin.cq);
        let _ = m.write32(offset::CC, cc.raw());
        if !m.controller.is_ready() {
            return Err(format!(
                "the controller did not become ready: {:?}",
                m.controller.events().last()
            ));
        }
        self.queues.clear();
        self.queues.insert(0, HostQueue::new(admin));
        Ok(())
    }

    /// Clear CC.EN (and CC.SHN, as a driver resetting does) and return CSTS right after;
    /// with `enable`, bring the controller back up and create every I/O queue pair again.
    pub fn reset(&mut self, enable: bool) -> Result<Csts, String> {
        let cc = Cc(self.read32(offset::CC))
            .with_en(false)
            .with_shn(ShutdownNotification::None);
        self.write32(offset::CC, cc.raw());
        let csts = Csts::from_bits_retain(self.read32(offset::CSTS));
        if enable {
            self.enable()?;
            for (qid, at) in self.created.clone() {
                self.create_pair(qid, at)?;
            }
        }
        Ok(csts)
    }

    /// Write CC.SHN (CC.EN and the rest kept) and return CSTS right after.
    pub fn shutdown(&mut self, kind: ShutdownNotification) -> Result<Csts, String> {
        let cc = Cc(self.read32(offset::CC)).with_shn(kind);
        self.write32(offset::CC, cc.raw());
        Ok(Csts::from_bits_retain(self.read32(offset::CSTS)))
    }

    /// A 32-bit register read.
    pub fn read32(&mut self, offset: u64) -> u32 {
        let Ok(v) = self.machine.read32(offset);
        v
    }

    /// A 64-bit register read.
    pub fn read64(&mut self, offset: u64) -> u64 {
        let Ok(v) = self.machine.read64(offset);
        v
    }

    /// A 32-bit register write (a doorbell, at 1000h and above).
    pub fn write32(&mut self, offset: u64, value: u32) {
        let Ok(()) = self.machine.write32(offset, value);
    }

    /// A 64-bit register write.
    pub fn write64(&mut self, offset: u64, value: u64) {
        let Ok(()) = self.machine.write64(offset, value);
    }

    /// Run `action` with the controller's DMA traced, and collect what it recorded.
    pub fn observe<T>(
        &mut self,
        action: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<Observed<T>, String> {
        let before = self.machine.controller.events().len();
        self.machine.controller.set_tracing(true);
        let value = action(self);
        self.machine.controller.set_tracing(false);
        let trace = self.machine.controller.take_trace();
        let events = self
            .machine
            .controller
            .events()
            .get(before..)
            .unwrap_or_default()
            .to_vec();
        Ok(Observed {
            value: value?,
            trace,
            events,
        })
    }

    /// Create I/O completion queue `qid`, then I/O submission queue `qid` feeding it, both
    /// physically contiguous at `at`. Fails with the status of the command that failed.
    pub fn create_io_pair(&mut self, qid: u16, at: QueuePlacement) -> Result<(), String> {
        self.create_pair(qid, at)?;
        self.created.push((qid, at));
        Ok(())
    }

    fn create_pair(&mut self, qid: u16, at: QueuePlacement) -> Result<(), String> {
        self.zero(at.cq, at.entries)?;
        // 0 entries asks for one, the fewest QSIZE can say (the controller refuses it).
        let size = QueueSize::from_zero_based(at.entries.saturating_sub(1));
        let mut create_cq = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_CQ, 0).with_prp1(at.cq);
        CreateIoCq::polled(qid, size).write_to(&mut create_cq);
        let mut create_sq = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_SQ, 0).with_prp1(at.sq);
        CreateIoSq::contiguous(qid, size, qid).write_to(&mut create_sq);
        for (what, sqe) in [("completion", create_cq), ("submission", create_sq)] {
            let (completion, _) = self.complete(0, sqe.with_cid(qid))?;
            match completion.map(|c| c.status()) {
                Some(s) if s.is_success() => {}
                Some(s) => return Err(format!("creating I/O {what} queue {qid}: {s}")),
                None => return Err(format!("creating I/O {what} queue {qid}: no completion")),
            }
        }
        self.queues.insert(qid, HostQueue::new(at));
        Ok(())
    }

    /// Submit `sqe` on queue `qid` exactly as given, ring the doorbell, and reap what the
    /// controller posts; the command's DMA is traced.
    pub fn run(&mut self, qid: u16, sqe: SubmissionEntry) -> Result<Ran, String> {
        let seen = self.observe(|host| host.complete(qid, sqe))?;
        let (completion, others) = seen.value;
        Ok(Ran {
            completion,
            others,
            trace: seen.trace,
            events: seen.events,
        })
    }

    /// Submit, ring, and reap every completion: the one naming `sqe` (same SQ, same CID) and
    /// the others.
    fn complete(
        &mut self,
        qid: u16,
        sqe: SubmissionEntry,
    ) -> Result<(Option<CompletionEntry>, Vec<CompletionEntry>), String> {
        self.submit(qid, sqe)?;
        self.ring(qid)?;
        let mut completion = None;
        let mut others = Vec::new();
        while let Some(cqe) = self.reap(qid)? {
            if completion.is_none() && cqe.sqid() == qid && cqe.cid() == sqe.cid() {
                completion = Some(cqe);
            } else {
                others.push(cqe);
            }
        }
        Ok((completion, others))
    }

    /// Write `sqe` into the next slot of submission queue `qid` without ringing; returns the
    /// slot's address. With [`refuse_full`](Self::refuse_full), refused when the queue is
    /// full as far as the host knows (the slot may still hold a command the controller has
    /// not fetched); without, the slot is written regardless, as a host that runs one command
    /// at a time may (each command leaves the queue empty unless the controller stopped).
    pub fn submit(&mut self, qid: u16, sqe: SubmissionEntry) -> Result<u64, String> {
        let q = self
            .queues
            .get_mut(&qid)
            .ok_or_else(|| format!("queue {qid} was not created"))?;
        let next = (q.sq_tail + 1) % q.entries;
        if self.refuse_full && next == q.sq_head {
            return Err(format!(
                "submission queue {qid} is full as far as the host knows: its {} slots hold {}                  commands no completion has reported fetched; reap first",
                q.entries,
                q.entries - 1
            ));
        }
        let slot = q
            .sq_base
            .checked_add(u64::from(q.sq_tail) * SQE_BYTES)
            .ok_or_else(|| format!("queue {qid}'s slots run past 2^64"))?;
        q.sq_tail = next;
        self.machine
            .write(slot, &sqe.to_bytes())
            .map_err(|e| format!("writing the submission entry: {e}"))?;
        Ok(slot)
    }

    /// Ring submission queue `qid`'s tail doorbell with the host's tail; returns the value.
    pub fn ring(&mut self, qid: u16) -> Result<u16, String> {
        let tail = self
            .queues
            .get(&qid)
            .ok_or_else(|| format!("queue {qid} was not created"))?
            .sq_tail;
        let doorbell = sq_tail_doorbell(qid, self.dstrd)
            .ok_or_else(|| format!("queue {qid} has no doorbell"))?;
        self.write32(doorbell, u32::from(tail));
        Ok(tail)
    }

    /// The next completion on `qid`'s completion queue, if the controller posted one; the CQ
    /// head doorbell then tells the controller the slot is free.
    fn reap(&mut self, qid: u16) -> Result<Option<CompletionEntry>, String> {
        let cqe = self.take(qid)?;
        if cqe.is_some() {
            self.ring_cq_head(qid)?;
        }
        Ok(cqe)
    }

    /// The next completion on `qid`'s completion queue, if the controller posted one (by its
    /// phase tag), without telling the controller: the slot stays in use until
    /// [`ring_cq_head`](Self::ring_cq_head).
    pub fn take(&mut self, qid: u16) -> Result<Option<CompletionEntry>, String> {
        let Some(q) = self.queues.get_mut(&qid) else {
            return Ok(None);
        };
        let slot = q
            .cq_base
            .checked_add(u64::from(q.cq_head) * CQE_BYTES)
            .ok_or_else(|| format!("queue {qid}'s completion slots run past 2^64"))?;
        let mut bytes = [0u8; 16];
        self.machine
            .read(slot, &mut bytes)
            .map_err(|e| format!("reading the completion queue: {e}"))?;
        let cqe = CompletionEntry::from_bytes(bytes);
        if cqe.phase() != q.phase {
            return Ok(None);
        }
        q.cq_head = (q.cq_head + 1) % q.entries;
        if q.cq_head == 0 {
            q.phase = !q.phase;
        }
        // The pair's SQ feeds this CQ: its head tells the host which slots are free again.
        if cqe.sqid() == qid && cqe.sqhd() < q.entries {
            q.sq_head = cqe.sqhd();
        }
        Ok(Some(cqe))
    }

    /// Ring completion queue `qid`'s head doorbell with the host's head; returns the value.
    pub fn ring_cq_head(&mut self, qid: u16) -> Result<u16, String> {
        let head = self
            .queues
            .get(&qid)
            .ok_or_else(|| format!("queue {qid} was not created"))?
            .cq_head;
        let doorbell = cq_head_doorbell(qid, self.dstrd)
            .ok_or_else(|| format!("queue {qid} has no doorbell"))?;
        self.write32(doorbell, u32::from(head));
        Ok(head)
    }

    /// CAP.DSTRD: how far apart the doorbells are.
    pub fn dstrd(&self) -> u8 {
        self.dstrd
    }

    /// Slots in queue `qid`'s completion queue, if the host created it.
    pub fn entries(&self, qid: u16) -> Option<u16> {
        self.queues.get(&qid).map(|q| q.entries)
    }

    /// Zero a completion queue's slots, so no stale phase tag reads as a new completion.
    fn zero(&mut self, cq: u64, entries: u16) -> Result<(), String> {
        let bytes = vec![0u8; usize::from(entries) * CQE_BYTES as usize];
        self.machine
            .write(cq, &bytes)
            .map_err(|e| format!("zeroing the completion queue at {cq:#x}: {e}"))
    }
}

impl HostQueue {
    fn new(at: QueuePlacement) -> Self {
        HostQueue {
            sq_base: at.sq,
            cq_base: at.cq,
            entries: at.entries,
            sq_tail: 0,
            sq_head: 0,
            cq_head: 0,
            phase: true,
        }
    }
}

/// Queue memory for `entries` slots of a pair, in bytes: the submission queue, then the
/// completion queue on the next memory page.
pub fn pair_bytes(entries: u16, page: PageSize) -> (u64, u64) {
    let sq = (u64::from(entries) * SQE_BYTES).next_multiple_of(page.bytes());
    let cq = (u64::from(entries) * CQE_BYTES).next_multiple_of(page.bytes());
    (sq, cq)
}
