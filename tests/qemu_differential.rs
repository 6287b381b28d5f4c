//! The differential: the same command streams, valid and invalid, on QEMU's NVMe controller
//! and on the crate's mock controller configured as QEMU reports itself. Statuses (SCT, SC,
//! DNR), completion fields (SQ head, SQ id, CID, phase, DW0), read data and namespace contents
//! must agree. Where they do not, the difference has a name (see [`DIFFERENCES`] and
//! CONFORMANCE.md): the mock gives the specification's answer and the test pins QEMU's actual
//! one, so a QEMU that changes, in either direction, fails the test.
//!
//! Both controllers are driven by the crate's host driver with the same configuration, so
//! queue memory, descriptor pages and command identifiers land at the same places; every
//! descriptor and data byte a stream writes goes to both hosts' memories. One QEMU runs every
//! stream, in order, and each stream is reported as a test of its own ([`Streams`]).

mod qemu;

use std::collections::BTreeMap;

use nvme_dma::bus::RegisterAccess;
use nvme_dma::controller::{Deviation, Deviation as D, Machine, Profile};
use nvme_dma::dptr::SglPolicy;
use nvme_dma::host::{Driver, DriverConfig, Namespace, NoNamespace};
use nvme_dma::spec::features::{NumberOfQueues, SetFeatures, FID_NUMBER_OF_QUEUES};
use nvme_dma::spec::identify::{CNS_ACTIVE_NAMESPACE_LIST, CNS_CONTROLLER, CNS_NAMESPACE};
use nvme_dma::spec::log::{LogPageRequest, LID_ERROR_INFORMATION, LID_SMART};
use nvme_dma::spec::registers::offset;
use nvme_dma::spec::{
    Cap, CompletionEntry, CreateIoCq, CreateIoSq, DeleteIoQueue, Fuse, Identify,
    IdentifyController, IdentifyNamespace, Opcode, Psdt, QueueCount, QueueSize, SglDescriptor,
    SglDescriptorType as T, SglSubtype, Status, SubmissionEntry,
};
use nvme_dma::{Direction, Piece};
use nvme_dma::{DmaFault, DmaMemory, Extent, PageSize, SimMemory};
use qemu::layouts::{
    after_read, gather, io_sqe, place_prp, place_sgl, scatter, segment_places, XorShift, BLOCK,
    DESCRIPTOR_REGION, READ_REGION, WRITE_REGION,
};
use qemu::{show, Qemu, IMAGE_BYTES};
use zerocopy::FromBytes;

/// The drivers' arena: 1 MiB .. 16 MiB of host memory on both sides.
const ARENA: Extent = Extent::new(1 << 20, 15 << 20);

/// Blocks in the namespace (the image).
const NAMESPACE_BLOCKS: u64 = IMAGE_BYTES / BLOCK;
/// Namespace 1 as both controllers report it (`bring_up` checks that they do); the drivers
/// read and write it.
const NAMESPACE_1: Namespace = Namespace {
    nsid: 1,
    blocks: NAMESPACE_BLOCKS,
    block_size: BLOCK,
    metadata_size: 0,
};

/// Host memory no controller reaches: past the end of QEMU's RAM (128 MiB) and unmapped in
/// the mock's.
const UNREACHABLE: u64 = 0x1000_0000;

/// Blocks the data pointer probes write to.
const PROBE_LBA: u64 = 30_000;

/// Log Identifier 03h, Firmware Slot Information.
const LID_FIRMWARE_SLOT: u8 = 0x03;

type Mock = Machine<SimMemory>;

/// Every named way QEMU 7.2 answers otherwise than the strict mock, what kind of difference
/// it is, and the profile switch that makes the mock answer as QEMU does (every one of them
/// is in `Profile::QEMU_7_2`). CONFORMANCE.md explains each. The test fails when a name is
/// met by no command (QEMU, or the streams, changed) or when a command meets a name not
/// listed here.
const DIFFERENCES: &[(&str, &str, Deviation)] = &[
    (
        "sgl-equal-segments-chain",
        "deviation 1",
        D::SglStaleLastSegmentCheck,
    ),
    (
        "sgl-pointer-after-last-segment",
        "deviation 2",
        D::SglStaleLastSegmentCheck,
    ),
    (
        "prp1-not-dword-aligned",
        "deviation 3",
        D::Prp1NotDwordAligned,
    ),
    (
        "keyed-data-block-over-pcie",
        "deviation 4",
        D::SglNonDataAsSegment,
    ),
    (
        "reserved-type-in-sgl1",
        "deviation 4",
        D::SglNonDataAsSegment,
    ),
    (
        "bit-bucket-not-advertised",
        "deviation 5",
        D::SglNonDataAsSegment,
    ),
    (
        "data-block-with-offset-subtype",
        "deviation 6",
        D::SglSubtypeIgnored,
    ),
    (
        "sgl-longer-than-transfer",
        "observation 7",
        D::SglLongerThanTransferTruncated,
    ),
    ("mdts-in-cc-page-units", "deviation 8", D::MdtsInCcPageUnits),
    (
        "prp-list-pointer-not-qword-aligned",
        "deviation 9",
        D::PrpListPointerNotQwordAligned,
    ),
    (
        "segment-not-qword-aligned",
        "deviation 10",
        D::SglSegmentAlignmentUnchecked,
    ),
    ("psdt-10b-without-msds", "deviation 11", D::Psdt10bAs01b),
    (
        "data-dma-outside-ram-succeeds",
        "deviation 12",
        D::DataOutsideMemoryIgnored,
    ),
    (
        "log-offset-at-page-end-refused",
        "deviation 13",
        D::LogOffsetAtPageEndRefused,
    ),
    (
        "delete-cq-answers-completion-queue-invalid",
        "deviation 14",
        D::DeleteCqAnswersCompletionQueueInvalid,
    ),
    (
        "namespace-descriptors-without-identifier",
        "deviation 15",
        D::NamespaceDescriptorsWithoutIdentifier,
    ),
    (
        "firmware-slot-revision-not-fr",
        "deviation 16",
        D::FirmwareSlotRevisionNotFr,
    ),
    (
        "queues-allocated-beyond-request",
        "two valid answers",
        D::QueuesAllocatedBeyondRequest,
    ),
    (
        "completion-queue-checked-first",
        "two valid answers",
        D::CompletionQueueCheckedFirst,
    ),
    (
        "mdts-checked-before-range",
        "two valid answers",
        D::MdtsCheckedBeforeRange,
    ),
    (
        "broadcast-nsid-before-opcode",
        "two valid answers",
        D::BroadcastNsidInvalidField,
    ),
    (
        "psdt-unchecked-without-data",
        "deviation 17",
        D::PsdtUncheckedWithoutData,
    ),
    (
        "invalid-queue-deletion-without-dnr",
        "DNR differs",
        D::InvalidQueueDeletionWithoutDnr,
    ),
    (
        "fused-refused-without-dnr",
        "DNR differs",
        D::FusedRefusedWithoutDnr,
    ),
];

/// What one command must complete with.
#[derive(Clone, Copy, Debug)]
struct Expect {
    /// The specification's answer, which the mock must give exactly (DNR included).
    spec: Status,
    /// Where QEMU answers otherwise: the difference's name and QEMU's answer, pinned.
    qemu: Option<(&'static str, Status)>,
    /// Whether DW0 must agree (it is command specific; some answers may differ).
    same_dw0: bool,
}

impl Expect {
    const fn succeeds() -> Self {
        Expect {
            spec: Status::SUCCESS,
            qemu: None,
            same_dw0: true,
        }
    }

    /// A failure with `status`; the mock sets DNR on every failure, and so does the answer
    /// compared (retrying any of these commands unchanged cannot succeed).
    const fn fails(status: Status) -> Self {
        Expect {
            spec: status.with_dnr(true),
            qemu: None,
            same_dw0: true,
        }
    }

    /// QEMU answers `status` instead, under the difference `name`.
    const fn qemu(mut self, name: &'static str, status: Status) -> Self {
        self.qemu = Some((name, status));
        self
    }

    const fn any_dw0(mut self) -> Self {
        self.same_dw0 = false;
        self
    }
}

/// QEMU and the mock side by side, driven alike: the mock twice, once strict (the
/// specification's judge) and once with QEMU's profile (which must answer exactly as QEMU).
struct Twin {
    qemu: Driver<Qemu, NoNamespace>,
    mock: Driver<Mock, NoNamespace>,
    qemu_mock: Driver<Mock, NoNamespace>,
    /// Commands run on both and compared.
    commands: u64,
    /// How often each named difference was met.
    seen: BTreeMap<&'static str, u64>,
    problems: Vec<String>,
}

impl Twin {
    fn start(qemu: Qemu, config: DriverConfig) -> Twin {
        let machine = qemu::mock_machine;
        Twin {
            qemu: Driver::enable(qemu, config).expect("QEMU: enable"),
            mock: Driver::enable(machine(Profile::STRICT), config).expect("mock: enable"),
            qemu_mock: Driver::enable(machine(Profile::QEMU_7_2), config)
                .expect("QEMU's mock: enable"),
            commands: 0,
            seen: BTreeMap::new(),
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, text: String) {
        eprintln!("!!! {text}");
        self.problems.push(text);
    }

    /// Shut both down and bring them up again with `page_size` (the drivers' start-up
    /// commands are compared too); namespaces persist.
    fn restart(self, page_size: PageSize) -> Twin {
        let Twin {
            mut qemu,
            mut mock,
            mut qemu_mock,
            commands,
            seen,
            problems,
        } = self;
        let config = qemu.config().with_page_size(page_size);
        qemu.shutdown().expect("QEMU: shutdown");
        mock.shutdown().expect("mock: shutdown");
        qemu_mock.shutdown().expect("QEMU's mock: shutdown");
        Twin {
            qemu: Driver::enable(qemu.into_bus(), config).expect("QEMU: enable"),
            mock: Driver::enable(mock.into_bus(), config).expect("mock: enable"),
            qemu_mock: Driver::enable(qemu_mock.into_bus(), config).expect("QEMU's mock: enable"),
            commands,
            seen,
            problems,
        }
    }

    /// Run `sqe` on queue `qid` of both and compare the completions.
    fn exec(
        &mut self,
        what: &str,
        qid: u16,
        sqe: SubmissionEntry,
        expect: Expect,
    ) -> [CompletionEntry; 2] {
        let q = self
            .qemu
            .submit_batch(qid, &[sqe])
            .unwrap_or_else(|e| panic!("{what}: QEMU: {e}"))[0];
        let m = self
            .mock
            .submit_batch(qid, &[sqe])
            .unwrap_or_else(|e| panic!("{what}: mock: {e}"))[0];
        let t = self
            .qemu_mock
            .submit_batch(qid, &[sqe])
            .unwrap_or_else(|e| panic!("{what}: QEMU's mock: {e}"))[0];
        self.commands += 1;
        self.judge(what, expect, q.status(), m.status());
        if t != q {
            self.problem(format!(
                "{what}: QEMU's mock completed with {t:?}, QEMU with {q:?}"
            ));
        }
        let fields = |c: &CompletionEntry| (c.sqhd(), c.sqid(), c.cid(), c.phase(), c.dw1());
        if fields(&q) != fields(&m) {
            self.problem(format!(
                "{what}: completion fields (SQHD, SQID, CID, P, DW1) differ: QEMU {:?}, mock {:?}",
                fields(&q),
                fields(&m)
            ));
        }
        if expect.same_dw0 && q.dw0() != m.dw0() {
            self.problem(format!(
                "{what}: DW0 differs: QEMU {:#x}, mock {:#x}",
                q.dw0(),
                m.dw0()
            ));
        }
        [q, m]
    }

    fn judge(&mut self, what: &str, expect: Expect, qemu: Status, mock: Status) {
        let want = expect.qemu.map_or(expect.spec, |(_, s)| s);
        eprintln!(
            "{what:48} spec {:24} mock {:24} QEMU {}{}",
            show(expect.spec),
            show(mock),
            show(qemu),
            expect
                .qemu
                .map_or(String::new(), |(name, _)| format!(" [{name}]")),
        );
        if mock != expect.spec {
            self.problem(format!(
                "{what}: the mock answered {}, the spec {}",
                show(mock),
                show(expect.spec)
            ));
        }
        if qemu != want {
            self.problem(format!(
                "{what}: QEMU answered {}, pinned {}",
                show(qemu),
                show(want)
            ));
        }
        if let Some((name, _)) = expect.qemu {
            *self.seen.entry(name).or_default() += 1;
            if !DIFFERENCES.iter().any(|(n, ..)| *n == name) {
                self.problem(format!("{what}: difference {name} is not in DIFFERENCES"));
            }
        }
    }

    /// Allocate `pages` pages from both drivers' arenas (the same pages on both).
    fn alloc(&mut self, pages: u64) -> Extent {
        let q = self.qemu.arena_mut().alloc(pages).expect("QEMU arena");
        let m = self.mock.arena_mut().alloc(pages).expect("mock arena");
        let t = self
            .qemu_mock
            .arena_mut()
            .alloc(pages)
            .expect("QEMU's mock arena");
        assert!(q == m && m == t, "the arenas hand out the same pages");
        q
    }

    fn free(&mut self, extent: Extent) {
        self.qemu.arena_mut().free(extent).expect("QEMU arena");
        self.mock.arena_mut().free(extent).expect("mock arena");
        self.qemu_mock
            .arena_mut()
            .free(extent)
            .expect("QEMU's mock arena");
    }

    /// The bytes of `extents`, which must be the same in both memories; the mock's copy.
    fn same_memory(&mut self, what: &str, extents: &[Extent]) -> Vec<u8> {
        let (q, m) = (
            gather(self.qemu.bus(), extents),
            gather(self.mock.bus(), extents),
        );
        self.same_as_qemu(what, extents, &q);
        if q != m {
            let at = q.iter().zip(&m).position(|(a, b)| a != b).unwrap_or(0);
            self.problem(format!(
                "{what}: host memory differs (first at byte {at} of {extents:x?})"
            ));
        }
        m
    }

    /// QEMU's mock must hold what QEMU holds in `extents` (`qemu`), whatever the strict mock
    /// holds.
    fn same_as_qemu(&mut self, what: &str, extents: &[Extent], qemu: &[u8]) {
        if gather(self.qemu_mock.bus(), extents) != qemu {
            self.problem(format!(
                "{what}: QEMU's mock's host memory differs from QEMU's in {extents:x?}"
            ));
        }
    }

    /// Blocks `lba .. lba + n` as QEMU's image and the strict mock's namespace hold them;
    /// QEMU's mock must hold QEMU's.
    fn blocks(&mut self, lba: u64, n: u64) -> (Vec<u8>, Vec<u8>) {
        let q = self
            .qemu
            .bus()
            .image_bytes(lba * BLOCK, (n * BLOCK) as usize);
        let namespace = |d: &Driver<Mock, NoNamespace>| {
            d.bus()
                .controller
                .namespace_data(1, lba, n)
                .expect("in the namespace")
        };
        let (m, t) = (namespace(&self.mock), namespace(&self.qemu_mock));
        if t != q {
            self.problem(format!(
                "QEMU's mock's namespace blocks {lba}..{} differ from QEMU's",
                lba + n
            ));
        }
        (q, m)
    }

    /// The blocks, which must be the same on both; the mock's copy.
    fn same_blocks(&mut self, what: &str, lba: u64, n: u64) -> Vec<u8> {
        let (q, m) = self.blocks(lba, n);
        if q != m {
            self.problem(format!(
                "{what}: namespace blocks {lba}..{} differ",
                lba + n
            ));
        }
        m
    }

    /// A driver operation on both; its results must be equal.
    fn both<T: PartialEq + std::fmt::Debug>(
        &mut self,
        what: &str,
        op: impl Fn(&mut dyn DriverOps) -> Result<T, String>,
    ) -> T {
        let q = op(&mut self.qemu);
        let m = op(&mut self.mock);
        let t = op(&mut self.qemu_mock);
        self.commands += 1;
        if t != q {
            self.problem(format!("{what}: QEMU {q:?}, QEMU's mock {t:?}"));
        }
        eprintln!("{what:48} QEMU {q:?} mock {m:?}");
        match (q, m) {
            (Ok(q), Ok(m)) if q == m => q,
            (q, m) => panic!("{what}: QEMU {q:?}, mock {m:?}"),
        }
    }

    fn count(&self, name: &str) -> u64 {
        self.seen.get(name).copied().unwrap_or(0)
    }
}

/// The host memory of both: writes go to both, reads come from the mock's.
impl DmaMemory for Twin {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.mock.bus().read(addr, buf)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        self.qemu.bus_mut().write(addr, data)?;
        self.qemu_mock.bus_mut().write(addr, data)?;
        self.mock.bus_mut().write(addr, data)
    }
}

/// What the streams ask of a driver, whatever its device: object safe, errors as text.
trait DriverOps {
    fn create_pair(&mut self, entries: u32) -> Result<u16, String>;
    fn delete_pair(&mut self) -> Result<(), String>;
    fn learn_controller(&mut self) -> Result<(u8, u32), String>;
    fn namespace(&mut self, nsid: u32) -> Result<(u64, u64, u16), String>;
    fn io(
        &mut self,
        direction: Direction,
        lba: u64,
        pieces: &[Extent],
        policy: SglPolicy,
    ) -> Result<(Status, u16, u16, u16), String>;
}

impl<B: RegisterAccess + DmaMemory, N> DriverOps for Driver<B, N>
where
    B::Error: std::fmt::Display,
{
    fn create_pair(&mut self, entries: u32) -> Result<u16, String> {
        self.create_io_queue_pair(entries)
            .map_err(|e| e.to_string())
    }

    fn delete_pair(&mut self) -> Result<(), String> {
        self.delete_io_queue_pair().map_err(|e| e.to_string())
    }

    fn learn_controller(&mut self) -> Result<(u8, u32), String> {
        let id = self.identify_controller().map_err(|e| e.to_string())?;
        Ok((id.mdts, id.sgls.get()))
    }

    fn namespace(&mut self, nsid: u32) -> Result<(u64, u64, u16), String> {
        let ns = self.identify_namespace(nsid).map_err(|e| e.to_string())?;
        Ok((ns.blocks, ns.block_size, ns.metadata_size))
    }

    fn io(
        &mut self,
        direction: Direction,
        lba: u64,
        pieces: &[Extent],
        policy: SglPolicy,
    ) -> Result<(Status, u16, u16, u16), String> {
        let done = self.transfer(NAMESPACE_1, direction, lba, pieces, policy);
        let report = done.map_err(|e| e.to_string())?;
        let c = report
            .last()
            .ok_or("the transfer ran no command")?
            .completion;
        Ok((c.status(), c.sqhd(), c.sqid(), c.cid()))
    }
}

// ---- commands built by hand ----

/// An admin command `opcode` on namespace `nsid`, every command dword 0.
fn admin(opcode: Opcode, nsid: u32) -> SubmissionEntry {
    SubmissionEntry::new(opcode, 0).with_nsid(nsid)
}

/// A queue of `slots` slots (1 to 65536).
fn queue_size(slots: u32) -> QueueSize {
    QueueSize::new(slots).expect("1 to 65536 slots")
}

/// Create I/O Completion Queue `create`, the queue at `base`.
fn create_cq_with(create: CreateIoCq, base: u64) -> SubmissionEntry {
    let mut sqe = admin(Opcode::ADMIN_CREATE_IO_CQ, 0).with_prp1(base);
    create.write_to(&mut sqe);
    sqe
}

/// Create I/O Completion Queue `qid` of `slots` slots at `base`, polled; `contiguous` is PC.
fn create_cq(qid: u16, slots: u32, base: u64, contiguous: bool) -> SubmissionEntry {
    let create = CreateIoCq {
        contiguous,
        ..CreateIoCq::polled(qid, queue_size(slots))
    };
    create_cq_with(create, base)
}

/// Create I/O Submission Queue `qid` of `slots` slots at `base`, feeding `cqid`.
fn create_sq(qid: u16, slots: u32, base: u64, cqid: u16, contiguous: bool) -> SubmissionEntry {
    let create = CreateIoSq {
        contiguous,
        ..CreateIoSq::contiguous(qid, queue_size(slots), cqid)
    };
    let mut sqe = admin(Opcode::ADMIN_CREATE_IO_SQ, 0).with_prp1(base);
    create.write_to(&mut sqe);
    sqe
}

/// Identify CNS `cns` about `nsid`, no data pointer yet.
fn identify_sqe(cns: u8, nsid: u32) -> SubmissionEntry {
    let mut sqe = admin(Opcode::ADMIN_IDENTIFY, 0);
    Identify::namespace(cns, nsid).write_to(&mut sqe);
    sqe
}

fn get_log(lid: u8, nsid: u32, len: u64, offset: u64, buf: u64) -> SubmissionEntry {
    let mut sqe = admin(Opcode::ADMIN_GET_LOG_PAGE, nsid);
    LogPageRequest { lid, len, offset }
        .write_to(&mut sqe)
        .expect("a valid log request");
    sqe.set_prp1(buf);
    sqe
}

fn write_zeroes(lba: u64, blocks: u64) -> SubmissionEntry {
    let mut sqe = io_sqe(Direction::Write, lba, blocks);
    sqe.set_opcode(Opcode::NVM_WRITE_ZEROES);
    sqe
}

/// A Read or Write of `blocks` blocks whose data lives in one contiguous run at `buf`, with
/// PRPs (the list, when one is needed, at the start of the descriptor region).
fn contiguous_io(
    twin: &mut Twin,
    direction: Direction,
    lba: u64,
    blocks: u64,
    buf: u64,
) -> SubmissionEntry {
    let mut sqe = io_sqe(direction, lba, blocks);
    let ctrl = *twin.mock.controller();
    // No MDTS in this builder: the streams send commands above it on purpose.
    let unlimited = nvme_dma::dptr::ControllerCaps {
        max_transfer: nvme_dma::spec::MaxTransfer::Unlimited,
        ..ctrl
    };
    let extents = [Extent::new(buf, blocks * BLOCK)];
    place_prp(twin, &unlimited, &mut sqe, &extents, DESCRIPTOR_REGION.addr)
        .expect("PRPs for one run");
    sqe
}

// ---- streams ----

/// Registers, Identify Controller, Number of Queues, the first I/O queue pair, Identify
/// Namespace: what every driver does first, compared field by field.
fn bring_up(twin: &mut Twin) {
    let cap = |c: Cap| {
        (
            c.max_queue_entries(),
            c.cqr(),
            c.to(),
            c.dstrd(),
            c.mpsmin(),
            c.mpsmax(),
            c.css() & 1,
        )
    };
    let (q, m) = (cap(twin.qemu.cap()), cap(twin.mock.cap()));
    if q != m {
        twin.problem(format!(
            "CAP (MQES+1, CQR, TO, DSTRD, MPSMIN, MPSMAX, CSS.NVM): QEMU {q:?}, mock {m:?}"
        ));
    }
    let q = twin.qemu.bus_mut().read32(offset::VS).expect("VS");
    let m = twin.mock.bus_mut().read32(offset::VS).expect("VS");
    if q != m {
        twin.problem(format!("VS: QEMU {q:#x}, mock {m:#x}"));
    }

    let [q, m] = identify(
        twin,
        "identify controller",
        CNS_CONTROLLER,
        0,
        Expect::succeeds(),
    );
    let (q, m) = (
        IdentifyController::read_from_bytes(&q).expect("4096 bytes"),
        IdentifyController::read_from_bytes(&m).expect("4096 bytes"),
    );
    let fields = |id: &IdentifyController| {
        (
            id.ver.get(),
            id.mdts,
            id.sgls.get(),
            id.msdbd,
            id.sqes,
            id.cqes,
            id.serial_str().map(str::to_owned),
            id.elpe,
            id.aerl,
            id.frmw,
        )
    };
    if fields(&q) != fields(&m) {
        twin.problem(format!(
            "Identify Controller (VER, MDTS, SGLS, MSDBD, SQES, CQES, SN, ELPE, AERL, FRMW): QEMU {:?}, mock {:?}",
            fields(&q),
            fields(&m)
        ));
    }
    eprintln!(
        "Identify Controller, not compared (the mock's own): NN QEMU {} mock {}, ONCS {:#x} / {:#x}, \
         OACS {:#x} / {:#x}, LPA {:#x} / {:#x}",
        q.nn.get(),
        m.nn.get(),
        q.oncs.get(),
        m.oncs.get(),
        q.oacs.get(),
        m.oacs.get(),
        q.lpa,
        m.lpa
    );
    twin.both("driver: identify controller (MDTS, SGLS)", |d| {
        d.learn_controller()
    });
    assert_eq!(twin.qemu.controller(), twin.mock.controller());

    // Number of Queues: one pair asked for. The controller may allocate more than asked; QEMU
    // always allocates its maximum (64 pairs), the mock what was asked.
    let pairs = |n: u32| NumberOfQueues::pairs(QueueCount::new(n).expect("1 to 65536 queues"));
    let number_of_queues = |n: u32| {
        let mut sqe = admin(Opcode::ADMIN_SET_FEATURES, 0);
        SetFeatures {
            fid: FID_NUMBER_OF_QUEUES,
            save: false,
        }
        .write_to(&mut sqe);
        pairs(n).write_to(&mut sqe);
        sqe
    };
    let [q, m] = twin.exec(
        "set features: number of queues, 1 pair",
        0,
        number_of_queues(1),
        Expect::succeeds().any_dw0(),
    );
    let granted = |c: CompletionEntry| NumberOfQueues::from_dw0(c.dw0());
    if (granted(q), granted(m)) == (pairs(64), pairs(1)) {
        twin.seen_difference("queues-allocated-beyond-request");
    } else {
        twin.problem(format!(
            "Number of Queues DW0: QEMU {:#x}, mock {:#x}",
            q.dw0(),
            m.dw0()
        ));
    }
    twin.exec(
        "set features: number of queues, 65536 pairs",
        0,
        number_of_queues(65_536),
        Expect::fails(Status::INVALID_FIELD),
    );
    twin.exec(
        "set features: number of queues, 64 pairs",
        0,
        number_of_queues(64),
        Expect::succeeds(),
    );
    assert_eq!(
        twin.both("driver: create I/O queue pair", |d| d.create_pair(64)),
        1
    );
    let ns = twin.both("driver: identify namespace 1", |d| d.namespace(1));
    assert_eq!(
        ns,
        (
            NAMESPACE_1.blocks,
            NAMESPACE_1.block_size,
            NAMESPACE_1.metadata_size
        )
    );
}

impl Twin {
    fn seen_difference(&mut self, name: &'static str) {
        if !DIFFERENCES.iter().any(|(n, ..)| *n == name) {
            self.problem(format!("difference {name} is not in DIFFERENCES"));
        }
        *self.seen.entry(name).or_default() += 1;
    }
}

/// Identify with CNS `cns` for `nsid` into a fresh page; returns the page as each side holds
/// it afterwards (a marker where nothing was written).
fn identify(twin: &mut Twin, what: &str, cns: u8, nsid: u32, expect: Expect) -> [Vec<u8>; 2] {
    let page = twin.alloc(1);
    let buf = Extent::new(page.addr, 4096);
    twin.write(buf.addr, &[0xa5; 4096]).expect("host memory");
    let sqe = identify_sqe(cns, nsid).with_prp1(buf.addr);
    twin.exec(what, 0, sqe, expect);
    let both = [
        gather(twin.qemu.bus(), &[buf]),
        gather(twin.mock.bus(), &[buf]),
    ];
    // Identify Controller and Namespace differ in fields neither profile models (model,
    // firmware, optional features); the lists must be QEMU's byte for byte.
    if ![CNS_CONTROLLER, CNS_NAMESPACE].contains(&cns) {
        twin.same_as_qemu(what, &[buf], &both[0]);
    }
    twin.free(page);
    both
}

/// How a valid command's buffer is described.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// PRPs, the first list page at a page offset of 0, anywhere, or in the last 16 slots of
    /// its page (so the list chains soon).
    Prp,
    /// Byte-granular pieces in an SGL: inline, a Last Segment alone, or Segment and Last
    /// Segment chains of small segments of growing size (equal sizes meet deviation 1).
    Sgl,
    /// The driver's own choice under a policy, descriptors in its arena.
    Driver(SglPolicy),
}

impl Layout {
    fn pick(rng: &mut XorShift) -> Layout {
        match rng.below(8) {
            0..=2 => Layout::Prp,
            3..=5 => Layout::Sgl,
            6 => Layout::Driver(SglPolicy::LINUX),
            _ => Layout::Driver(SglPolicy::SmallestFootprint),
        }
    }

    fn pieces(self, rng: &mut XorShift, base: u64, ps: PageSize, len: u64) -> Vec<Extent> {
        let prp_shaped = match self {
            Layout::Prp => true,
            Layout::Sgl => false,
            Layout::Driver(_) => rng.below(2) == 0,
        };
        if prp_shaped {
            prp_shaped_pieces(rng, base, ps, len)
        } else {
            byte_pieces(rng, base, len)
        }
    }
}

/// Pieces PRPs can carry: the first from a random dword in its page to the end of it (or of a
/// later page), every later one from a page boundary; a page or two of gap between them.
fn prp_shaped_pieces(rng: &mut XorShift, base: u64, ps: PageSize, len: u64) -> Vec<Extent> {
    let p = ps.bytes();
    let mut at = base + rng.below(p / 4) * 4;
    let mut left = len;
    let mut out = Vec::new();
    while left > 0 {
        let n = (p - ps.offset_of(at) + rng.below(3) * p).min(left);
        out.push(Extent::new(at, n));
        left -= n;
        at = ps.page_base(at + n - 1) + (2 + rng.below(2)) * p;
    }
    out
}

/// 1-8 pieces of random lengths at random byte addresses, with gaps of 1 byte to 4 KiB.
fn byte_pieces(rng: &mut XorShift, base: u64, len: u64) -> Vec<Extent> {
    let mut cuts: Vec<u64> = (1..1 + rng.below(8.min(len)))
        .map(|_| 1 + rng.below(len - 1))
        .collect();
    cuts.extend([0, len]);
    cuts.sort_unstable();
    cuts.dedup();
    let mut at = base + rng.below(4096);
    cuts.windows(2)
        .map(|w| {
            let piece = Extent::new(at, w[1] - w[0]);
            at += piece.len + 1 + rng.below(4096);
            piece
        })
        .collect()
}

/// Run one valid Read or Write of `pieces` on both, laid out as `layout` says.
fn valid_transfer(
    twin: &mut Twin,
    rng: &mut XorShift,
    what: &str,
    layout: Layout,
    direction: Direction,
    lba: u64,
    pieces: &[Extent],
) -> &'static str {
    let ctrl = *twin.mock.controller();
    let len: u64 = pieces.iter().map(|e| e.len).sum();
    let mut sqe = io_sqe(direction, lba, len / BLOCK);
    let kind = match layout {
        Layout::Prp => {
            let slots = ctrl.page_size.bytes() / 8;
            let slot = match rng.below(3) {
                0 => 0,
                1 => rng.below(slots),
                _ => slots - 1 - rng.below(16),
            };
            let list = DESCRIPTOR_REGION.addr + slot * 8;
            match place_prp(twin, &ctrl, &mut sqe, pieces, list).expect("PRPs") {
                0 => "PRP1 and PRP2 alone",
                1 => "a PRP list",
                _ => "chained PRP lists",
            }
        }
        Layout::Sgl => {
            let smallest = 2 + rng.below(7) as usize;
            let capacities: Vec<usize> = (smallest..smallest + 16).collect();
            let first = DESCRIPTOR_REGION.addr + rng.below(256) * 16;
            let places = segment_places(first, &capacities, rng.below(4) * 16);
            let data: Vec<Piece> = pieces.iter().map(|e| Piece::Data(*e)).collect();
            match place_sgl(twin, &ctrl, &mut sqe, direction, &data, &places).expect("an SGL") {
                0 => "an SGL Data Block in the command",
                1 => "an SGL Last Segment",
                _ => "SGL Segment chains",
            }
        }
        Layout::Driver(policy) => {
            let (q, m, t) = (
                twin.qemu.io(direction, lba, pieces, policy),
                twin.mock.io(direction, lba, pieces, policy),
                twin.qemu_mock.io(direction, lba, pieces, policy),
            );
            twin.commands += 1;
            if t != q {
                twin.problem(format!(
                    "{what}: driver's {policy:?}: QEMU {q:?}, QEMU's mock {t:?}"
                ));
            }
            match (q, m) {
                (Ok(q), Ok(m)) if q == m && q.0.is_success() => {}
                (q, m) => twin.problem(format!(
                    "{what}: driver's {policy:?}: QEMU {q:?}, mock {m:?}"
                )),
            }
            return "the driver's own choice";
        }
    };
    twin.exec(what, 1, sqe, Expect::succeeds());
    kind
}

/// Random data written through one layout and read back through another, at random blocks:
/// the namespaces must hold it, the read buffers must hold it, and nothing around them may
/// change, on both. Counts the commands of each layout kind into `kinds`.
fn valid_io(
    twin: &mut Twin,
    rng: &mut XorShift,
    cases: u32,
    kinds: &mut BTreeMap<&'static str, u64>,
) {
    let ps = twin.mock.controller().page_size;
    let max_blocks = twin.mock.controller().max_transfer.bytes().expect("MDTS") / BLOCK;
    for case in 0..cases {
        let blocks = match rng.below(8) {
            0 => max_blocks,
            1 => 1 + rng.below(max_blocks),
            _ => 1 + rng.below(32),
        };
        let lba = rng.below(NAMESPACE_BLOCKS - blocks + 1);
        let len = blocks * BLOCK;
        let (write, read) = (Layout::pick(rng), Layout::pick(rng));
        let what = format!("{ps} io {case}: write {write:?}, {blocks} blocks at {lba}");
        let pieces = write.pieces(rng, WRITE_REGION.addr, ps, len);
        let data = rng.bytes(len as usize);
        scatter(twin, &pieces, &data);
        let kind = valid_transfer(twin, rng, &what, write, Direction::Write, lba, &pieces);
        *kinds.entry(kind).or_default() += 1;
        if twin.same_blocks(&what, lba, blocks) != data {
            twin.problem(format!("{what}: the namespace does not hold the data"));
        }

        let what = format!("{ps} io {case}: read {read:?}, {blocks} blocks at {lba}");
        let pieces = read.pieces(rng, READ_REGION.addr, ps, len);
        let start = pieces.iter().map(|e| e.addr).min().expect("pieces") - 64;
        let end = pieces.iter().map(|e| e.addr + e.len).max().expect("pieces") + 64;
        let around = Extent::new(start, end - start);
        let before = rng.bytes(around.len as usize);
        scatter(twin, &[around], &before);
        let kind = valid_transfer(twin, rng, &what, read, Direction::Read, lba, &pieces);
        *kinds.entry(kind).or_default() += 1;
        let expected = after_read(around, &before, &pieces, &data);
        if twin.same_memory(&what, &[around]) != expected {
            twin.problem(format!(
                "{what}: the read buffers (or the bytes around them) are wrong"
            ));
        }
    }
}

/// Data pages the probes use (4 KiB apart, past the random streams' buffers).
fn data_page(direction: Direction, k: u64) -> u64 {
    let region = match direction {
        Direction::Write => WRITE_REGION,
        Direction::Read => READ_REGION,
    };
    region.addr + region.len - 0x10_0000 + k * 0x1000
}

/// Segments and lists the probes write by hand.
fn segment_addr(k: u64) -> u64 {
    DESCRIPTOR_REGION.addr + DESCRIPTOR_REGION.len - 0x10_0000 + k * 0x1000
}

fn data(addr: u64, len: u32) -> SglDescriptor {
    SglDescriptor::new(addr, len, T::DataBlock, SglSubtype::Address)
}

fn pointer(kind: T, segment: u64, descriptors: u32) -> SglDescriptor {
    SglDescriptor::new(segment, descriptors * 16, kind, SglSubtype::Address)
}

fn put_segment(twin: &mut Twin, addr: u64, descriptors: &[SglDescriptor]) {
    let bytes: Vec<u8> = descriptors.iter().flat_map(|d| d.to_bytes()).collect();
    twin.write(addr, &bytes).expect("host memory");
}

fn put_list(twin: &mut Twin, addr: u64, entries: &[u64]) {
    let bytes: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
    twin.write(addr, &bytes).expect("host memory");
}

fn with_sgl1(sqe: &mut SubmissionEntry, sgl1: SglDescriptor) {
    sqe.set_psdt(Psdt::Sgl);
    sqe.set_sgl1(sgl1);
}

/// A command whose data pointer sits on a rule's edge or breaks it.
struct Probe {
    name: &'static str,
    direction: Direction,
    blocks: u64,
    expect: Expect,
    /// Where one side completes a write the other refuses: the host pieces whose bytes it
    /// must have stored (the other side stores nothing).
    moved: fn() -> Vec<Extent>,
    build: fn(&mut Twin, &mut SubmissionEntry),
}

fn w(k: u64) -> u64 {
    data_page(Direction::Write, k)
}

fn r(k: u64) -> u64 {
    data_page(Direction::Read, k)
}

/// Data Blocks of these lengths in the write pages 0, 1, 2, …
fn pieces_of(lengths: &[u32]) -> Vec<Extent> {
    (0..)
        .zip(lengths)
        .map(|(k, &len)| Extent::new(w(k), u64::from(len)))
        .collect()
}

fn probes() -> Vec<Probe> {
    use Direction::{Read, Write};
    let invalid_segment = Status::INVALID_SGL_SEGMENT_DESCRIPTOR;
    let type_invalid = Status::SGL_DESCRIPTOR_TYPE_INVALID;
    let prp_offset = Status::PRP_OFFSET_INVALID;
    let length_invalid = Status::DATA_SGL_LENGTH_INVALID;
    let transfer_error = Status::DATA_TRANSFER_ERROR;
    let dnr = |s: Status| s.with_dnr(true);
    let probe = |name, direction, blocks, expect, build| Probe {
        name,
        direction,
        blocks,
        expect,
        moved: Vec::new,
        build,
    };
    let first_page = || vec![Extent::new(w(0), 512)];
    vec![
        Probe {
            moved: || pieces_of(&[100, 100, 100, 212]),
            ..probe(
                "sgl-equal-segments-chain",
                Write,
                1,
                Expect::succeeds().qemu("sgl-equal-segments-chain", dnr(invalid_segment)),
                |twin, sqe| {
                    let ctrl = *twin.mock.controller();
                    let pieces: Vec<Piece> = pieces_of(&[100, 100, 100, 212])
                        .into_iter()
                        .map(Piece::Data)
                        .collect();
                    let places = segment_places(segment_addr(0), &[2, 2, 2], 0);
                    let used = place_sgl(twin, &ctrl, sqe, Write, &pieces, &places)
                        .expect("a valid chain");
                    assert_eq!(
                        used, 3,
                        "Segment, then Last Segment, then the final segment"
                    );
                },
            )
        },
        Probe {
            moved: || pieces_of(&[100, 100, 100, 212]),
            ..probe(
                "sgl-pointer-after-last-segment",
                Write,
                1,
                Expect::fails(invalid_segment)
                    .qemu("sgl-pointer-after-last-segment", Status::SUCCESS),
                |twin, sqe| {
                    let (s0, s1, s2) = (segment_addr(0), segment_addr(1), segment_addr(2));
                    put_segment(twin, s0, &[data(w(0), 100), pointer(T::LastSegment, s1, 3)]);
                    put_segment(
                        twin,
                        s1,
                        &[data(w(1), 100), data(w(2), 100), pointer(T::Segment, s2, 1)],
                    );
                    put_segment(twin, s2, &[data(w(3), 212)]);
                    with_sgl1(sqe, pointer(T::Segment, s0, 2));
                },
            )
        },
        Probe {
            moved: || vec![Extent::new(w(0) + 2, 512)],
            ..probe(
                "prp1-not-dword-aligned",
                Write,
                1,
                Expect::fails(prp_offset).qemu("prp1-not-dword-aligned", Status::SUCCESS),
                |_, sqe| sqe.set_prp1(w(0) + 2),
            )
        },
        probe(
            "prp2-data-page-with-offset",
            Write,
            9,
            Expect::fails(prp_offset),
            |_, sqe| {
                sqe.set_prp1(w(0));
                sqe.set_prp2(w(1) + 0x100);
            },
        ),
        probe(
            "prp-list-entry-with-offset",
            Write,
            24,
            Expect::fails(prp_offset),
            |twin, sqe| {
                put_list(twin, segment_addr(0), &[w(1) + 0x200, w(2)]);
                sqe.set_prp1(w(0));
                sqe.set_prp2(segment_addr(0));
            },
        ),
        Probe {
            moved: || vec![Extent::new(w(0), 0x3000)],
            ..probe(
                "prp-list-pointer-not-qword-aligned",
                Write,
                24,
                Expect::fails(prp_offset)
                    .qemu("prp-list-pointer-not-qword-aligned", Status::SUCCESS),
                |twin, sqe| {
                    put_list(twin, segment_addr(0) + 4, &[w(1), w(2)]);
                    sqe.set_prp1(w(0));
                    sqe.set_prp2(segment_addr(0) + 4);
                },
            )
        },
        probe(
            "sgl-shorter-than-transfer",
            Write,
            1,
            Expect::fails(length_invalid),
            |_, sqe| with_sgl1(sqe, data(w(0), 511)),
        ),
        Probe {
            moved: first_page,
            ..probe(
                "sgl-longer-than-transfer",
                Write,
                1,
                Expect::fails(length_invalid).qemu("sgl-longer-than-transfer", Status::SUCCESS),
                |_, sqe| with_sgl1(sqe, data(w(0), 1024)),
            )
        },
        probe(
            "segment-length-not-multiple-of-16",
            Write,
            1,
            Expect::fails(invalid_segment),
            |twin, sqe| {
                put_segment(twin, segment_addr(0), &[data(w(0), 512)]);
                let mut sgl1 = pointer(T::LastSegment, segment_addr(0), 1);
                sgl1.set_length(24);
                with_sgl1(sqe, sgl1);
            },
        ),
        probe(
            "segment-length-zero",
            Write,
            1,
            Expect::fails(invalid_segment),
            |twin, sqe| {
                put_segment(twin, segment_addr(0), &[data(w(0), 512)]);
                with_sgl1(sqe, pointer(T::LastSegment, segment_addr(0), 0));
            },
        ),
        Probe {
            moved: first_page,
            ..probe(
                "segment-not-qword-aligned",
                Write,
                1,
                Expect::fails(invalid_segment).qemu("segment-not-qword-aligned", Status::SUCCESS),
                |twin, sqe| {
                    put_segment(twin, segment_addr(0) + 4, &[data(w(0), 512)]);
                    with_sgl1(sqe, pointer(T::LastSegment, segment_addr(0) + 4, 1));
                },
            )
        },
        probe(
            "segment-pointer-not-last-in-segment",
            Write,
            1,
            Expect::fails(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS),
            |twin, sqe| {
                put_segment(
                    twin,
                    segment_addr(0),
                    &[pointer(T::LastSegment, segment_addr(1), 1), data(w(0), 256)],
                );
                put_segment(twin, segment_addr(1), &[data(w(1), 256)]);
                with_sgl1(sqe, pointer(T::Segment, segment_addr(0), 2));
            },
        ),
        probe(
            "keyed-data-block-over-pcie",
            Write,
            1,
            Expect::fails(type_invalid).qemu("keyed-data-block-over-pcie", dnr(invalid_segment)),
            |_, sqe| {
                with_sgl1(
                    sqe,
                    SglDescriptor::new(w(0), 512, T::KeyedDataBlock, SglSubtype::Address),
                )
            },
        ),
        probe(
            "reserved-type-in-sgl1",
            Write,
            1,
            Expect::fails(type_invalid).qemu("reserved-type-in-sgl1", dnr(invalid_segment)),
            |_, sqe| {
                with_sgl1(
                    sqe,
                    SglDescriptor::new(w(0), 512, T::Reserved(6), SglSubtype::Address),
                )
            },
        ),
        probe(
            "bit-bucket-not-advertised",
            Read,
            1,
            Expect::fails(type_invalid).qemu("bit-bucket-not-advertised", dnr(invalid_segment)),
            |twin, sqe| {
                let bucket = SglDescriptor::new(0, 112, T::BitBucket, SglSubtype::Address);
                put_segment(twin, segment_addr(0), &[data(r(0), 400), bucket]);
                with_sgl1(sqe, pointer(T::LastSegment, segment_addr(0), 2));
            },
        ),
        Probe {
            moved: first_page,
            ..probe(
                "data-block-with-offset-subtype",
                Write,
                1,
                Expect::fails(type_invalid).qemu("data-block-with-offset-subtype", Status::SUCCESS),
                |_, sqe| {
                    with_sgl1(
                        sqe,
                        SglDescriptor::new(w(0), 512, T::DataBlock, SglSubtype::Offset),
                    )
                },
            )
        },
        probe(
            "zero-length-data-block-in-segment",
            Write,
            1,
            Expect::succeeds(),
            |twin, sqe| {
                put_segment(
                    twin,
                    segment_addr(0),
                    &[data(w(0), 200), data(w(1), 0), data(w(2), 312)],
                );
                with_sgl1(sqe, pointer(T::LastSegment, segment_addr(0), 3));
            },
        ),
        probe(
            "write-from-a-page-outside-ram",
            Write,
            1,
            Expect::fails(transfer_error).qemu("data-dma-outside-ram-succeeds", Status::SUCCESS),
            |_, sqe| sqe.set_prp1(UNREACHABLE),
        ),
        probe(
            "read-into-a-page-outside-ram",
            Read,
            16,
            Expect::fails(transfer_error).qemu("data-dma-outside-ram-succeeds", Status::SUCCESS),
            |_, sqe| {
                sqe.set_prp1(r(0));
                sqe.set_prp2(UNREACHABLE);
            },
        ),
        probe(
            "sgl-data-block-outside-ram",
            Write,
            1,
            Expect::fails(transfer_error).qemu("data-dma-outside-ram-succeeds", Status::SUCCESS),
            |_, sqe| with_sgl1(sqe, data(UNREACHABLE, 512)),
        ),
        probe(
            "prp-list-outside-ram",
            Write,
            24,
            Expect::fails(transfer_error),
            |_, sqe| {
                sqe.set_prp1(w(0));
                sqe.set_prp2(UNREACHABLE);
            },
        ),
        probe(
            "sgl-segment-outside-ram",
            Write,
            1,
            Expect::fails(transfer_error),
            |_, sqe| with_sgl1(sqe, pointer(T::LastSegment, UNREACHABLE, 1)),
        ),
        probe(
            "psdt-reserved",
            Write,
            1,
            Expect::fails(Status::INVALID_FIELD),
            |_, sqe| {
                sqe.set_prp1(w(0));
                sqe.set_psdt(Psdt::Reserved);
            },
        ),
        Probe {
            moved: first_page,
            ..probe(
                "psdt-10b-without-msds",
                Write,
                1,
                Expect::fails(Status::INVALID_FIELD).qemu("psdt-10b-without-msds", Status::SUCCESS),
                |_, sqe| {
                    with_sgl1(sqe, data(w(0), 512));
                    sqe.set_psdt(Psdt::SglMetadataSgl);
                },
            )
        },
        probe(
            "fused-first-not-supported",
            Write,
            1,
            Expect::fails(Status::INVALID_FIELD)
                .qemu("fused-refused-without-dnr", Status::INVALID_FIELD),
            |_, sqe| {
                sqe.set_prp1(w(0));
                sqe.set_fuse(Fuse::FirstOfFused);
            },
        ),
    ]
}

/// Each probe on both: statuses, and what it did to the namespace (writes) or the read
/// buffers (reads). Where one side completes a write the other refuses, its namespace must
/// hold exactly the bytes the probe names and the other's nothing; Write Zeroes on both
/// clears the blocks after each write.
fn data_pointer_probes(twin: &mut Twin, rng: &mut XorShift) {
    let zero = |twin: &mut Twin| {
        twin.exec(
            "write zeroes over the probe blocks",
            1,
            write_zeroes(PROBE_LBA, 32),
            Expect::succeeds(),
        );
    };
    zero(twin);
    for probe in probes() {
        let pages = Extent::new(data_page(probe.direction, 0), 32 * 0x1000);
        let fill = rng.bytes(pages.len as usize);
        scatter(twin, &[pages], &fill);
        let mut sqe = io_sqe(probe.direction, PROBE_LBA, probe.blocks);
        (probe.build)(twin, &mut sqe);
        let [q, m] = twin.exec(probe.name, 1, sqe, probe.expect);
        match probe.direction {
            Direction::Write => {
                let (image, ns) = twin.blocks(PROBE_LBA, probe.blocks);
                let (q_ok, m_ok) = (q.status().is_success(), m.status().is_success());
                if q_ok != m_ok {
                    let mut expected = gather(twin.mock.bus(), &(probe.moved)());
                    expected.resize((probe.blocks * BLOCK) as usize, 0);
                    let (stored, untouched) = if q_ok { (&image, &ns) } else { (&ns, &image) };
                    if *stored != expected || untouched.iter().any(|&b| b != 0) {
                        let side = if q_ok { "QEMU" } else { "the mock" };
                        twin.problem(format!(
                            "{}: {side} should have stored the probe's bytes, the other nothing",
                            probe.name
                        ));
                    }
                } else if image != ns {
                    twin.problem(format!("{}: the namespaces differ", probe.name));
                }
                zero(twin);
            }
            Direction::Read if q.status().is_success() == m.status().is_success() => {
                twin.same_memory(probe.name, &[pages]);
            }
            Direction::Read => {
                // One side refused: its read pages must be as they were.
                let qemu = gather(twin.qemu.bus(), &[pages]);
                twin.same_as_qemu(probe.name, &[pages], &qemu);
                let refused = if m.status().is_success() {
                    qemu
                } else {
                    gather(twin.mock.bus(), &[pages])
                };
                if refused != fill {
                    twin.problem(format!("{}: a refused read wrote host memory", probe.name));
                }
            }
        }
    }
}

/// Namespace identifiers, LBA ranges, MDTS, opcodes: the checks a command meets before its
/// data pointer.
fn namespaces_ranges_and_limits(twin: &mut Twin) {
    let max_blocks = twin.mock.controller().max_transfer.bytes().expect("MDTS") / BLOCK;
    let last = NAMESPACE_BLOCKS - 1;
    let read_buf = READ_REGION.addr;
    let write_buf = WRITE_REGION.addr;
    let read = |twin: &mut Twin, nsid: u32, lba: u64, blocks: u64| {
        let sqe = contiguous_io(twin, Direction::Read, lba, blocks, read_buf);
        sqe.with_nsid(nsid)
    };
    let invalid_ns = Expect::fails(Status::INVALID_NAMESPACE_OR_FORMAT);
    let range = Expect::fails(Status::LBA_OUT_OF_RANGE);
    let field = Expect::fails(Status::INVALID_FIELD);
    let flush = |nsid| SubmissionEntry::new(Opcode::NVM_FLUSH, 0).with_nsid(nsid);
    let around = Extent::new(read_buf - 4096, (max_blocks + 16) * BLOCK);
    let marker = vec![0x5a; around.len as usize];
    scatter(twin, &[around], &marker);

    let cases: Vec<(&str, SubmissionEntry, Expect)> = vec![
        ("read namespace 0", read(twin, 0, 0, 1), invalid_ns),
        (
            "read namespace 1000h (above NN)",
            read(twin, 0x1000, 0, 1),
            invalid_ns,
        ),
        (
            "read namespace FFFFFFFFh (broadcast)",
            read(twin, u32::MAX, 0, 1),
            Expect::fails(Status::INVALID_FIELD),
        ),
        (
            "unknown I/O opcode 7Ch, namespace FFFFFFFFh",
            SubmissionEntry::new(Opcode(0x7c), 0).with_nsid(u32::MAX),
            Expect::fails(Status::INVALID_OPCODE).qemu(
                "broadcast-nsid-before-opcode",
                Status::INVALID_FIELD.with_dnr(true),
            ),
        ),
        (
            "flush namespace 1 with PSDT 11b",
            flush(1).with_psdt(Psdt::Reserved),
            Expect::fails(Status::INVALID_FIELD)
                .qemu("psdt-unchecked-without-data", Status::SUCCESS),
        ),
        (
            "write namespace 0",
            contiguous_io(twin, Direction::Write, 0, 1, write_buf).with_nsid(0),
            invalid_ns,
        ),
        ("flush namespace 0", flush(0), invalid_ns),
        ("flush namespace 1000h", flush(0x1000), invalid_ns),
        (
            "flush namespace FFFFFFFFh (all)",
            flush(u32::MAX),
            Expect::succeeds(),
        ),
        (
            "read the block past the end",
            read(twin, 1, NAMESPACE_BLOCKS, 1),
            range,
        ),
        (
            "read the last block and one more",
            read(twin, 1, last, 2),
            range,
        ),
        (
            "read 2 blocks from LBA 2^64 - 1 (wraps)",
            read(twin, 1, u64::MAX, 2),
            range,
        ),
        ("write zeroes over the end", write_zeroes(last, 2), range),
        (
            "read MDTS + 1 blocks",
            read(twin, 1, 0, max_blocks + 1),
            field,
        ),
        (
            "write zeroes MDTS + 1 blocks (no data)",
            write_zeroes(0, max_blocks + 1),
            Expect::succeeds(),
        ),
        (
            "unknown I/O opcode 7Fh",
            SubmissionEntry::new(Opcode(0x7f), 0).with_nsid(1),
            Expect::fails(Status::INVALID_OPCODE),
        ),
    ];
    for (what, sqe, expect) in cases {
        twin.exec(what, 1, sqe, expect);
        twin.same_memory(what, &[around]);
    }
    // Every refusal above left the buffer alone on both.
    if twin.same_memory("after the refusals", &[around]) != marker {
        twin.problem("a refused read wrote host memory".into());
    }

    // MDTS + 1 blocks with an SGL: the same refusal.
    let mut sqe = io_sqe(Direction::Write, 0, max_blocks + 1);
    with_sgl1(&mut sqe, data(write_buf, ((max_blocks + 1) * BLOCK) as u32));
    twin.exec("write MDTS + 1 blocks through an SGL", 1, sqe, field);

    // Valid reads at the edges, compared byte for byte.
    let sqe = read(twin, 1, last, 1);
    twin.exec("read the last block", 1, sqe, Expect::succeeds());
    let sqe = read(twin, 1, 0, max_blocks);
    twin.exec("read MDTS blocks", 1, sqe, Expect::succeeds());
    twin.same_memory("read MDTS blocks", &[around]);

    // Two faults at once: no order is prescribed, so either status is right.
    let sqe = read(twin, 1, last, max_blocks + 1);
    twin.exec(
        "read MDTS + 1 blocks from the last block",
        1,
        sqe,
        range.qemu(
            "mdts-checked-before-range",
            Status::INVALID_FIELD.with_dnr(true),
        ),
    );
}

/// Queue creation and deletion, valid and not: identifiers, sizes, contiguity, vectors,
/// completion queues, deletion order. Queue 1 exists (the driver's); 2 is created and deleted
/// here by hand, so the drivers know nothing of it.
fn queues(twin: &mut Twin) {
    let page = twin.mock.controller().page_size.bytes();
    let cq_mem = twin.alloc((2048 * 16u64).div_ceil(page));
    let sq_mem = twin.alloc((2048 * 64u64).div_ceil(page));
    let (cq, sq) = (cq_mem.addr, sq_mem.addr);
    let qid = Status::INVALID_QUEUE_IDENTIFIER;
    let size = Status::INVALID_QUEUE_SIZE;
    let cq_invalid = Status::COMPLETION_QUEUE_INVALID;
    let delete = |opcode, qid: u16| {
        let mut sqe = admin(opcode, 0);
        DeleteIoQueue { qid }.write_to(&mut sqe);
        sqe
    };
    let del_sq = Opcode::ADMIN_DELETE_IO_SQ;
    let del_cq = Opcode::ADMIN_DELETE_IO_CQ;
    let pc = true;
    let delete_cq_invalid = Expect::fails(qid).qemu(
        "delete-cq-answers-completion-queue-invalid",
        cq_invalid.with_dnr(true),
    );
    let cases: Vec<(&str, SubmissionEntry, Expect)> = vec![
        ("create CQ 0", create_cq(0, 16, cq, pc), Expect::fails(qid)),
        (
            "create CQ 65 (64 allocated)",
            create_cq(65, 16, cq, pc),
            Expect::fails(qid),
        ),
        (
            "create CQ 1 (exists)",
            create_cq(1, 16, cq, pc),
            Expect::fails(qid),
        ),
        (
            "create CQ of 1 slot",
            create_cq(2, 1, cq, pc),
            Expect::fails(size),
        ),
        (
            "create CQ of MQES + 2 slots",
            create_cq(2, 2049, cq, pc),
            Expect::fails(size),
        ),
        (
            "create CQ, not contiguous (CAP.CQR)",
            create_cq(2, 16, cq, false),
            Expect::fails(Status::INVALID_FIELD),
        ),
        (
            "create CQ, base not page aligned",
            create_cq(2, 16, cq + 0x100, pc),
            Expect::fails(Status::PRP_OFFSET_INVALID),
        ),
        (
            "create CQ, interrupt vector 65",
            create_cq_with(
                CreateIoCq {
                    interrupts: true,
                    vector: 65,
                    ..CreateIoCq::polled(2, queue_size(16))
                },
                cq,
            ),
            Expect::fails(Status::INVALID_INTERRUPT_VECTOR),
        ),
        (
            "create CQ 2 of MQES + 1 slots",
            create_cq(2, 2048, cq, pc),
            Expect::succeeds(),
        ),
        (
            "create SQ 0",
            create_sq(0, 16, sq, 2, true),
            Expect::fails(qid),
        ),
        (
            "create SQ 65",
            create_sq(65, 16, sq, 2, true),
            Expect::fails(qid),
        ),
        (
            "create SQ 1 (exists)",
            create_sq(1, 16, sq, 2, true),
            Expect::fails(qid),
        ),
        (
            "create SQ for CQ 0",
            create_sq(2, 16, sq, 0, true),
            Expect::fails(cq_invalid),
        ),
        (
            "create SQ for CQ 9 (missing)",
            create_sq(2, 16, sq, 9, true),
            Expect::fails(cq_invalid),
        ),
        (
            "create SQ of 1 slot",
            create_sq(2, 1, sq, 2, true),
            Expect::fails(size),
        ),
        (
            "create SQ of MQES + 2 slots",
            create_sq(2, 2049, sq, 2, true),
            Expect::fails(size),
        ),
        (
            "create SQ, not contiguous (CAP.CQR)",
            create_sq(2, 16, sq, 2, false),
            Expect::fails(Status::INVALID_FIELD),
        ),
        (
            "create SQ, base not page aligned",
            create_sq(2, 16, sq + 0x100, 2, true),
            Expect::fails(Status::PRP_OFFSET_INVALID),
        ),
        (
            "create SQ 0 for CQ 0 (two faults)",
            create_sq(0, 16, sq, 0, true),
            Expect::fails(qid).qemu("completion-queue-checked-first", cq_invalid.with_dnr(true)),
        ),
        (
            "create SQ 2 of MQES + 1 slots",
            create_sq(2, 2048, sq, 2, true),
            Expect::succeeds(),
        ),
        (
            "delete CQ 2 while SQ 2 uses it",
            delete(del_cq, 2),
            Expect::fails(Status::INVALID_QUEUE_DELETION).qemu(
                "invalid-queue-deletion-without-dnr",
                Status::INVALID_QUEUE_DELETION,
            ),
        ),
        ("delete SQ 0", delete(del_sq, 0), Expect::fails(qid)),
        (
            "delete SQ 9 (missing)",
            delete(del_sq, 9),
            Expect::fails(qid),
        ),
        ("delete SQ 2", delete(del_sq, 2), Expect::succeeds()),
        ("delete SQ 2 again", delete(del_sq, 2), Expect::fails(qid)),
        ("delete CQ 0", delete(del_cq, 0), delete_cq_invalid),
        (
            "delete CQ 9 (missing)",
            delete(del_cq, 9),
            delete_cq_invalid,
        ),
        ("delete CQ 2", delete(del_cq, 2), Expect::succeeds()),
        ("delete CQ 2 again", delete(del_cq, 2), delete_cq_invalid),
        (
            "unknown admin opcode 7Fh",
            admin(Opcode(0x7f), 0),
            Expect::fails(Status::INVALID_OPCODE),
        ),
    ];
    for (what, sqe, expect) in cases {
        twin.exec(what, 0, sqe, expect);
    }
    twin.free(sq_mem);
    twin.free(cq_mem);

    // Through the drivers: a pair of the largest size, used, deleted; queue 1 still works.
    assert_eq!(
        twin.both("driver: create a pair of 2048 slots", |d| d
            .create_pair(2048)),
        2
    );
    let flush = SubmissionEntry::new(Opcode::NVM_FLUSH, 0).with_nsid(1);
    twin.exec("flush on queue 2", 2, flush, Expect::succeeds());
    twin.both("driver: delete pair 2", |d| d.delete_pair());
    twin.exec("flush on queue 1", 1, flush, Expect::succeeds());
}

/// Get Log Page: supported and unknown pages, offsets inside, at and past the end, misaligned,
/// lengths beyond MDTS. Log contents are each controller's own (counters, temperatures);
/// what is compared is the status and the completion, and for the Firmware Slot page its
/// meaning.
fn log_pages(twin: &mut Twin) {
    let page = twin.alloc(1);
    let buf = page.addr;
    let all = u32::MAX;
    let max = twin.mock.controller().max_transfer.bytes().expect("MDTS");
    let field = Expect::fails(Status::INVALID_FIELD);
    // An offset equal to the page's size is not greater than it: nothing to return, no error.
    let at_end = Expect::succeeds().qemu(
        "log-offset-at-page-end-refused",
        Status::INVALID_FIELD.with_dnr(true),
    );
    let cases: Vec<(&str, SubmissionEntry, Expect)> = vec![
        (
            "error log, its one entry",
            get_log(LID_ERROR_INFORMATION, 0, 64, 0, buf),
            Expect::succeeds(),
        ),
        (
            "error log, 4 entries' worth",
            get_log(LID_ERROR_INFORMATION, 0, 256, 0, buf),
            Expect::succeeds(),
        ),
        (
            "error log, offset = page size",
            get_log(LID_ERROR_INFORMATION, 0, 64, 64, buf),
            at_end,
        ),
        (
            "error log, offset past the page",
            get_log(LID_ERROR_INFORMATION, 0, 64, 128, buf),
            field,
        ),
        (
            "SMART, whole page",
            get_log(LID_SMART, all, 512, 0, buf),
            Expect::succeeds(),
        ),
        (
            "SMART, offset 4",
            get_log(LID_SMART, all, 8, 4, buf),
            Expect::succeeds(),
        ),
        (
            "SMART, last dword",
            get_log(LID_SMART, all, 4, 508, buf),
            Expect::succeeds(),
        ),
        (
            "SMART, offset = page size",
            get_log(LID_SMART, all, 4, 512, buf),
            at_end,
        ),
        (
            "SMART, offset past the page",
            get_log(LID_SMART, all, 4, 516, buf),
            field,
        ),
        (
            "SMART, offset not dword aligned",
            get_log(LID_SMART, all, 4, 2, buf),
            field,
        ),
        (
            "SMART, MDTS + 4 bytes",
            get_log(LID_SMART, all, max + 4, 0, buf),
            field,
        ),
        ("unknown log page 7Eh", get_log(0x7e, 0, 64, 0, buf), field),
    ];
    for (what, sqe, expect) in cases {
        twin.exec(what, 0, sqe, expect);
    }
    // Firmware Slot Information: slot 1 active (AFI bits 2:0), holding the revision Identify
    // Controller reports (FRS1).
    twin.exec(
        "firmware slot",
        0,
        get_log(LID_FIRMWARE_SLOT, 0, 512, 0, buf),
        Expect::succeeds(),
    );
    let log = Extent::new(buf, 512);
    let (q, m) = (
        gather(twin.qemu.bus(), &[log]),
        gather(twin.mock.bus(), &[log]),
    );
    twin.same_as_qemu("firmware slot", &[log], &q);
    let fr = |d: &IdentifyController| d.fr;
    let (q_fr, m_fr) = (twin.qemu.identify().map(fr), twin.mock.identify().map(fr));
    if m[0] & 0x7 != 1 || Some(&m[8..16]) != m_fr.as_ref().map(|f| &f[..]) {
        twin.problem("mock: the firmware slot log does not name slot 1 with Identify's FR".into());
    }
    // QEMU 7.2 fills FRS1 with "1.0" whatever its FR says.
    if q[0] & 0x7 == 1 && q[8..16] == *b"1.0     " && q_fr != Some(*b"1.0     ") {
        twin.seen_difference("firmware-slot-revision-not-fr");
    } else {
        twin.problem(format!(
            "QEMU: firmware slot log AFI {:#x}, FRS1 {:?}, FR {q_fr:?}",
            q[0],
            &q[8..16]
        ));
    }
    twin.free(page);
}

/// The (NIDT, NIDL) pairs of a Namespace Identification Descriptor list, up to its end.
fn descriptor_list(list: &[u8]) -> Vec<(u8, u8)> {
    let mut ids = Vec::new();
    let mut at = 0;
    while at + 4 <= list.len() && list[at + 1] != 0 {
        ids.push((list[at], list[at + 1]));
        at += 4 + usize::from(list[at + 1]);
    }
    ids
}

/// Whether a descriptor list names its namespace: an EUI64, NGUID or UUID of the right length,
/// and no such type with another length.
fn names_a_namespace(ids: &[(u8, u8)]) -> bool {
    let right = |id: &(u8, u8)| matches!(id, (1, 8) | (2, 16) | (3, 16));
    ids.iter().any(right) && ids.iter().all(|id| !matches!(id.0, 1..=3) || right(id))
}

/// Identify with each CNS value a 1.4 controller may be asked for, and namespace identifiers
/// that are valid, inactive, out of range or broadcast.
fn identify_values(twin: &mut Twin) {
    let invalid_ns = Expect::fails(Status::INVALID_NAMESPACE_OR_FORMAT);
    let field = Expect::fails(Status::INVALID_FIELD);
    let [q, m] = identify(
        twin,
        "identify namespace 1",
        CNS_NAMESPACE,
        1,
        Expect::succeeds(),
    );
    let fields = |bytes: &[u8]| {
        let ns = IdentifyNamespace::read_from_bytes(bytes).expect("4096 bytes");
        let format = ns.current_lba_format().expect("a format");
        (
            ns.nsze.get(),
            ns.ncap.get(),
            format.lba_size_bytes(),
            format.metadata_size(),
        )
    };
    if fields(&q) != fields(&m) {
        twin.problem(format!(
            "Identify Namespace (NSZE, NCAP, LBA size, MS): QEMU {:?}, mock {:?}",
            fields(&q),
            fields(&m)
        ));
    }
    let [q, m] = identify(
        twin,
        "active namespaces from 0",
        CNS_ACTIVE_NAMESPACE_LIST,
        0,
        Expect::succeeds(),
    );
    if q != m || q[..8] != [1, 0, 0, 0, 0, 0, 0, 0] {
        twin.problem("the active namespace list from 0 should hold namespace 1 alone".into());
    }
    let [q, m] = identify(
        twin,
        "active namespaces above 1",
        CNS_ACTIVE_NAMESPACE_LIST,
        1,
        Expect::succeeds(),
    );
    if q != m || q.iter().any(|&b| b != 0) {
        twin.problem("the active namespace list above 1 should be empty".into());
    }
    // Namespace Identification Descriptors: each side's own identifiers, in a list that must
    // hold at least one of EUI64 (NIDT 1h), NGUID (2h) or UUID (3h). QEMU 7.2 lists only the
    // Command Set Identifier (4h, one byte).
    let [q, m] = identify(
        twin,
        "namespace identification descriptors",
        0x03,
        1,
        Expect::succeeds(),
    );
    let (q, m) = (descriptor_list(&q), descriptor_list(&m));
    if !names_a_namespace(&m) {
        twin.problem(format!(
            "mock: namespace identification descriptors {m:?} name no namespace"
        ));
    }
    if q == [(4, 1)] {
        twin.seen_difference("namespace-descriptors-without-identifier");
    } else {
        twin.problem(format!(
            "QEMU: namespace identification descriptors {q:?}, pinned [(4, 1)]"
        ));
    }
    let cases: Vec<(&str, u8, u32, Expect)> = vec![
        (
            "namespace identification descriptors of namespace 1000h",
            0x03,
            0x1000,
            invalid_ns,
        ),
        ("identify namespace 0", CNS_NAMESPACE, 0, invalid_ns),
        (
            "identify namespace FFFFFFFFh",
            CNS_NAMESPACE,
            u32::MAX,
            invalid_ns,
        ),
        (
            "identify namespace 1000h (above NN)",
            CNS_NAMESPACE,
            0x1000,
            invalid_ns,
        ),
        (
            "active namespaces above FFFFFFFEh",
            CNS_ACTIVE_NAMESPACE_LIST,
            0xffff_fffe,
            invalid_ns,
        ),
        ("CNS 04h (NVM Set list, not supported)", 0x04, 0, field),
        ("CNS FFh (reserved)", 0xff, 0, field),
    ];
    for (what, cns, nsid, expect) in cases {
        identify(twin, what, cns, nsid, expect);
    }
    // Over PCIe, admin commands take PRPs only: an SGL is Invalid Field in Command.
    let page = twin.alloc(1);
    let mut sqe = identify_sqe(CNS_CONTROLLER, 0);
    with_sgl1(&mut sqe, data(page.addr, 4096));
    twin.exec(
        "identify controller through an SGL",
        0,
        sqe,
        Expect::fails(Status::INVALID_FIELD),
    );
    twin.free(page);
}

/// The same limits with 64 KiB memory pages: MDTS still counts CAP.MPSMIN (4 KiB) pages.
fn large_pages(twin: &mut Twin, rng: &mut XorShift) {
    let max_blocks = twin.mock.controller().max_transfer.bytes().expect("MDTS") / BLOCK;
    let buf = WRITE_REGION.addr;
    let blocks = max_blocks + 1;
    twin.exec(
        "write zeroes over the target blocks",
        1,
        write_zeroes(PROBE_LBA, blocks),
        Expect::succeeds(),
    );
    let sqe = contiguous_io(twin, Direction::Write, PROBE_LBA, blocks, buf);
    let data = rng.bytes((blocks * BLOCK) as usize);
    scatter(twin, &[Extent::new(buf, blocks * BLOCK)], &data);
    twin.exec(
        "64 KiB pages: write MDTS + 1 blocks",
        1,
        sqe,
        Expect::fails(Status::INVALID_FIELD).qemu("mdts-in-cc-page-units", Status::SUCCESS),
    );
    let (image, ns) = twin.blocks(PROBE_LBA, blocks);
    if ns.iter().any(|&b| b != 0) || (twin.count("mdts-in-cc-page-units") > 0 && image != data) {
        twin.problem(
            "64 KiB pages, MDTS + 1: QEMU should have stored the data, the mock nothing".into(),
        );
    }
    twin.exec(
        "write zeroes over them again",
        1,
        write_zeroes(PROBE_LBA, blocks),
        Expect::succeeds(),
    );
    twin.same_blocks("64 KiB pages, after write zeroes", PROBE_LBA, blocks);
}

/// The streams, in order, on one QEMU and one mock (each stream builds on the state the ones
/// before it left), each reported as a test of its own: it fails with the differences it
/// met, so a failure names its stream. A custom harness (`harness = false` in Cargo.toml),
/// since the standard one runs tests apart and in any order.
fn main() -> std::process::ExitCode {
    let Some(qemu) = Qemu::start("differential", "") else {
        println!("test result: ok. 0 passed; 0 failed; 1 ignored (no QEMU)");
        return std::process::ExitCode::SUCCESS;
    };
    let config = DriverConfig::new(ARENA);
    let mut twin = Twin::start(qemu, config);
    let seed = std::env::var("NVME_DMA_DIFFERENTIAL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x6e76_6d65_2d64_6d61);
    let cases = std::env::var("NVME_DMA_QEMU_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    eprintln!(
        "seed {seed:#x} (NVME_DMA_DIFFERENTIAL_SEED), {cases} I/O cases (NVME_DMA_QEMU_CASES)"
    );
    let mut rng = XorShift(seed);
    let mut kinds = BTreeMap::new();
    let mut streams = Streams::default();

    streams.run("bring_up", &mut twin, bring_up);
    streams.run("identify_values", &mut twin, identify_values);
    streams.run("log_pages", &mut twin, log_pages);
    streams.run("queues", &mut twin, queues);
    streams.run(
        "namespaces_ranges_and_limits",
        &mut twin,
        namespaces_ranges_and_limits,
    );
    streams.run("data_pointer_probes", &mut twin, |t| {
        data_pointer_probes(t, &mut rng)
    });
    streams.run("valid_io", &mut twin, |t| {
        valid_io(t, &mut rng, cases, &mut kinds)
    });
    if !streams.stopped {
        twin = twin.restart(PageSize::from_mps(4).expect("64 KiB"));
    }
    streams.run("64k_pages/bring_up", &mut twin, bring_up);
    streams.run("64k_pages/large_pages", &mut twin, |t| {
        large_pages(t, &mut rng)
    });
    streams.run("64k_pages/valid_io", &mut twin, |t| {
        valid_io(t, &mut rng, cases / 4, &mut kinds)
    });
    streams.run("every_layout_and_difference_met", &mut twin, |t| {
        every_layout_and_difference_met(t, &kinds)
    });
    eprintln!(
        "differential: {} commands on each controller",
        twin.commands
    );
    streams.finish()
}

/// The end of the run: the namespaces agree whole, the mock saw no host error, and the
/// generator reached every layout kind and every named difference.
fn every_layout_and_difference_met(twin: &mut Twin, kinds: &BTreeMap<&'static str, u64>) {
    let image = twin.same_blocks("the whole namespace at the end", 0, NAMESPACE_BLOCKS);
    assert_eq!(image.len() as u64, IMAGE_BYTES);
    let events = twin.mock.bus().controller.events().to_vec();
    assert!(events.is_empty(), "the mock saw host errors: {events:?}");
    eprintln!("valid reads and writes by layout: {kinds:?}");
    for kind in [
        "PRP1 and PRP2 alone",
        "a PRP list",
        "chained PRP lists",
        "an SGL Data Block in the command",
        "an SGL Last Segment",
        "SGL Segment chains",
        "the driver's own choice",
    ] {
        if !kinds.contains_key(kind) {
            twin.problems.push(format!("no valid command used {kind}"));
        }
    }
    for (name, kind, deviation) in DIFFERENCES {
        if !Profile::QEMU_7_2.has(*deviation) {
            twin.problems.push(format!(
                "{name}: QEMU's profile lacks {deviation}, the switch that explains it"
            ));
        }
        eprintln!("  {name:40} {kind:24} met {} times", twin.count(name));
        if twin.count(name) == 0 {
            twin.problems.push(format!(
                "{name} ({kind}) was met by no command: did QEMU change?"
            ));
        }
    }
}

/// The streams' results, printed as the standard test harness prints its tests.
#[derive(Default)]
struct Streams {
    passed: usize,
    failed: Vec<String>,
    /// A stream panicked: the controllers' state is unknown, so the rest do not run.
    stopped: bool,
}

impl Streams {
    /// Run `stream`; it fails with the problems it added to `twin`, or with its panic.
    fn run(&mut self, name: &str, twin: &mut Twin, stream: impl FnOnce(&mut Twin)) {
        if self.stopped {
            println!("test {name} ... not run (an earlier stream panicked)");
            self.failed.push(format!("{name}: not run"));
            return;
        }
        let before = twin.problems.len();
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stream(twin)));
        let problems = twin.problems.get(before..).unwrap_or_default().to_vec();
        match run {
            Ok(()) if problems.is_empty() => {
                println!("test {name} ... ok");
                self.passed += 1;
            }
            Ok(()) => {
                println!("test {name} ... FAILED");
                for problem in &problems {
                    println!("    {problem}");
                }
                self.failed.push(format!("{name}: {}", problems.join("; ")));
            }
            Err(_) => {
                println!("test {name} ... FAILED (panicked; the message is above)");
                self.failed.push(format!("{name}: panicked"));
                self.stopped = true;
            }
        }
    }

    /// The summary line, and the exit code: failure when any stream failed.
    fn finish(self) -> std::process::ExitCode {
        let failed = self.failed.len();
        if failed > 0 {
            println!("\nfailures:");
            for failure in &self.failed {
                println!("    {failure}");
            }
        }
        let verdict = if failed == 0 { "ok" } else { "FAILED" };
        println!(
            "\ntest result: {verdict}. {} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out",
            self.passed
        );
        if failed == 0 {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        }
    }
}
