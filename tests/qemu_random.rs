//! The randomized differential: seeded streams of commands, run on QEMU's NVMe controller
//! and on the mock controller twice, with QEMU's profile (which must answer exactly as QEMU)
//! and strict (whose every disagreement with QEMU must be a named deviation).
//!
//! The I/O commands are the fuzzing kit's cases (`nvme_dma::fuzzkit`): valid layouts of every
//! shape the builders make, near-valid ones with one rule broken, and hostile ones (loops,
//! wraps, bytes flipped near valid descriptors). Between them come admin commands (Identify,
//! Get Log Page, Get Features, unknown opcodes) and queue pairs created and deleted.
//!
//! Compared per command: the completion (status with SCT, SC and DNR, SQ head, SQ id, CID,
//! phase, DW0), every byte of host memory the command's case laid out (a read may write only
//! its buffers), and the blocks a write names. A step is generated from its own 64-bit seed,
//! so any list of step seeds is a stream that replays on its own.
//!
//! ```sh
//! cargo test --features fuzzkit --test qemu_random                # 10,000 commands
//! cargo test --release --features fuzzkit --test qemu_random -- \
//!     --commands 1000000 --seed 0x1234 --progress
//! ```
//!
//! A failing stream is shrunk to the fewest steps that still fail and written to
//! `tests/regressions/qemu_random/`, which every run replays first. QEMU 7.2 hangs for good
//! on some looping SGLs; the mock with its profile records the hang, and the qtest harness
//! kills QEMU (SIGKILL) when it does not answer, after which the run starts a fresh QEMU.

mod qemu;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use nvme_dma::controller::{ControllerEvent, Deviation, Machine, Profile};
use nvme_dma::fuzzkit::{DataPointerCase, Label, Outcome, Space, Target};
use nvme_dma::host::{Driver, DriverConfig};
use nvme_dma::spec::{Opcode, SglSupport, Sgls, Status, SubmissionEntry};
use nvme_dma::{DmaMemory, Extent, PageSize, SimMemory};
use qemu::layouts::{gather, XorShift};
use qemu::{show, Qemu, BAR0, IMAGE_BYTES};

type Mock = Machine<SimMemory>;

/// The drivers' arena: queues and their own pages.
const ARENA: Extent = Extent::new(1 << 20, 15 << 20);

/// The page admin commands transfer into, outside the kit's space.
const ADMIN_BUFFER: u64 = 48 << 20;

/// I/O queue pairs the drivers ask for (and the stream creates at most).
const PAIRS: u16 = 4;

/// Blocks in the namespace.
const BLOCKS: u64 = IMAGE_BYTES / 512;

/// How long QEMU may take to answer a command the mock with its profile hangs on.
const HANG_TIMEOUT: Duration = Duration::from_millis(1500);

/// The kit's target: QEMU 7.2's default device as the drivers set it up.
fn target() -> Target {
    Target {
        page_size: PageSize::SIZE_4K,
        mdts: 7,
        sgls: Sgls::from_support(SglSupport::ByteAligned),
        block_size: 512,
        metadata: 0,
        space: Space {
            data: Extent::new(32 << 20, 16 << 20),
            descriptors: Extent::new(16 << 20, 8 << 20),
            unmapped: Extent::new(0x1000_0000, 0x1000_0000),
            registers: Some(Extent::new(BAR0, 0x4000)),
            cmb: None,
        },
    }
}

/// One step of a stream.
#[derive(Debug)]
enum Step {
    /// A Read or Write of the kit's, on I/O queue pair `pair` (1-based, wrapped to the pairs
    /// that exist).
    Io {
        case: Box<DataPointerCase>,
        pair: u16,
        slba: u64,
    },
    /// An admin command; `data` says whether its data must be the same on QEMU and its twin
    /// (Identify Controller and Namespace, SMART and the error log hold values neither
    /// profile models).
    Admin {
        what: &'static str,
        sqe: SubmissionEntry,
        data: Option<u32>,
    },
    CreatePair {
        entries: u32,
    },
    DeletePair,
}

impl Step {
    /// The step seeded by `seed`.
    fn new(seed: u64) -> Step {
        let mut rng = XorShift(seed | 1);
        let bytes = rng.bytes(2048);
        let mut u = Unstructured::new(&bytes);
        let kind = rng.below(100);
        if kind < 86 {
            if let Ok(case) = DataPointerCase::generate(&mut u, &target()) {
                let slba = rng.below(BLOCKS - u64::from(case.blocks));
                return Step::Io {
                    case: Box::new(case),
                    pair: rng.below(3) as u16 + 1,
                    slba,
                };
            }
        }
        if kind >= 97 {
            return if rng.below(2) == 0 {
                Step::CreatePair {
                    entries: 2 + rng.below(63) as u32,
                }
            } else {
                Step::DeletePair
            };
        }
        let admin = |opcode: Opcode| SubmissionEntry::new(opcode, 0).with_prp1(ADMIN_BUFFER);
        match rng.below(5) {
            0 => {
                let cns = [0u32, 1, 2, 3][rng.below(4) as usize];
                let nsid = [0u32, 1, 2, 0xffff_fffe, u32::MAX][rng.below(5) as usize];
                let sqe = admin(Opcode::ADMIN_IDENTIFY)
                    .with_cdw10(cns)
                    .with_nsid(nsid);
                let data = matches!(cns, 2 | 3).then_some(4096);
                Step::Admin {
                    what: "Identify",
                    sqe,
                    data,
                }
            }
            1 | 2 => {
                let lid = [1u32, 2, 3, 0x55][rng.below(4) as usize];
                let dwords = 1 + rng.below(256) as u32;
                let offset = 4 * rng.below(160);
                let sqe = admin(Opcode::ADMIN_GET_LOG_PAGE)
                    .with_cdw10(lid | (dwords - 1) << 16)
                    .with_cdw12(offset as u32)
                    .with_nsid(u32::MAX);
                Step::Admin {
                    what: "Get Log Page",
                    sqe,
                    data: (lid == 3).then_some(dwords * 4),
                }
            }
            3 => Step::Admin {
                what: "Get Features (Number of Queues)",
                sqe: admin(Opcode::ADMIN_GET_FEATURES).with_cdw10(7),
                data: None,
            },
            _ => {
                let opcode = [0x03u8, 0x07, 0x0b][rng.below(3) as usize];
                Step::Admin {
                    what: "an unknown admin opcode",
                    sqe: admin(Opcode(opcode)),
                    data: None,
                }
            }
        }
    }
}

/// The three controllers, driven alike.
struct World {
    qemu: Driver<Qemu>,
    strict: Driver<Mock>,
    twin: Driver<Mock>,
    /// I/O queue pairs that exist (the same on all three).
    pairs: u16,
}

impl World {
    fn start() -> Option<World> {
        let qemu = Qemu::start("random", "")?;
        // QEMU completes a command within a poll or two of its doorbell (CONFORMANCE.md): a
        // small budget finds a command QEMU leaves pending without waiting long.
        let config = DriverConfig {
            completion_polls: 50_000,
            ..DriverConfig::new(ARENA).with_io_queue_pairs(PAIRS)
        };
        let start = |what: &str, d: Result<Driver<Mock>, _>| {
            d.unwrap_or_else(|e: nvme_dma::host::DriverError<_>| panic!("{what}: start: {e}"))
        };
        Some(World {
            qemu: Driver::start(qemu, config).unwrap_or_else(|e| panic!("QEMU: start: {e}")),
            strict: start(
                "strict mock",
                Driver::start(qemu::mock_machine(Profile::STRICT), config),
            ),
            twin: start(
                "QEMU's mock",
                Driver::start(qemu::mock_machine(Profile::QEMU_7_2), config),
            ),
            pairs: 1,
        })
    }

    fn memories(&mut self) -> [&mut dyn DmaMemory; 3] {
        [
            self.qemu.bus_mut(),
            self.strict.bus_mut(),
            self.twin.bus_mut(),
        ]
    }
}

/// Commands a run sends QEMU that make it hang, or leave data outside its RAM pending: each
/// costs a fresh QEMU, so past these such steps are left out.
const HANGS_PER_RUN: u64 = 4;
const PENDING_PER_RUN: u64 = 6;

/// What the run saw.
#[derive(Default)]
struct Tally {
    commands: u64,
    /// Steps left out because the budgets above were spent.
    without_qemu: u64,
    /// Commands with data outside QEMU's RAM, whose status alone is compared.
    status_only: u64,
    by_class: BTreeMap<String, u64>,
    /// Strict mock against QEMU, by the switch that explains the difference.
    causes: BTreeMap<String, u64>,
    hangs: u64,
}

impl Tally {
    fn summary(&self, elapsed: Duration) -> String {
        let rate = self.commands as f64 / elapsed.as_secs_f64().max(0.001);
        let mut text = format!(
            "{} commands in {:.1} s ({rate:.0}/s), {} QEMU hangs, {} steps left out, {} \
             compared by status alone (data outside RAM)\n  by \
             class: {:?}\n  strict mock vs QEMU, disagreements by cause:",
            self.commands,
            elapsed.as_secs_f64(),
            self.hangs,
            self.without_qemu,
            self.status_only,
            self.by_class
        );
        for (cause, n) in &self.causes {
            text.push_str(&format!("\n    {cause:44} {n}"));
        }
        text
    }
}

/// Run one step on all three and compare; `Err` names the first disagreement that is a
/// failure. The world may have to restart (QEMU hung): `Ok(true)` then.
fn run_step(world: &mut World, step: &Step, tally: &mut Tally) -> Result<bool, String> {
    match step {
        Step::Io { case, pair, slba } => run_io(world, case, *pair, *slba, tally),
        Step::Admin { what, sqe, data } => {
            tally.commands += 1;
            *tally.by_class.entry("admin".into()).or_default() += 1;
            // The same marker in the buffer everywhere, so that a command that writes nothing
            // (or less) leaves the three alike.
            for mem in world.memories() {
                mem.write(ADMIN_BUFFER, &[0xa5; 4096])
                    .map_err(|e| format!("{what}: marking the buffer: {e:?}"))?;
            }
            let [q, s, t] = submit_all(world, 0, *sqe)?;
            if t != q {
                return Err(format!("{what}: QEMU's mock completed {t:?}, QEMU {q:?}"));
            }
            if s.status() != q.status() {
                explain_admin(what, s.status(), q.status(), tally)?;
            }
            let page = [Extent::new(ADMIN_BUFFER, 4096)];
            let qemu_page = gather(world.qemu.bus(), &page);
            if let Some(len) = data {
                let len = *len as usize;
                if gather(world.twin.bus(), &page)[..len] != qemu_page[..len] {
                    return Err(format!("{what}: QEMU's mock returned other data than QEMU"));
                }
            }
            // Identify and log data hold values neither mock models; memory stays the same on
            // all three, so that a later hostile pointer into this page reads the same bytes.
            for mem in [world.strict.bus_mut(), world.twin.bus_mut()] {
                mem.write(ADMIN_BUFFER, &qemu_page)
                    .map_err(|e| format!("{what}: copying QEMU's buffer: {e:?}"))?;
            }
            Ok(false)
        }
        Step::CreatePair { entries } => {
            // The drivers asked for PAIRS pairs: the strict mock grants those, QEMU 64
            // (`queues-allocated-beyond-request`), so the stream stays within them.
            if world.pairs >= PAIRS {
                return Ok(false);
            }
            tally.commands += 2;
            let q = world
                .qemu
                .create_io_queue_pair(*entries)
                .map_err(|e| e.to_string());
            let s = world
                .strict
                .create_io_queue_pair(*entries)
                .map_err(|e| e.to_string());
            let t = world
                .twin
                .create_io_queue_pair(*entries)
                .map_err(|e| e.to_string());
            match (q, s, t) {
                (Ok(q), Ok(s), Ok(t)) if q == s && s == t => world.pairs = q,
                (q, s, t) => {
                    return Err(format!("create pair: QEMU {q:?}, strict {s:?}, twin {t:?}"))
                }
            }
            Ok(false)
        }
        Step::DeletePair => {
            if world.pairs <= 1 {
                return Ok(false);
            }
            tally.commands += 2;
            let q = world.qemu.delete_io_queue_pair().map_err(|e| e.to_string());
            let s = world
                .strict
                .delete_io_queue_pair()
                .map_err(|e| e.to_string());
            let t = world.twin.delete_io_queue_pair().map_err(|e| e.to_string());
            if !(q.is_ok() && s.is_ok() && t.is_ok()) {
                return Err(format!("delete pair: QEMU {q:?}, strict {s:?}, twin {t:?}"));
            }
            world.pairs -= 1;
            Ok(false)
        }
    }
}

/// Admin commands differ between strict and QEMU only by a named choice or deviation.
fn explain_admin(
    what: &str,
    strict: Status,
    qemu: Status,
    tally: &mut Tally,
) -> Result<(), String> {
    let cause = match (what, strict.sc(), qemu.sc()) {
        ("Get Log Page", 0x00, 0x02) => Deviation::LogOffsetAtPageEndRefused,
        _ => {
            return Err(format!(
                "{what}: strict mock {}, QEMU {}: no deviation explains it",
                show(strict),
                show(qemu)
            ))
        }
    };
    *tally.causes.entry(cause.name().into()).or_default() += 1;
    Ok(())
}

fn submit_all(
    world: &mut World,
    qid: u16,
    sqe: SubmissionEntry,
) -> Result<[nvme_dma::spec::CompletionEntry; 3], String> {
    let q = world
        .qemu
        .submit_batch(qid, &[sqe])
        .map_err(|e| format!("QEMU: {e}"))?;
    let s = world
        .strict
        .submit_batch(qid, &[sqe])
        .map_err(|e| format!("strict mock: {e}"))?;
    let t = world
        .twin
        .submit_batch(qid, &[sqe])
        .map_err(|e| format!("QEMU's mock: {e}"))?;
    Ok([q[0], s[0], t[0]])
}

fn class(label: &Label) -> String {
    match label {
        Label::Valid(_) => "valid".into(),
        Label::NearValid(rule) => format!("near-valid {}", rule.id()),
        Label::Hostile(kind) => format!("hostile {kind:?}"),
    }
}

/// The status an outcome completes with.
fn status_of(outcome: &Outcome) -> Option<Status> {
    match outcome {
        Outcome::Moves(_) => Some(Status::SUCCESS),
        Outcome::Fails(status) => Some(*status),
        Outcome::Hangs => None,
    }
}

fn run_io(
    world: &mut World,
    case: &DataPointerCase,
    pair: u16,
    slba: u64,
    tally: &mut Tally,
) -> Result<bool, String> {
    let qid = (pair - 1) % world.pairs + 1;
    for mem in world.memories() {
        case.image
            .write_to(mem)
            .map_err(|e| format!("{case}: writing its image: {e:?}"))?;
    }
    let sqe = case.sqe(1, slba);
    // The oracle runs over the memory the controllers see: a hostile pointer may lead to
    // what earlier steps left there. The twin's memory is QEMU's; the strict mock's is too,
    // kept in step by `resync`.
    let twin_memory = world.twin.bus_mut();
    let qemu_expected = case.expected_in(Profile::QEMU_7_2, twin_memory).outcome;
    let hangs = qemu_expected == Outcome::Hangs;
    let strict_outcome = case.expected_in(Profile::STRICT, twin_memory).outcome;
    let strict_expected = status_of(&strict_outcome);
    // Which switches of QEMU's profile turn the strict answer into QEMU's, worked out now,
    // before the command changes memory, for when the two disagree.
    let cause = if status_of(&qemu_expected) != strict_expected {
        fewest_switches(case, status_of(&qemu_expected), twin_memory)
    } else {
        None
    };
    let spent = |n: u64, budget: u64| n >= budget;
    if (hangs && spent(tally.hangs, HANGS_PER_RUN))
        || (moves_outside_ram(&qemu_expected) && spent(pending(tally), PENDING_PER_RUN))
    {
        // QEMU's answer to such a command is known from earlier in the run, and another one
        // would cost a fresh QEMU: the step is left out.
        tally.without_qemu += 1;
        return Ok(false);
    }
    tally.commands += 1;
    *tally.by_class.entry(class(&case.label)).or_default() += 1;
    if hangs {
        // QEMU 7.2 spins for good: it must not answer, and it is killed.
        world.qemu.bus().set_timeout(HANG_TIMEOUT);
        let q = world.qemu.submit_batch(qid, &[sqe]);
        let t = world.twin.submit_batch(qid, &[sqe]);
        let twin_hung = world
            .twin
            .bus()
            .controller
            .events()
            .iter()
            .any(|e| matches!(e, ControllerEvent::Hung { .. }));
        // QEMU spins until the watchdog kills it, or (seen on reads) dies on its own.
        if q.is_ok() || t.is_ok() || !twin_hung {
            return Err(format!(
                "{case}: expected QEMU and its mock to hang; QEMU answered {:?} (killed: {}), \
                 the mock {:?} (hung: {twin_hung})",
                q.map(|c| c[0]),
                world.qemu.bus().killed(),
                t.map(|c| c[0])
            ));
        }
        tally.hangs += 1;
        *tally
            .causes
            .entry(Deviation::SglEmptySegmentLoops.name().into())
            .or_default() += 1;
        return Ok(true);
    }
    let q = match world.qemu.submit_batch(qid, &[sqe]) {
        Ok(q) => q[0],
        Err(e) => {
            let error = e.to_string();
            return qemu_left_it_pending(world, case, qid, sqe, error, &qemu_expected, tally);
        }
    };
    let s = world
        .strict
        .submit_batch(qid, &[sqe])
        .map_err(|e| format!("{case}: strict mock: {e}"))?[0];
    let t = world
        .twin
        .submit_batch(qid, &[sqe])
        .map_err(|e| format!("{case}: QEMU's mock: {e}"))?[0];
    if t != q {
        return Err(format!("{case}: QEMU's mock completed {t:?}, QEMU {q:?}"));
    }
    if Some(s.status()) != strict_expected {
        return Err(format!(
            "{case}: the strict mock answered {}, the kit's oracle {:?}",
            show(s.status()),
            strict_expected.map(show)
        ));
    }
    let regions: Vec<Extent> = case.image.regions().collect();
    let qm = gather(world.qemu.bus(), &regions);
    let blocks = u64::from(case.blocks);
    // Where the command's data may have landed on either side, for `resync`.
    let mut touched = regions.clone();
    if case.direction == nvme_dma::Direction::Read {
        for outcome in [&qemu_expected, &strict_outcome] {
            if let Outcome::Moves(pieces) = outcome {
                touched.extend(pieces.iter().filter_map(|p| p.data()));
            }
        }
    }
    if moves_outside_ram(&qemu_expected) {
        // What QEMU's DMA does with data outside its RAM depends on timing: the same command
        // stores zeros for the pieces after one outside RAM in one run and the host's bytes
        // in another. Statuses are compared; data is not, and both mocks take QEMU's.
        tally.status_only += 1;
        resync(&mut world.twin, &world.qemu, slba, blocks, &touched);
        resync(&mut world.strict, &world.qemu, slba, blocks, &touched);
        if s.status() != q.status() {
            explain(case, s.status(), q.status(), cause.as_deref(), tally)?;
        }
        return Ok(false);
    }
    // Host memory: a read may write only its buffers, and the same bytes on QEMU and its
    // mock; blocks: a write stores the same on both.
    if gather(world.twin.bus(), &regions) != qm {
        return Err(format!(
            "{case}: host memory differs between QEMU and its mock"
        ));
    }
    let qb = world
        .qemu
        .bus()
        .image_bytes(slba * 512, (blocks * 512) as usize);
    let tb = world
        .twin
        .bus()
        .controller
        .namespace_data(1, slba, blocks)
        .expect("in range");
    if let Some(at) = qb.iter().zip(&tb).position(|(x, y)| x != y) {
        let show = |b: &[u8]| format!("{:02x?}", &b[at..(at + 8).min(b.len())]);
        return Err(format!(
            "{case}: blocks {slba}.. differ between QEMU and its mock from byte {at}: QEMU \
             {}, its mock {}",
            show(&qb),
            show(&tb)
        ));
    }
    if s.status() == q.status() {
        let sb = world
            .strict
            .bus()
            .controller
            .namespace_data(1, slba, blocks)
            .expect("in range");
        let first = |a: &[u8], b: &[u8]| a.iter().zip(b).position(|(x, y)| x != y);
        if let Some(at) = first(&sb, &qb) {
            return Err(format!(
                "{case}: the strict mock agrees on status but stored other data (first at \
                 byte {at} of the blocks)"
            ));
        }
        if let Some(at) = first(&gather(world.strict.bus(), &regions), &qm) {
            return Err(format!(
                "{case}: the strict mock agrees on status but host memory differs (first at \
                 byte {at} of the case's regions)"
            ));
        }
        return Ok(false);
    }
    // The data then differ too, so the strict mock's blocks take QEMU's to stay comparable.
    explain(case, s.status(), q.status(), cause.as_deref(), tally)?;
    resync(&mut world.strict, &world.qemu, slba, blocks, &touched);
    Ok(false)
}

/// The fewest switches of QEMU's profile (up to three) that, turned on in the strict
/// profile, give `want` for `case` over `memory`: their names joined by `+`.
fn fewest_switches<M: DmaMemory + ?Sized>(
    case: &DataPointerCase,
    want: Option<Status>,
    memory: &mut M,
) -> Option<String> {
    let switches: Vec<Deviation> = Profile::QEMU_7_2.deviations().collect();
    let mut gives = |set: &[Deviation]| {
        let profile = set.iter().fold(Profile::STRICT, |p, d| p.with(*d));
        status_of(&case.expected_in(profile, memory).outcome) == want
    };
    let name = |set: &[Deviation]| set.iter().map(|d| d.name()).collect::<Vec<_>>().join("+");
    let n = switches.len();
    let singles = (0..n).map(|i| vec![switches[i]]);
    let pairs = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j)));
    let pairs = pairs.map(|(i, j)| vec![switches[i], switches[j]]);
    let triples =
        (0..n).flat_map(|i| (i + 1..n).flat_map(move |j| (j + 1..n).map(move |k| (i, j, k))));
    let triples = triples.map(|(i, j, k)| vec![switches[i], switches[j], switches[k]]);
    singles
        .chain(pairs)
        .chain(triples)
        .find(|set| gives(set))
        .map(|set| name(&set))
}

/// Strict and QEMU disagree: the fewest switches of QEMU's profile that explain it (worked
/// out before the command ran) are counted as its cause, and without one the run fails.
fn explain(
    case: &DataPointerCase,
    strict: Status,
    qemu: Status,
    cause: Option<&str>,
    tally: &mut Tally,
) -> Result<(), String> {
    let cause = cause.ok_or_else(|| {
        format!(
            "{case}: strict {} and QEMU {} disagree, and no set of up to three switches \
             explains it",
            show(strict),
            show(qemu)
        )
    })?;
    *tally.causes.entry(cause.to_string()).or_default() += 1;
    Ok(())
}

/// The name of the one known way QEMU answers otherwise than its mock: it leaves pending a
/// command some of whose data lies outside its RAM (CONFORMANCE.md).
const PENDING_OUTSIDE_RAM: &str = "qemu-leaves-data-outside-ram-pending";

/// QEMU did not complete `sqe`. That is a known difference only when its mock completes the
/// command successfully and some of the data lies outside QEMU's RAM; either way the world
/// restarts, since QEMU still holds the command.
fn qemu_left_it_pending(
    world: &mut World,
    case: &DataPointerCase,
    qid: u16,
    sqe: SubmissionEntry,
    error: String,
    qemu_expected: &Outcome,
    tally: &mut Tally,
) -> Result<bool, String> {
    let twin = world.twin.submit_batch(qid, &[sqe]).map(|c| c[0]);
    let outside = moves_outside_ram(qemu_expected);
    match twin {
        Ok(t) if t.status().is_success() && outside => {
            *tally.causes.entry(PENDING_OUTSIDE_RAM.into()).or_default() += 1;
            Ok(true)
        }
        twin => Err(format!("{case}: QEMU: {error}; its mock: {twin:?}")),
    }
}

/// Whether an outcome moves data outside the RAM the harness compares: past QEMU's RAM, or
/// in its first MiB, where the BIOS's shadow ROM takes no writes and the harness reads
/// nothing back.
fn moves_outside_ram(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Moves(pieces) => pieces.iter().any(|p| match p {
            nvme_dma::Piece::Data(e) => {
                e.addr < qemu::USABLE_RAM.addr || e.end().map_or(true, |end| end > qemu::GUEST_RAM)
            }
            _ => false,
        }),
        _ => false,
    }
}

/// Commands QEMU left pending so far.
fn pending(tally: &Tally) -> u64 {
    tally.causes.get(PENDING_OUTSIDE_RAM).copied().unwrap_or(0)
}

/// After a command a mock answered otherwise than QEMU, copy QEMU's blocks and host memory
/// into it, so that later commands compare from the same state: the case's regions, and
/// every data piece a read of either side may have written (`touched`), where the harness
/// reaches QEMU's RAM.
fn resync(
    mock: &mut Driver<Mock>,
    qemu: &Driver<Qemu>,
    slba: u64,
    blocks: u64,
    touched: &[Extent],
) {
    for e in touched {
        let inside =
            e.addr >= qemu::USABLE_RAM.addr && e.end().is_some_and(|end| end <= qemu::GUEST_RAM);
        if inside && e.len <= 1 << 20 {
            let bytes = gather(qemu.bus(), &[*e]);
            mock.bus_mut().write(e.addr, &bytes).expect("mapped");
        }
    }
    let data = qemu.bus().image_bytes(slba * 512, (blocks * 512) as usize);
    mock.bus_mut()
        .controller
        .set_namespace_data(1, slba, &data)
        .expect("in range");
}

/// Run `seeds` as one stream on a fresh world; `Err((index, why))` at the first failure.
fn run_stream(
    seeds: &[u64],
    tally: &mut Tally,
    mut progress: impl FnMut(usize, &Tally) -> bool,
) -> Result<(), (usize, String)> {
    let mut world = World::start().ok_or((0, "QEMU is not installed".to_string()))?;
    for (i, &seed) in seeds.iter().enumerate() {
        let step = Step::new(seed);
        match run_step(&mut world, &step, tally) {
            Ok(false) => {}
            Ok(true) => {
                drop(world);
                world = World::start().ok_or((i, "QEMU could not be restarted".to_string()))?;
            }
            Err(why) => return Err((i, why)),
        }
        if !progress(i, tally) {
            break;
        }
    }
    Ok(())
}

/// The fewest steps of `seeds` that still fail, within `budget` of time: the failing step
/// alone, then the shortest run of the steps just before it that still fails (a failure
/// that needs state usually needs recent state), then steps dropped from that run in ever
/// smaller chunks.
fn shrink(seeds: &[u64], budget: Duration) -> Vec<u64> {
    let started = Instant::now();
    let fails = |s: &[u64]| run_stream(s, &mut Tally::default(), |_, _| true).is_err();
    if seeds.is_empty() {
        return Vec::new();
    }
    let mut best = seeds.to_vec();
    let mut window = 1;
    while window < seeds.len() && started.elapsed() < budget {
        let suffix = &seeds[seeds.len() - window..];
        if fails(suffix) {
            best = suffix.to_vec();
            break;
        }
        window *= 2;
    }
    let mut chunk = best.len() / 2;
    while chunk > 0 && started.elapsed() < budget {
        let mut start = 0;
        while start + chunk < best.len() && started.elapsed() < budget {
            let candidate: Vec<u64> = best[..start]
                .iter()
                .chain(&best[start + chunk..])
                .copied()
                .collect();
            if fails(&candidate) {
                best = candidate;
            } else {
                start += chunk;
            }
        }
        chunk /= 2;
    }
    best
}

fn regressions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/regressions/qemu_random")
}

/// The regression streams committed so far: one step seed per line, `#` comments.
fn regressions() -> Vec<(String, Vec<u64>)> {
    let Ok(dir) = std::fs::read_dir(regressions_dir()) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u64>)> = dir
        .flatten()
        .filter_map(|entry| {
            let text = std::fs::read_to_string(entry.path()).ok()?;
            let seeds = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(|l| u64::from_str_radix(l.trim_start_matches("0x"), 16).expect("a hex seed"))
                .collect();
            Some((entry.file_name().to_string_lossy().into_owned(), seeds))
        })
        .collect();
    out.sort();
    out
}

struct Args {
    commands: usize,
    seed: u64,
    progress: bool,
    /// Print these steps (and what each profile expects of them) instead of running.
    show: Vec<u64>,
}

fn args() -> Args {
    let mut a = Args {
        commands: 10_000,
        seed: 0x6e76_6d65_7261_6e64,
        progress: false,
        show: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let number = |v: Option<String>| {
            let v = v.expect("a value after the flag");
            match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).expect("a hex number"),
                None => v.parse().expect("a number"),
            }
        };
        match arg.as_str() {
            "--commands" => a.commands = number(it.next()) as usize,
            "--seed" => a.seed = number(it.next()),
            "--progress" => a.progress = true,
            "--show" => a.show.push(number(it.next())),
            // What the test harness passes to every test binary.
            _ => {}
        }
    }
    a
}

fn main() -> std::process::ExitCode {
    let args = args();
    for &seed in &args.show {
        let step = Step::new(seed);
        println!("step {seed:016x}: {step:#x?}");
        if let Step::Io { case, .. } = &step {
            for profile in [Profile::STRICT, Profile::QEMU_7_2] {
                println!("{profile}: {:#x?}", case.expected(profile).outcome);
            }
        }
    }
    if !args.show.is_empty() {
        return std::process::ExitCode::SUCCESS;
    }
    if Qemu::start("random-probe", "").is_none() {
        println!("test result: ok. 0 passed; 0 failed; 1 ignored (no QEMU)");
        return std::process::ExitCode::SUCCESS;
    }
    let mut failed = Vec::new();
    for (name, seeds) in regressions() {
        match run_stream(&seeds, &mut Tally::default(), |_, _| true) {
            Ok(()) => println!("test regression {name} ... ok"),
            Err((i, why)) => {
                println!("test regression {name} ... FAILED at step {i}: {why}");
                failed.push(name);
            }
        }
    }
    // Enough steps for the commands asked for: some steps are left out, and queue steps run
    // two commands.
    let mut rng = XorShift(args.seed);
    let seeds: Vec<u64> = (0..args.commands + args.commands / 4 + 16)
        .map(|_| rng.next())
        .collect();
    let started = Instant::now();
    let mut tally = Tally::default();
    let every = if args.progress { 1000 } else { 2500 };
    let result = run_stream(&seeds, &mut tally, |i, t| {
        if (i + 1) % every == 0 {
            eprintln!("{}", t.summary(started.elapsed()));
        }
        t.commands < args.commands as u64
    });
    println!("{}", tally.summary(started.elapsed()));
    match result {
        Ok(()) => println!("test random_stream (seed {:#x}) ... ok", args.seed),
        Err((i, why)) => {
            println!(
                "test random_stream (seed {:#x}) ... FAILED at step {i}: {why}",
                args.seed
            );
            let minimal = shrink(&seeds[..=i], Duration::from_secs(180));
            let name = format!("{:016x}-{i}.txt", args.seed);
            let text: String =
                std::iter::once(format!("# seed {:#x}, step {i}: {why}\n", args.seed))
                    .chain(minimal.iter().map(|s| format!("{s:016x}\n")))
                    .collect();
            let path = regressions_dir().join(&name);
            let _ = std::fs::create_dir_all(regressions_dir());
            match std::fs::write(&path, text) {
                Ok(()) => println!(
                    "    shrunk to {} steps, written to tests/regressions/qemu_random/{name}",
                    minimal.len()
                ),
                Err(e) => println!("    shrunk to {minimal:x?}; could not write it: {e}"),
            }
            failed.push("random_stream".into());
        }
    }
    if failed.is_empty() {
        println!("\ntest result: ok.");
        std::process::ExitCode::SUCCESS
    } else {
        println!("\ntest result: FAILED. {failed:?}");
        std::process::ExitCode::FAILURE
    }
}
