//! A minimal test host for the mock controller: it brings the controller up through its
//! registers, keeps its own queue bookkeeping, fills data pointers with the crate's `dptr`
//! module, and checks every completion it reaps. Deliberately independent of the library's
//! host driver, so the controller is tested against a second implementation of the host side.

use nvme_dma::bus::RegisterAccess;
use nvme_dma::controller::{ControllerConfig, Machine, MockController};
use nvme_dma::dptr::{self, ControllerCaps, DescriptorMemory, Outcome, Request, SglPolicy};
use nvme_dma::prp::PrpListPage;
use nvme_dma::sgl::{SegmentBuf, SglCaps};
use nvme_dma::spec::registers::{cq_head_doorbell, offset, sq_tail_doorbell};
use nvme_dma::spec::{
    Aqa, BlockRange, Cc, CompletionEntry, CreateIoCq, CreateIoSq, DeleteIoQueue, Opcode, QueueSize,
    Status, SubmissionEntry,
};
use nvme_dma::QueueKind;
use nvme_dma::{DmaMemory, Extent, PageSize, SimMemory};

/// Host memory the rig maps: queues and descriptors low, data buffers above.
pub const RAM: Extent = Extent {
    addr: 0,
    len: 256 << 20,
};
/// Where the rig puts PRP list pages and SGL segments for `fill`.
pub const DESCRIPTORS: u64 = 0x0800_0000;
/// Descriptor buffers of each kind the rig offers `fill` (each 4 KiB).
pub const DESCRIPTOR_PAGES: usize = 32;
/// Where data buffers begin.
pub const DATA: u64 = 0x0100_0000;

/// A queue pair as the host tracks it.
#[derive(Clone, Debug)]
pub struct HostQueue {
    /// Where the submission queue lives.
    pub sq_base: u64,
    /// Where the completion queue lives.
    pub cq_base: u64,
    /// Slots in each queue.
    pub size: u16,
    /// The next submission slot the host writes.
    pub sq_tail: u16,
    /// The next completion slot the host reads.
    pub cq_head: u16,
    /// The phase tag a new completion carries.
    pub phase: bool,
    /// The completion queue the submission queue posts to.
    pub cqid: u16,
}

impl HostQueue {
    /// A pair just created: tail and head at slot 0, phase 1.
    pub fn new(sq_base: u64, cq_base: u64, size: u16, cqid: u16) -> Self {
        HostQueue {
            sq_base,
            cq_base,
            size,
            sq_tail: 0,
            cq_head: 0,
            phase: true,
            cqid,
        }
    }
}

/// The host's queue pairs by queue id: a vector indexed by id, since ids are small and
/// dense and a lookup happens on every submit and reap.
#[derive(Clone, Debug, Default)]
pub struct HostQueues(Vec<Option<HostQueue>>);

impl HostQueues {
    /// Track `queue` as pair `qid`, replacing what was there.
    pub fn insert(&mut self, qid: u16, queue: HostQueue) {
        let at = usize::from(qid);
        if self.0.len() <= at {
            self.0.resize(at + 1, None);
        }
        self.0[at] = Some(queue);
    }

    /// Pair `qid`, if tracked.
    pub fn get(&self, qid: u16) -> Option<&HostQueue> {
        self.0.get(usize::from(qid))?.as_ref()
    }

    /// Pair `qid`, if tracked, to update.
    pub fn get_mut(&mut self, qid: u16) -> Option<&mut HostQueue> {
        self.0.get_mut(usize::from(qid))?.as_mut()
    }

    /// Every pair tracked, by queue id.
    pub fn values(&self) -> impl Iterator<Item = &HostQueue> {
        self.0.iter().flatten()
    }
}

/// `queues[&qid]`: the pair `qid`, which the test knows exists.
impl std::ops::Index<&u16> for HostQueues {
    type Output = HostQueue;

    fn index(&self, qid: &u16) -> &HostQueue {
        self.get(*qid)
            .unwrap_or_else(|| panic!("the host tracks no queue {qid}"))
    }
}

/// The test host: a machine (controller and host memory) and the host's own bookkeeping.
pub struct Rig<M: DmaMemory = SimMemory> {
    /// The controller and the host memory it reaches.
    pub m: Machine<M>,
    /// The queue pairs the host tracks.
    pub queues: HostQueues,
    next_queue_mem: u64,
    next_cid: u16,
    /// The memory page size the controller was enabled with (CC.MPS).
    pub page: PageSize,
}

impl Rig {
    /// Map host RAM, program the admin queues (32 slots) and enable the controller.
    pub fn new(config: ControllerConfig) -> Rig {
        Self::with_mps(config, 0)
    }

    /// As [`Rig::new`], with memory page size `4 KiB << mps`.
    pub fn with_mps(config: ControllerConfig, mps: u8) -> Rig {
        let mut memory = SimMemory::new();
        memory.set_logging(false);
        memory.map(RAM.addr, RAM.len).unwrap();
        Rig::on(config, memory, mps)
    }
}

impl<M: DmaMemory> Rig<M> {
    /// Bring a controller up over `memory`, which must back [`RAM`].
    pub fn on(config: ControllerConfig, memory: M, mps: u8) -> Rig<M> {
        let controller = MockController::new(config).expect("valid config");
        let mut rig = Rig {
            m: Machine::new(controller, memory),
            queues: HostQueues::default(),
            next_queue_mem: 0x10_0000,
            next_cid: 0,
            page: PageSize::from_mps(mps).unwrap(),
        };
        let (asq, acq) = (rig.alloc_queue_mem(32 * 64), rig.alloc_queue_mem(32 * 16));
        let m = &mut rig.m;
        m.write32(
            offset::AQA,
            Aqa::new().with_asqs_z(31).with_acqs_z(31).raw(),
        )
        .unwrap();
        m.write64(offset::ASQ, asq).unwrap();
        m.write64(offset::ACQ, acq).unwrap();
        let cc = Cc::new()
            .with_en(true)
            .with_mps(mps)
            .with_iosqes(6)
            .with_iocqes(4);
        m.write32(offset::CC, cc.raw()).unwrap();
        assert!(m.controller.is_ready(), "controller did not become ready");
        rig.queues.insert(
            0,
            HostQueue {
                sq_base: asq,
                cq_base: acq,
                size: 32,
                sq_tail: 0,
                cq_head: 0,
                phase: true,
                cqid: 0,
            },
        );
        rig
    }

    /// Page-aligned queue memory, zeroed.
    pub fn alloc_queue_mem(&mut self, bytes: u64) -> u64 {
        let at = self.next_queue_mem;
        self.next_queue_mem += bytes
            .next_multiple_of(self.page.bytes())
            .max(self.page.bytes());
        assert!(self.next_queue_mem < DATA, "rig queue memory exhausted");
        at
    }

    /// A fresh command identifier.
    pub fn cid(&mut self) -> u16 {
        self.next_cid = self.next_cid.wrapping_add(1);
        self.next_cid
    }

    /// The controller's doorbell stride (CAP.DSTRD).
    pub fn dstrd(&self) -> u8 {
        self.m.controller.config().doorbell_stride
    }

    /// Write `sqe` into `qid`'s next slot and ring its tail doorbell.
    pub fn submit(&mut self, qid: u16, sqe: &SubmissionEntry) {
        self.submit_no_doorbell(qid, sqe);
        self.ring_sq(qid);
    }

    /// Write `sqe` into the next slot without ringing the doorbell.
    pub fn submit_no_doorbell(&mut self, qid: u16, sqe: &SubmissionEntry) {
        let q = self.queues.get_mut(qid).expect("queue exists");
        let slot = q.sq_base + u64::from(q.sq_tail) * 64;
        q.sq_tail = (q.sq_tail + 1) % q.size;
        self.m.write(slot, &sqe.to_bytes()).unwrap();
    }

    /// Ring `qid`'s tail doorbell with the tail the host tracks.
    pub fn ring_sq(&mut self, qid: u16) {
        let tail = self.queues.get(qid).expect("queue exists").sq_tail;
        let db = sq_tail_doorbell(qid, self.dstrd()).unwrap();
        self.m.write32(db, u32::from(tail)).unwrap();
    }

    /// The next completion on `qid`'s CQ, if one was posted; rings the CQ head doorbell.
    pub fn reap(&mut self, qid: u16) -> Option<CompletionEntry> {
        let cqid = self.queues.get(qid).expect("queue exists").cqid;
        let q = self.queues.get_mut(cqid).expect("cq exists");
        let slot = q.cq_base + u64::from(q.cq_head) * 16;
        let mut bytes = [0u8; 16];
        self.m.read(slot, &mut bytes).unwrap();
        let cqe = CompletionEntry::from_bytes(bytes);
        if cqe.phase() != q.phase {
            return None;
        }
        q.cq_head = (q.cq_head + 1) % q.size;
        if q.cq_head == 0 {
            q.phase = !q.phase;
        }
        let head = q.cq_head;
        let db = cq_head_doorbell(cqid, self.dstrd()).unwrap();
        self.m.write32(db, u32::from(head)).unwrap();
        Some(cqe)
    }

    /// Submit and reap one command; the completion must name it.
    pub fn exec(&mut self, qid: u16, mut sqe: SubmissionEntry) -> CompletionEntry {
        let cid = self.cid();
        sqe.set_cid(cid);
        self.submit(qid, &sqe);
        let cqe = self.reap(qid).expect("a completion");
        assert_eq!(cqe.cid(), cid, "completion for the wrong command");
        assert_eq!(cqe.sqid(), qid);
        cqe
    }

    /// Run an admin command and return its status.
    pub fn admin(&mut self, sqe: SubmissionEntry) -> Status {
        self.exec(0, sqe).status()
    }

    /// Create I/O CQ and SQ `qid` with `size` slots each (contiguous); both must succeed.
    pub fn create_io_pair(&mut self, qid: u16, size: u16) {
        let cq = self.alloc_queue_mem(u64::from(size) * 16);
        let sq = self.alloc_queue_mem(u64::from(size) * 64);
        let s = self.admin(create_cq(qid, size, cq));
        assert!(s.is_success(), "create CQ {qid}: {s}");
        let s = self.admin(create_sq(qid, size, sq, qid));
        assert!(s.is_success(), "create SQ {qid}: {s}");
        self.queues.insert(
            qid,
            HostQueue {
                sq_base: sq,
                cq_base: cq,
                size,
                sq_tail: 0,
                cq_head: 0,
                phase: true,
                cqid: qid,
            },
        );
    }

    /// What the host knows about the controller, for `dptr`.
    pub fn caps(&self) -> ControllerCaps {
        let config = self.m.controller.config();
        ControllerCaps {
            page_size: self.page,
            sgl: SglCaps::new(config.sgls).with_limits(config.walk_limits),
            max_transfer: config.max_transfer(),
        }
    }

    /// Fill `sqe`'s data pointer for `req` under `policy`, writing descriptor pages into
    /// host memory. Panics if the request needs splitting.
    pub fn fill(&mut self, sqe: &mut SubmissionEntry, req: &Request<'_>, policy: SglPolicy) {
        let page = self.page.bytes();
        let region = |kind: u64, i: usize| DESCRIPTORS + kind * 0x80_0000 + i as u64 * page;
        let mut prp: Vec<Vec<u8>> = vec![vec![0u8; page as usize]; DESCRIPTOR_PAGES];
        let mut sgl: Vec<Vec<u8>> = vec![vec![0u8; page as usize]; DESCRIPTOR_PAGES];
        let mut meta: Vec<Vec<u8>> = vec![vec![0u8; page as usize]; DESCRIPTOR_PAGES];
        let mut prp_pages: Vec<PrpListPage<'_>> = prp
            .iter_mut()
            .enumerate()
            .map(|(i, b)| PrpListPage::new(region(0, i), b))
            .collect();
        let mut sgl_segs: Vec<SegmentBuf<'_>> = sgl
            .iter_mut()
            .enumerate()
            .map(|(i, b)| SegmentBuf::new(region(1, i), b))
            .collect();
        let mut meta_segs: Vec<SegmentBuf<'_>> = meta
            .iter_mut()
            .enumerate()
            .map(|(i, b)| SegmentBuf::new(region(2, i), b))
            .collect();
        let mut mem = DescriptorMemory {
            prp_lists: &mut prp_pages,
            sgl_segments: &mut sgl_segs,
            metadata_segments: &mut meta_segs,
        };
        let caps = self.caps();
        let out = dptr::fill_sqe(sqe, req, &caps, policy, &mut mem).expect("a layout");
        assert!(matches!(out, Outcome::Filled(_)), "request needs splitting");
        drop(prp_pages);
        drop(sgl_segs);
        drop(meta_segs);
        for (kind, bufs) in [(0, &prp), (1, &sgl), (2, &meta)] {
            for (i, b) in bufs.iter().enumerate() {
                self.m.write(region(kind, i), b).unwrap();
            }
        }
    }

    /// Write `bytes` into host memory (host CPU store, not DMA).
    pub fn poke(&mut self, addr: u64, bytes: &[u8]) {
        self.m.write(addr, bytes).unwrap();
    }

    /// Read `len` bytes of host memory (host CPU load, not DMA).
    pub fn peek(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        self.m.read(addr, &mut buf).unwrap();
        buf
    }

    /// Read and write `extents` of data with a layout chosen by `policy`.
    pub fn io(
        &mut self,
        qid: u16,
        opcode: Opcode,
        (nsid, slba, nlb): (u32, u64, u32),
        extents: &[Extent],
        policy: SglPolicy,
    ) -> CompletionEntry {
        let direction = if opcode == Opcode::NVM_READ {
            nvme_dma::Direction::Read
        } else {
            nvme_dma::Direction::Write
        };
        let mut sqe = io_sqe(opcode, nsid, slba, nlb);
        let req = Request::new(extents, direction, QueueKind::Io);
        self.fill(&mut sqe, &req, policy);
        self.exec(qid, sqe)
    }
}

/// An I/O command on namespace `nsid` over blocks `slba .. slba + nlb`.
pub fn io_sqe(opcode: Opcode, nsid: u32, slba: u64, nlb: u32) -> SubmissionEntry {
    let range = BlockRange::new(slba, u64::from(nlb)).expect("1 to 65536 blocks");
    SubmissionEntry::new(opcode, 0)
        .with_nsid(nsid)
        .with_block_range(range)
}

impl Rig {
    /// An I/O command on namespace `nsid` over blocks `slba .. slba + nlb`.
    pub fn io_sqe(opcode: Opcode, nsid: u32, slba: u64, nlb: u32) -> SubmissionEntry {
        io_sqe(opcode, nsid, slba, nlb)
    }
}

/// A queue of `entries` slots (1 to 65536).
pub fn queue_size(entries: u32) -> QueueSize {
    QueueSize::new(entries).expect("1 to 65536 entries")
}

/// Create I/O Completion Queue `create`, the queue at `base`.
pub fn create_cq_with(create: CreateIoCq, base: u64) -> SubmissionEntry {
    let mut sqe = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_CQ, 0).with_prp1(base);
    create.write_to(&mut sqe);
    sqe
}

/// Create I/O Submission Queue `create`, the queue (or its PRP list) at `base`.
pub fn create_sq_with(create: CreateIoSq, base: u64) -> SubmissionEntry {
    let mut sqe = SubmissionEntry::new(Opcode::ADMIN_CREATE_IO_SQ, 0).with_prp1(base);
    create.write_to(&mut sqe);
    sqe
}

/// Delete I/O Submission Queue or Delete I/O Completion Queue (`opcode`) `qid`.
pub fn delete_queue(opcode: Opcode, qid: u16) -> SubmissionEntry {
    let mut sqe = SubmissionEntry::new(opcode, 0);
    DeleteIoQueue { qid }.write_to(&mut sqe);
    sqe
}

/// A contiguous, polled completion queue of `size` slots at `base`.
pub fn create_cq(qid: u16, size: u16, base: u64) -> SubmissionEntry {
    create_cq_with(CreateIoCq::polled(qid, queue_size(size.into())), base)
}

/// A contiguous submission queue of `size` slots at `base`, feeding `cqid`.
pub fn create_sq(qid: u16, size: u16, base: u64, cqid: u16) -> SubmissionEntry {
    create_sq_with(
        CreateIoSq::contiguous(qid, queue_size(size.into()), cqid),
        base,
    )
}
