//! A small host that drives the library's mock controller the way a driver drives hardware:
//! BAR0 registers to bring it up, submission entries written into queue memory, tail and head
//! doorbells, completions reaped by their phase tag. `demo` and `exec` run commands through it.
//!
//! It keeps its own queue bookkeeping and knows nothing of the controller's insides: the two
//! meet only through [`RegisterAccess`] and the host memory both see.

use std::collections::BTreeMap;

use nvme_dma::bus::RegisterAccess;
use nvme_dma::controller::{ControllerConfig, ControllerEvent, DmaTrace, Machine, MockController};
use nvme_dma::spec::registers::{cq_head_doorbell, offset, sq_tail_doorbell};
use nvme_dma::spec::{
    Aqa, Cc, CompletionEntry, CreateIoCq, CreateIoSq, Opcode, QueueSize, SubmissionEntry,
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
        };
        let zero_based = admin.entries.saturating_sub(1);
        let m = &mut host.machine;
        let aqa = Aqa::new().with_asqs_z(zero_based).with_acqs_z(zero_based);
        let cc = Cc::new()
            .with_en(true)
            .with_mps(page_size.mps())
            .with_iosqes(6)
            .with_iocqes(4);
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
        host.zero(admin.cq, admin.entries)?;
        host.queues.insert(0, HostQueue::new(admin));
        Ok(host)
    }

    /// Create I/O completion queue `qid`, then I/O submission queue `qid` feeding it, both
    /// physically contiguous at `at`. Fails with the status of the command that failed.
    pub fn create_io_pair(&mut self, qid: u16, at: QueuePlacement) -> Result<(), String> {
        self.zero(at.cq, at.entries)?;
        // 0 entries asks for one, the fewest QSIZE can say (the controller refuses it).
        let size = QueueSize::from_zero_based(at.entries.saturating_sub(1));
        let mut create_cq = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_CQ, 0).with_prp1(at.cq);
        CreateIoCq::polled(qid, size).write_to(&mut create_cq);
        let mut create_sq = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_SQ, 0).with_prp1(at.sq);
        CreateIoSq::contiguous(qid, size, qid).write_to(&mut create_sq);
        for (what, sqe) in [("completion", create_cq), ("submission", create_sq)] {
            let ran = self.run(0, sqe.with_cid(qid))?;
            match ran.completion.map(|c| c.status()) {
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
        let q = self
            .queues
            .get_mut(&qid)
            .ok_or_else(|| format!("queue {qid} was not created"))?;
        let slot = q
            .sq_base
            .checked_add(u64::from(q.sq_tail) * SQE_BYTES)
            .ok_or_else(|| format!("queue {qid}'s slots run past 2^64"))?;
        q.sq_tail = (q.sq_tail + 1) % q.entries;
        let tail = q.sq_tail;
        self.machine
            .write(slot, &sqe.to_bytes())
            .map_err(|e| format!("writing the submission entry: {e}"))?;
        let events_before = self.machine.controller.events().len();
        self.machine.controller.set_tracing(true);
        let doorbell = sq_tail_doorbell(qid, self.dstrd)
            .ok_or_else(|| format!("queue {qid} has no doorbell"))?;
        let _ = self.machine.write32(doorbell, u32::from(tail));
        let mut completion = None;
        let mut others = Vec::new();
        while let Some(cqe) = self.reap(qid)? {
            if completion.is_none() && cqe.sqid() == qid && cqe.cid() == sqe.cid() {
                completion = Some(cqe);
            } else {
                others.push(cqe);
            }
        }
        self.machine.controller.set_tracing(false);
        let events = self.machine.controller.events()[events_before..].to_vec();
        Ok(Ran {
            completion,
            others,
            trace: self.machine.controller.take_trace(),
            events,
        })
    }

    /// The next completion on `qid`'s completion queue, if the controller posted one; the CQ
    /// head doorbell then tells the controller the slot is free.
    fn reap(&mut self, qid: u16) -> Result<Option<CompletionEntry>, String> {
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
        let head = q.cq_head;
        let doorbell = cq_head_doorbell(qid, self.dstrd)
            .ok_or_else(|| format!("queue {qid} has no doorbell"))?;
        let _ = self.machine.write32(doorbell, u32::from(head));
        Ok(Some(cqe))
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
