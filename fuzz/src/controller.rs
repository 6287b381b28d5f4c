//! `controller`: the mock controller driven through its registers by an arbitrary stream of
//! host actions: commands submitted through real queues (any opcode, fields and data
//! pointer), completions reaped, doorbell writes of any offset and value, writes to any other
//! register, host stores into memory (lists, segments, queue entries), and restarts.
//!
//! The harness is a small host: it brings the controller up (admin queues, then two I/O
//! submission queues sharing one completion queue, the second optionally backed by a PRP list
//! when PC = 0 is allowed), keeps its own view of the rings, and otherwise does what the
//! actions say, right or wrong. The controller's DMA goes through a [`Monitor`] that checks
//! every access as it happens (see its docs): no write outside the buffers of the command in
//! flight, nothing but its completion from a failed command, completions in order with the
//! right phase, SQ id, CID and SQ head, the work bound per command, never a byte in the
//! register window. After every action the harness also checks:
//!
//! * a command fetched completed within the same register write, unless the controller
//!   failed (CSTS.CFS) or holds it (an Asynchronous Event Request);
//! * the namespaces' data changed only if a Write, Write Zeroes or Dataset Management command
//!   completed successfully during the action;
//! * the set of queues changed only if a queue was created or deleted successfully, or CC.EN
//!   changed (these two checks pass over an action after which CSTS.CFS is set: a failed
//!   controller may stop between a command's effect and its completion);
//! * a restart (CC.EN = 0, then a clean bring-up) always succeeds, whatever came before.
//!
//! The controller memory buffer is left out: DMA into it never reaches host memory, so the
//! monitor cannot see it; the CMB rules are covered by the integration tests.

use arbitrary::{Arbitrary, Unstructured};
use nvme_dma::controller::{ControllerConfig, MockController, NamespaceConfig, QueueView};
use nvme_dma::sgl::{SglCaps, WalkLimits};
use nvme_dma::spec::{
    registers::offset, CompletionEntry, CreateIoCq, CreateIoSq, MaxTransfer, Opcode, QueueSize,
    SglSupport, Sgls, SubmissionEntry,
};
use nvme_dma::{PageSize, SimMemory};

use crate::encode::{self, Encode};
use crate::memory::MemorySpec;
use crate::monitor::{Context, Monitor};

/// Where the harness keeps its queues (mapped, zeroed at each bring-up).
pub const QUEUES: u64 = 0x10_0000;
/// Spacing of the harness's queues: 16 KiB, page-aligned at every page size it enables.
pub const QUEUE_STRIDE: u64 = 0x4000;
/// A zeroed area for PRP lists and SGL segments.
pub const LISTS: u64 = 0x20_0000;
/// A zeroed area for data.
pub const DATA: u64 = 0x40_0000;
/// Sizes of the areas above.
const QUEUE_AREA: u64 = 0x4_0000;
const LIST_AREA: u64 = 0x1_0000;
const DATA_AREA: u64 = 0x8_0000;
/// Where the register window sits; host memory is mapped right below, in and above it, so a
/// DMA the controller failed to refuse would land and be seen.
pub const BAR0: u64 = 0xfebf_0000;
/// Namespace 1's size; namespace 2 has 16 blocks of 512 bytes.
const NS1_BYTES: u64 = 256 * 1024;
/// At most this many actions per input.
pub const MAX_ACTIONS: usize = 48;
/// At most this many bytes per host store.
pub const MAX_STORE: usize = 255;

/// An address an input names: an area the harness maps plus an offset into it, or a raw
/// address. `kind` picks the area (modulo 6), `offset` is reduced to its size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Addr {
    /// 0 data, 1 lists, 2 queues, 3 around the register window, 4 the top of the address
    /// space, 5 raw.
    pub kind: u8,
    /// Offset into the area (or the address itself, for raw).
    pub offset: u64,
}

crate::encode_fields!(Addr { kind, offset });

impl Addr {
    /// `offset` bytes into the data area.
    pub const fn data(offset: u64) -> Self {
        Addr { kind: 0, offset }
    }

    /// `offset` bytes into the list area.
    pub const fn lists(offset: u64) -> Self {
        Addr { kind: 1, offset }
    }

    /// `offset` bytes into the queue area.
    pub const fn queues(offset: u64) -> Self {
        Addr { kind: 2, offset }
    }

    /// `offset` bytes into the 24 KiB from 4 KiB below the register window.
    pub const fn registers(offset: u64) -> Self {
        Addr { kind: 3, offset }
    }

    /// The bus address.
    pub fn resolve(self) -> u64 {
        match self.kind % 6 {
            0 => DATA + self.offset % DATA_AREA,
            1 => LISTS + self.offset % LIST_AREA,
            2 => QUEUES + self.offset % QUEUE_AREA,
            3 => BAR0 - 0x1000 + self.offset % 0x6000,
            4 => u64::MAX - self.offset % 0x2000,
            _ => self.offset,
        }
    }
}

/// A command as the input writes it. The data pointer is PRP1/PRP2 when PSDT (bits 7:6 of
/// `flags`) is 00b, else SGL1: a descriptor addressing `prp1` with `sgl_len` bytes and
/// identifier byte `sgl_id`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Command {
    /// CDW0 bits 7:0.
    pub opcode: u8,
    /// CDW0 bits 15:8: FUSE (1:0), reserved (5:2), PSDT (7:6).
    pub flags: u8,
    /// CDW0 bits 31:16.
    pub cid: u16,
    /// NSID.
    pub nsid: u32,
    /// PRP1, or SGL1's address.
    pub prp1: Addr,
    /// PRP2.
    pub prp2: Addr,
    /// MPTR.
    pub mptr: Addr,
    /// CDW10 to CDW15.
    pub cdw: [u32; 6],
    /// SGL1's length.
    pub sgl_len: u32,
    /// SGL1's identifier (type in bits 7:4, subtype in 3:0).
    pub sgl_id: u8,
}

crate::encode_fields!(Command {
    opcode,
    flags,
    cid,
    nsid,
    prp1,
    prp2,
    mptr,
    cdw,
    sgl_len,
    sgl_id
});

impl<const N: usize> Encode for [u32; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        self.iter().for_each(|v| v.encode(out));
    }
}

impl Command {
    /// A command of `opcode` with CID `cid` and every other field zero.
    pub fn new(opcode: Opcode, cid: u16) -> Self {
        Command {
            opcode: opcode.0,
            cid,
            ..Command::default()
        }
    }

    /// The submission queue entry.
    pub fn entry(&self) -> SubmissionEntry {
        let mut bytes = [0u8; 64];
        bytes[0] = self.opcode;
        bytes[1] = self.flags;
        bytes[2..4].copy_from_slice(&self.cid.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.nsid.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.mptr.resolve().to_le_bytes());
        bytes[24..32].copy_from_slice(&self.prp1.resolve().to_le_bytes());
        if self.flags >> 6 == 0 {
            bytes[32..40].copy_from_slice(&self.prp2.resolve().to_le_bytes());
        } else {
            bytes[32..36].copy_from_slice(&self.sgl_len.to_le_bytes());
            bytes[39] = self.sgl_id;
        }
        for (i, dw) in self.cdw.iter().enumerate() {
            bytes[40 + 4 * i..44 + 4 * i].copy_from_slice(&dw.to_le_bytes());
        }
        SubmissionEntry::from_bytes(bytes)
    }
}

/// One thing the host does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write `command` at the tail of submission queue `queue` (0 admin, 1 or 2; others
    /// modulo 3) and ring its doorbell, unless `quiet`; then reap its completion queue,
    /// unless `hold`.
    Submit {
        /// The queue.
        queue: u8,
        /// The entry.
        command: Command,
        /// Leave the doorbell for a later `Ring`.
        quiet: bool,
        /// Leave the completions for a later `Reap`.
        hold: bool,
    },
    /// Ring submission queue `queue`'s doorbell with the host's tail.
    Ring {
        /// The queue.
        queue: u8,
    },
    /// Consume what completion queue `queue` (0 admin, 1 I/O; modulo 2) holds and write its
    /// head doorbell.
    Reap {
        /// The queue.
        queue: u8,
    },
    /// Write `value` to doorbell register `index` (offset `0x1000 + 4 * index`).
    Doorbell {
        /// Which doorbell register, counted in dwords.
        index: u16,
        /// The value.
        value: u32,
    },
    /// Write `value` to the register at `offset` (dword-aligned, below the doorbells).
    Register {
        /// The offset, reduced modulo 0x1000.
        offset: u16,
        /// The value.
        value: u32,
    },
    /// A host store of `bytes` at `at` (skipped where memory is not mapped).
    Store {
        /// Where.
        at: Addr,
        /// What.
        bytes: Vec<u8>,
    },
    /// CC.EN = 0, then the harness's bring-up again.
    Restart,
}

const ACTION_KINDS: u8 = 7;

impl<'a> Arbitrary<'a> for Action {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.arbitrary::<u8>()? % ACTION_KINDS {
            0 => {
                let (queue, command, flags) =
                    (u.arbitrary()?, u.arbitrary()?, u.arbitrary::<u8>()?);
                Action::Submit {
                    queue,
                    command,
                    quiet: flags & 1 != 0,
                    hold: flags & 2 != 0,
                }
            }
            1 => Action::Ring {
                queue: u.arbitrary()?,
            },
            2 => Action::Reap {
                queue: u.arbitrary()?,
            },
            3 => Action::Doorbell {
                index: u.arbitrary()?,
                value: u.arbitrary()?,
            },
            4 => Action::Register {
                offset: u.arbitrary()?,
                value: u.arbitrary()?,
            },
            5 => {
                let at = u.arbitrary()?;
                let len = usize::from(u.arbitrary::<u8>()?);
                let bytes = u.bytes(len.min(u.len()))?.to_vec();
                Action::Store { at, bytes }
            }
            _ => Action::Restart,
        })
    }
}

impl Encode for Action {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Action::Submit {
                queue,
                command,
                quiet,
                hold,
            } => {
                0u8.encode(out);
                queue.encode(out);
                command.encode(out);
                (u8::from(*quiet) | u8::from(*hold) << 1).encode(out);
            }
            Action::Ring { queue } => {
                1u8.encode(out);
                queue.encode(out);
            }
            Action::Reap { queue } => {
                2u8.encode(out);
                queue.encode(out);
            }
            Action::Doorbell { index, value } => {
                3u8.encode(out);
                index.encode(out);
                value.encode(out);
            }
            Action::Register { offset, value } => {
                4u8.encode(out);
                offset.encode(out);
                value.encode(out);
            }
            Action::Store { at, bytes } => {
                5u8.encode(out);
                at.encode(out);
                u8::try_from(bytes.len())
                    .expect("at most 255 bytes")
                    .encode(out);
                out.extend_from_slice(bytes);
            }
            Action::Restart => 6u8.encode(out),
        }
    }
}

/// The controller's configuration, in a few bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Shape {
    /// Bits 1:0 the page size the host enables (CC.MPS 0 to 2); bit 2 namespace 1 has 4 KiB
    /// blocks (else 512 bytes); bits 4:3 its metadata (0 none, 1 8 bytes separate, 2 8 bytes
    /// extended); bit 5 CAP.CQR (contiguous queues only); bit 6 the second I/O SQ is backed by
    /// a PRP list (PC = 0) when CQR allows; bit 7 a doorbell stride of 8 bytes.
    pub bits: u8,
    /// MDTS, 1 to 5 (modulo 5, plus 1).
    pub mdts: u8,
    /// SGL support: 0 none, 1 dword-aligned, 2 byte-aligned, 3 dword-aligned with bit
    /// buckets, metadata SGLs and keyed blocks (modulo 4).
    pub sgls: u8,
    /// Slots in each I/O queue, 2 to 17 (modulo 16, plus 2).
    pub queue_slots: u8,
    /// Slots in each admin queue, 2 to 9 (modulo 8, plus 2).
    pub admin_slots: u8,
}

crate::encode_fields!(Shape {
    bits,
    mdts,
    sgls,
    queue_slots,
    admin_slots
});

impl Shape {
    fn mps(&self) -> u8 {
        (self.bits & 3) % 3
    }

    fn config(&self) -> ControllerConfig {
        // 256 KiB: room for a transfer of MDTS plus a page.
        let lba = if self.bits & 4 != 0 { 4096 } else { 512 };
        let mut ns1 = NamespaceConfig::new(NS1_BYTES / u64::from(lba), lba);
        match (self.bits >> 3) & 3 {
            1 => ns1 = ns1.with_metadata(8, false),
            2 => ns1 = ns1.with_metadata(8, true),
            _ => {}
        }
        let sgls = match self.sgls % 4 {
            0 => Sgls::empty(),
            1 => Sgls::from_support(SglSupport::DwordAligned),
            2 => Sgls::from_support(SglSupport::ByteAligned),
            _ => Sgls::from_support(SglSupport::DwordAligned)
                .union(Sgls::BIT_BUCKET)
                .union(Sgls::MPTR_SGL)
                .union(Sgls::KEYED),
        };
        ControllerConfig {
            max_queue_entries: 64,
            contiguous_queues_required: self.bits & 0x20 != 0,
            doorbell_stride: (self.bits >> 7) & 1,
            mps_max: 2,
            mdts: self.mdts % 5 + 1,
            sgls,
            walk_limits: WalkLimits::DEFAULT,
            max_io_queues: 4,
            bar0: BAR0,
            namespaces: vec![ns1, NamespaceConfig::new(16, 512)],
            ..ControllerConfig::default()
        }
    }
}

/// One input: the controller's shape, extra host memory, and what the host does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerInput {
    /// The configuration.
    pub shape: Shape,
    /// Regions mapped besides the harness's areas (lists, segments, data anywhere).
    pub memory: MemorySpec,
    /// The actions, in order.
    pub actions: Vec<Action>,
}

impl<'a> Arbitrary<'a> for ControllerInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let shape = u.arbitrary()?;
        let memory = u.arbitrary()?;
        let n = encode::count(u, MAX_ACTIONS)?;
        let actions = (0..n)
            .map(|_| u.arbitrary())
            .collect::<arbitrary::Result<_>>()?;
        Ok(ControllerInput {
            shape,
            memory,
            actions,
        })
    }
}

impl Encode for ControllerInput {
    fn encode(&self, out: &mut Vec<u8>) {
        self.shape.encode(out);
        self.memory.encode(out);
        encode::collection(&self.actions, MAX_ACTIONS, out);
    }
}

/// The host's view of one submission queue.
struct HostSq {
    slots: Vec<u64>,
    tail: u16,
    /// The controller's head as the last completion reported it.
    head: u16,
}

/// The host's view of one completion queue.
struct HostCq {
    slots: Vec<u64>,
    head: u16,
    phase: bool,
}

/// The harness: a controller, the monitored memory, and the host's rings.
pub struct Harness {
    /// The controller under test.
    pub controller: MockController,
    /// Host memory, watched.
    pub memory: Monitor,
    shape: Shape,
    sqs: [Option<HostSq>; 3],
    cqs: [Option<HostCq>; 2],
    next_cid: u16,
}

/// The slot addresses of a queue of `slots` entries of `entry` bytes from `base`.
fn contiguous(base: u64, slots: u16, entry: u64) -> Vec<u64> {
    (0..u64::from(slots)).map(|i| base + i * entry).collect()
}

impl Harness {
    /// A controller shaped by `shape`, host memory with the harness's areas and `extra`
    /// mapped, brought up.
    pub fn new(shape: Shape, extra: &MemorySpec) -> Self {
        let config = shape.config();
        let controller = MockController::new(config.clone()).expect("a valid configuration");
        let mut mem = SimMemory::new();
        mem.set_logging(false);
        for (addr, len) in [
            (QUEUES, QUEUE_AREA),
            (LISTS, LIST_AREA),
            (DATA, DATA_AREA),
            (BAR0 - 0x1000, 0x6000),
            (u64::MAX - 0x1fff, 0x2000),
        ] {
            mem.map(addr, len).expect("the harness's areas fit");
        }
        for region in &extra.regions {
            let contents = region.contents();
            if mem.map(region.addr, contents.len() as u64).is_ok() {
                let _ = mem.poke(region.addr, &contents);
            }
        }
        let caps = SglCaps::new(config.sgls).with_limits(config.walk_limits);
        let page = PageSize::from_mps(shape.mps()).expect("MPS 0 to 2");
        let max_transfer = match config.max_transfer() {
            MaxTransfer::Bytes(n) => n,
            MaxTransfer::Unlimited => unreachable!("MDTS is 1 to 5"),
        };
        let context = Context {
            namespaces: config.namespaces.clone(),
            caps,
            registers: controller.register_window(),
            read_budget: Context::read_budget(&caps, max_transfer, page),
        };
        let mut harness = Harness {
            controller,
            memory: Monitor::new(mem, context),
            shape,
            sqs: [None, None, None],
            cqs: [None, None],
            next_cid: 0,
        };
        harness.bring_up();
        harness.memory.take_posted();
        harness
    }

    fn write_register(&mut self, offset: u64, value: u32) {
        self.controller.write32(&mut self.memory, offset, value);
        let failed = self.controller.read32(offset::CSTS) & 2 != 0;
        self.memory.sync(&self.controller, failed);
    }

    fn doorbell(&self, qid: u16, completion: bool) -> u64 {
        let stride = 4u64 << self.controller.config().doorbell_stride;
        offset::DOORBELL_BASE + (2 * u64::from(qid) + u64::from(completion)) * stride
    }

    /// Reset the controller and bring it up as a driver would: admin queues, enable, then
    /// CQ 1 and SQs 1 and 2 on it. Panics if that fails: nothing before a reset may stop it.
    pub fn bring_up(&mut self) {
        self.write_register(offset::CC, 0);
        self.sqs = [None, None, None];
        self.cqs = [None, None];
        let _ = self.memory.mem.poke(QUEUES, &vec![0; QUEUE_AREA as usize]);
        let admin = u16::from(self.shape.admin_slots % 8) + 2;
        let (asq, acq) = (QUEUES, QUEUES + QUEUE_STRIDE);
        let aqa = u32::from(admin - 1) << 16 | u32::from(admin - 1);
        self.write_register(offset::AQA, aqa);
        for (reg, addr) in [(offset::ASQ, asq), (offset::ACQ, acq)] {
            self.write_register(reg, addr as u32);
            self.write_register(reg + 4, (addr >> 32) as u32);
        }
        let cc = 1 | u32::from(self.shape.mps()) << 7 | 6 << 16 | 4 << 20;
        self.write_register(offset::CC, cc);
        assert!(self.controller.is_ready(), "enable after reset failed");
        self.sqs[0] = Some(HostSq {
            slots: contiguous(asq, admin, 64),
            tail: 0,
            head: 0,
        });
        self.cqs[0] = Some(HostCq {
            slots: contiguous(acq, admin, 16),
            head: 0,
            phase: true,
        });

        let slots = u16::from(self.shape.queue_slots % 16) + 2;
        let cq1 = QUEUES + 2 * QUEUE_STRIDE;
        let size = QueueSize::new(u32::from(slots)).expect("2 to 17 slots");
        let mut create_cq = self.admin_entry(Opcode::ADMIN_CREATE_IO_CQ, cq1);
        CreateIoCq::polled(1, size).write_to(&mut create_cq);
        self.bring_up_command(create_cq);
        self.cqs[1] = Some(HostCq {
            slots: contiguous(cq1, slots, 16),
            head: 0,
            phase: true,
        });
        for qid in 1..=2u16 {
            let base = QUEUES + u64::from(qid + 2) * QUEUE_STRIDE;
            let paged = qid == 2 && self.shape.bits & 0x40 != 0 && self.shape.bits & 0x20 == 0;
            let mut entry = self.admin_entry(Opcode::ADMIN_CREATE_IO_SQ, base);
            let mut create = CreateIoSq::contiguous(qid, size, 1);
            if paged {
                // PC = 0: PRP1 is a list naming one page (the queue fits in 4 KiB).
                let list = QUEUES + 6 * QUEUE_STRIDE;
                self.memory
                    .mem
                    .poke(list, &base.to_le_bytes())
                    .expect("queue area");
                entry.set_prp1(list);
                create.contiguous = false;
            }
            create.write_to(&mut entry);
            self.bring_up_command(entry);
            self.sqs[usize::from(qid)] = Some(HostSq {
                slots: contiguous(base, slots, 64),
                tail: 0,
                head: 0,
            });
        }
    }

    /// An admin command `op` with the next CID and PRP1 `base`; the caller writes its fields.
    fn admin_entry(&mut self, op: Opcode, base: u64) -> SubmissionEntry {
        self.next_cid = self.next_cid.wrapping_add(1);
        SubmissionEntry::new(op, self.next_cid).with_prp1(base)
    }

    fn bring_up_command(&mut self, entry: SubmissionEntry) {
        self.submit(0, &entry, false);
        let done = self.reap(0);
        assert!(
            done.len() == 1 && done[0].status().is_success(),
            "bring-up command {entry:?} completed with {done:?}"
        );
    }

    /// Write `entry` at the host's tail of `qid` and, unless `quiet`, ring the doorbell. A
    /// queue the host sees as full is left alone.
    fn submit(&mut self, qid: u16, entry: &SubmissionEntry, quiet: bool) {
        let Some(sq) = self.sqs[usize::from(qid)].as_mut() else {
            return;
        };
        let size = sq.slots.len() as u16;
        let next = (sq.tail + 1) % size;
        if next == sq.head {
            return;
        }
        if self
            .memory
            .mem
            .poke(sq.slots[usize::from(sq.tail)], &entry.to_bytes())
            .is_err()
        {
            return;
        }
        sq.tail = next;
        if !quiet {
            self.ring(qid);
        }
    }

    fn ring(&mut self, qid: u16) {
        if let Some(tail) = self.sqs[usize::from(qid)].as_ref().map(|sq| sq.tail) {
            self.write_register(self.doorbell(qid, false), u32::from(tail));
        }
    }

    /// Consume every new entry of completion queue `cqid` and write its head doorbell.
    fn reap(&mut self, cqid: u16) -> Vec<CompletionEntry> {
        let Some(cq) = self.cqs[usize::from(cqid)].as_mut() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let size = cq.slots.len() as u16;
        loop {
            let mut bytes = [0u8; 16];
            if self
                .memory
                .mem
                .peek(cq.slots[usize::from(cq.head)], &mut bytes)
                .is_err()
            {
                break;
            }
            let entry = CompletionEntry::from_bytes(bytes);
            if entry.phase() != cq.phase || out.len() >= usize::from(size) {
                break;
            }
            cq.head = (cq.head + 1) % size;
            if cq.head == 0 {
                cq.phase = !cq.phase;
            }
            out.push(entry);
        }
        for entry in &out {
            if let Some(sq) = self
                .sqs
                .get_mut(usize::from(entry.sqid()))
                .and_then(Option::as_mut)
            {
                if usize::from(entry.sqhd()) < sq.slots.len() {
                    sq.head = entry.sqhd();
                }
            }
        }
        if !out.is_empty() {
            let head = cq.head;
            self.write_register(self.doorbell(cqid, true), u32::from(head));
        }
        out
    }

    /// Everything the checks compare before and after an action: the namespaces' data and
    /// the queues that exist (without their heads and tails).
    fn state(&self) -> (Vec<Vec<u8>>, Vec<QueueShape>) {
        let data = self
            .controller
            .config()
            .namespaces
            .iter()
            .zip(1..)
            .map(|(ns, nsid)| {
                self.controller
                    .namespace_data(nsid, 0, ns.blocks)
                    .expect("whole namespace")
            })
            .collect();
        let queues = self.controller.queues().map(shape_of).collect();
        (data, queues)
    }

    /// Do one action and check what it changed.
    pub fn act(&mut self, action: &Action) {
        if let Action::Store { at, bytes } = action {
            // A host store reaches neither the controller nor its namespaces.
            let _ = self.memory.mem.poke(at.resolve(), bytes);
            return;
        }
        let (data_before, queues_before) = self.state();
        let was_enabled = self.controller.read32(offset::CC) & 1 != 0;
        match action {
            Action::Submit {
                queue,
                command,
                quiet,
                hold,
            } => {
                let qid = u16::from(*queue % 3);
                self.submit(qid, &command.entry(), *quiet);
                if !*hold {
                    self.reap(u16::from(qid != 0));
                }
            }
            Action::Ring { queue } => self.ring(u16::from(*queue % 3)),
            Action::Reap { queue } => {
                self.reap(u16::from(*queue % 2));
            }
            Action::Doorbell { index, value } => {
                self.write_register(offset::DOORBELL_BASE + 4 * u64::from(*index), *value)
            }
            Action::Register { offset, value } => {
                self.write_register(u64::from(*offset % 0x1000) & !3, *value)
            }
            Action::Store { .. } => {} // done above
            Action::Restart => self.bring_up(),
        }
        let posted = self.memory.take_posted();
        let (data_after, queues_after) = self.state();
        // A controller that failed (CSTS.CFS) may have stopped between a command's effect
        // and its completion (a completion queue the register window refused, say): the
        // checks below need the completion, so they pass over such an action.
        let failed = self.controller.read32(offset::CSTS) & 2 != 0;
        let stored = failed
            || posted.iter().any(|p| {
                p.status.is_success()
                    && p.sqid != 0
                    && matches!(
                        p.opcode,
                        Some(
                            Opcode::NVM_WRITE
                                | Opcode::NVM_WRITE_ZEROES
                                | Opcode::NVM_DATASET_MANAGEMENT
                        )
                    )
            });
        assert!(
            stored || data_before == data_after,
            "{action:?} changed a namespace, but no write-like command succeeded: {posted:?}"
        );
        let queue_admin = posted.iter().any(|p| {
            p.status.is_success()
                && p.sqid == 0
                && matches!(
                    p.opcode,
                    Some(
                        Opcode::ADMIN_CREATE_IO_CQ
                            | Opcode::ADMIN_CREATE_IO_SQ
                            | Opcode::ADMIN_DELETE_IO_CQ
                            | Opcode::ADMIN_DELETE_IO_SQ
                    )
                )
        });
        // CC.EN cleared drops every queue; set, it makes the admin pair.
        let enable_changed = was_enabled != (self.controller.read32(offset::CC) & 1 != 0);
        assert!(
            queue_admin
                || failed
                || enable_changed
                || matches!(action, Action::Restart)
                || queues_before == queues_after,
            "{action:?} changed the queues, but no queue command succeeded: {posted:?}"
        );
    }
}

/// A queue without its moving parts: id, size, first slot, and whether it is an SQ.
type QueueShape = (u16, u16, Option<u64>, bool);

fn shape_of(view: QueueView) -> QueueShape {
    let is_sq = matches!(
        view.role,
        nvme_dma::controller::QueueRole::Submission { .. }
    );
    (view.qid, view.size, view.slot(0), is_sq)
}

/// Run one input: bring the controller up, then every action with its checks.
pub fn check(input: &ControllerInput) {
    let mut harness = Harness::new(input.shape, &input.memory);
    for action in &input.actions {
        harness.act(action);
    }
}
