//! A catalogue of hostile NVMe inputs at the controller level (the data-pointer level is in
//! `tests/adversarial.rs`). Each case drives the mock controller through its registers and
//! queues, from the independent test host in `nvme_dma_testkit::rig`, and holds the exact status
//! it must complete with; besides the status it checks that nothing else changed: the host
//! memory it names and every completion queue ring (but the slots it was due to post to), the
//! namespace, the registers and the controller's event record; that the DMA trace holds only
//! what the case allows; and that the queue still works afterwards (next slot, next phase, next
//! SQ head). The cases cover the controller's own limits, log pages, doorbells and queues, and
//! the failure classes of the data-pointer catalogue that need a whole controller (a DMA
//! address in the device's own registers).
//!
//! | controller level | cases |
//! |---|---|
//! | MDTS | `write_one_block_over_mdts_reads_no_prp_list`, `write_one_block_over_mdts_reads_no_sgl_segment`, `log_page_longer_than_mdts` (and `write_of_exactly_mdts_moves_it_all`, which must pass) |
//! | Get Log Page and Identify at and past the end of their data | `log_page_offset_one_dword_past_its_end`, `log_page_offset_in_its_upper_dword`, `log_page_offset_not_dword_aligned`, `active_namespace_list_from_fffffffeh_and_ffffffffh`, `identify_namespace_one_past_the_last` (and `log_page_read_across_its_end`, `log_page_offset_at_its_end`, `active_namespace_list_after_the_last_namespace`, which must pass) |
//! | doorbells | `sq_tail_doorbell_at_the_queue_size`, `sq_tail_doorbell_with_reserved_bits_set`, `cq_head_doorbell_past_the_last_posted_entry`, `cq_head_doorbell_at_the_queue_size`, `sq_doorbell_of_a_queue_never_created`, `cq_doorbell_of_a_queue_never_created`, `sq_doorbell_of_a_deleted_queue`, `doorbell_offset_between_two_doorbells` |
//! | queues | `a_full_completion_queue_holds_the_next_command`, `deleting_a_cq_an_sq_still_uses` |
//! | command identifiers | `a_cid_reused_on_the_same_sq`, `a_cid_reused_while_an_aer_holds_it` |

use nvme_dma_testkit::guest;
use nvme_dma_testkit::rig;

use guest::{block, descriptors, dnr, pages_from, pointer, slots, POISON, PS};
use nvme_dma::bus::RegisterAccess;
use nvme_dma::controller::{
    ControllerConfig, ControllerEvent, DmaAccess, DmaPurpose, DmaTarget, NamespaceConfig,
};
use nvme_dma::sgl::SegmentKind;
use nvme_dma::spec::identify::{CNS_ACTIVE_NAMESPACE_LIST, CNS_CONTROLLER, CNS_NAMESPACE};
use nvme_dma::spec::log::{LogPageRequest, LID_SMART};
use nvme_dma::spec::registers::{cq_head_doorbell, offset, sq_tail_doorbell};
use nvme_dma::spec::{
    CompletionEntry, Identify, Opcode, Psdt, SglDescriptor, Status, SubmissionEntry,
};
use nvme_dma::Extent;
use nvme_dma_testkit::pattern::pattern;
use rig::{create_cq, create_sq, delete_queue, io_sqe, HostQueue, Rig};
use zerocopy::IntoBytes;

// ---- Controller level: the mock controller, driven through its registers ----
//
// Each case runs on `MockController` through the independent test host in
// nvme_dma_testkit::rig. Besides the exact status, every case checks that nothing else
// changed: the host memory it names and every completion queue ring (but for the slots the
// case was due to post to), the namespace, the controller registers and the event record;
// and that the queue still works (the next command completes in the next slot, with the next
// phase and SQ head). Section numbers of the NVM Express Base Specification name the
// revision they come from.

/// Blocks of 512 bytes in the namespace of the controller cases (1 MiB): small enough to
/// compare whole before and after every case.
const NS_BLOCKS: u64 = 2048;
/// Data buffers of the controller cases.
const BUF: u64 = rig::DATA;
/// PRP lists and SGL segments of the controller cases.
const LISTS: u64 = rig::DATA + 0x80_0000;
/// MDTS 5 in units of CAP.MPSMIN (4 KiB), as the default configuration reports: 128 KiB.
const MDTS: u64 = 32 * PS;
/// A register window placed inside host RAM, so that only the controller's own rule about
/// its registers (not unmapped memory) can refuse a DMA there.
const BAR0: u64 = 0x0200_0000;
/// The registers no case but a register case may change: CC, CSTS, AQA, ASQ, ACQ, INTMS.
const WATCHED_REGISTERS: [u64; 8] = [
    offset::CC,
    offset::CSTS,
    offset::AQA,
    offset::ASQ,
    offset::ASQ + 4,
    offset::ACQ,
    offset::ACQ + 4,
    offset::INTMS,
];

fn controller_config() -> ControllerConfig {
    ControllerConfig {
        namespaces: vec![NamespaceConfig::new(NS_BLOCKS, 512)],
        ..ControllerConfig::default()
    }
}

/// A ready controller built from `config` with I/O queue pair 1 of `slots` slots.
fn rig_with(config: ControllerConfig, slots: u16) -> Rig {
    let mut rig = Rig::new(config);
    rig.create_io_pair(1, slots);
    rig
}

fn io_rig() -> Rig {
    rig_with(controller_config(), 16)
}

/// What a hostile input must leave as it was, captured before it is given.
struct Before {
    memory: Vec<(u64, Vec<u8>)>,
    namespace: Vec<u8>,
    registers: Vec<u32>,
    events: usize,
}

impl Before {
    /// Capture `watch`, every completion queue ring the host knows, the namespace, the
    /// registers and the number of events recorded.
    fn capture(rig: &Rig, watch: &[Extent]) -> Self {
        let rings = rig
            .queues
            .values()
            .map(|q| Extent::new(q.cq_base, u64::from(q.size) * 16));
        let controller = &rig.m.controller;
        Before {
            memory: watch
                .iter()
                .copied()
                .chain(rings)
                .map(|e| (e.addr, rig.peek(e.addr, e.len as usize)))
                .collect(),
            namespace: controller.namespace_data(1, 0, NS_BLOCKS).unwrap(),
            registers: WATCHED_REGISTERS.map(|r| controller.read32(r)).to_vec(),
            events: controller.events().len(),
        }
    }

    /// Everything is as captured, except host memory inside `written` and `new_events`
    /// more events.
    fn check(&self, rig: &Rig, written: &[Extent], new_events: usize) {
        let expected = |addr: u64| {
            written
                .iter()
                .any(|e| addr >= e.addr && addr - e.addr < e.len)
        };
        for (at, was) in &self.memory {
            let now = rig.peek(*at, was.len());
            for (addr, (a, b)) in (*at..).zip(was.iter().zip(&now)) {
                assert!(
                    a == b || expected(addr),
                    "host byte {addr:#x}: {a:#04x} -> {b:#04x}"
                );
            }
        }
        let controller = &rig.m.controller;
        assert!(
            controller.namespace_data(1, 0, NS_BLOCKS).unwrap() == self.namespace,
            "the namespace changed"
        );
        let registers = WATCHED_REGISTERS.map(|r| controller.read32(r)).to_vec();
        assert_eq!(
            registers, self.registers,
            "registers {WATCHED_REGISTERS:x?}"
        );
        assert_eq!(
            controller.events().len(),
            self.events + new_events,
            "events"
        );
    }

    /// Expect `bytes` in the namespace from block `slba` on, where a command stored them.
    fn stored(mut self, slba: u64, bytes: &[u8]) -> Self {
        self.namespace[slba as usize * 512..][..bytes.len()].copy_from_slice(bytes);
        self
    }
}

/// The completion queue slot `qid`'s next completion goes to, as the host tracks it.
fn next_cqe_slot(rig: &Rig, qid: u16) -> Extent {
    let cq = &rig.queues[&rig.queues[&qid].cqid];
    Extent::new(cq.cq_base + u64::from(cq.cq_head) * 16, 16)
}

/// Run `sqe` on `qid` with the DMA trace on. Checks that exactly one entry was fetched and one
/// completion posted, and that nothing changed (see [`Before`]) but `written` and that
/// completion's slot. Returns the completion and the rest of the DMA it caused, in order.
fn run(
    rig: &mut Rig,
    qid: u16,
    sqe: SubmissionEntry,
    watch: &[Extent],
    written: &[Extent],
) -> (CompletionEntry, Vec<DmaAccess>) {
    let before = Before::capture(rig, watch);
    let slot = next_cqe_slot(rig, qid);
    rig.m.controller.set_tracing(true);
    let cqe = rig.exec(qid, sqe);
    rig.m.controller.set_tracing(false);
    let trace = rig.m.controller.take_trace();
    before.check(rig, &[written, &[slot]].concat(), 0);
    let (queue, pointer): (Vec<DmaAccess>, Vec<DmaAccess>) = trace
        .accesses()
        .iter()
        .partition(|a| matches!(a.purpose, DmaPurpose::SqeFetch | DmaPurpose::CqePost));
    let queue: Vec<DmaPurpose> = queue.iter().map(|a| a.purpose).collect();
    assert_eq!(queue, [DmaPurpose::SqeFetch, DmaPurpose::CqePost]);
    (cqe, pointer)
}

/// A DMA access the controller refused (it moved nothing).
fn refused(purpose: DmaPurpose, addr: u64, len: u64) -> DmaAccess {
    DmaAccess {
        purpose,
        addr,
        len,
        target: DmaTarget::Refused,
    }
}

/// The queue still works: a one-block write to `slba` lands in the namespace, and its
/// completion arrives in the host's next slot with the host's phase (the rig's reap checks
/// both) naming the next SQ head.
fn next_write_lands(rig: &mut Rig, qid: u16, slba: u64) {
    let (tail, size) = (rig.queues[&qid].sq_tail, rig.queues[&qid].size);
    let bytes = pattern(0x5eed + slba, 512);
    let buf = BUF + 0x70_0000;
    rig.poke(buf, &bytes);
    let cqe = rig.exec(qid, io_sqe(Opcode::NVM_WRITE, 1, slba, 1).with_prp1(buf));
    assert_eq!(cqe.status(), Status::SUCCESS);
    assert_eq!(
        cqe.sqhd(),
        (tail + 1) % size,
        "SQ head after the next command"
    );
    assert_eq!(rig.m.controller.namespace_data(1, slba, 1).unwrap(), bytes);
}

/// The admin queue still works: Identify Controller completes, naming the next SQ head.
fn next_admin_command_works(rig: &mut Rig) {
    let (tail, size) = (rig.queues[&0].sq_tail, rig.queues[&0].size);
    let cqe = rig.exec(0, identify(CNS_CONTROLLER, 0, BUF + 0x70_0000));
    assert_eq!(cqe.status(), Status::SUCCESS);
    assert_eq!(
        cqe.sqhd(),
        (tail + 1) % size,
        "SQ head after the next command"
    );
}

fn identify(cns: u8, nsid: u32, buf: u64) -> SubmissionEntry {
    let mut sqe = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 0).with_prp1(buf);
    Identify::namespace(cns, nsid).write_to(&mut sqe);
    sqe
}

fn get_log_page(lid: u8, len: u64, offset: u64, buf: u64) -> SubmissionEntry {
    let mut sqe = SubmissionEntry::new(Opcode::ADMIN_GET_LOG_PAGE, 0).with_prp1(buf);
    LogPageRequest { lid, len, offset }
        .write_to(&mut sqe)
        .unwrap();
    sqe
}

/// A command whose data pointer is SGL1 (PSDT 01b).
fn with_sgl(sqe: SubmissionEntry, sgl1: SglDescriptor) -> SubmissionEntry {
    sqe.with_psdt(Psdt::Sgl).with_sgl1(sgl1)
}

// -- MDTS --

/// A write one block over MDTS (257 blocks, 128 KiB + 512 bytes) from [`BUF`], whose data
/// pointer `sqe` carries and whose PRP list or SGL segment `list`, at [`LISTS`], is complete
/// and valid: Invalid Field in Command (Identify Controller, MDTS), decided from the command
/// alone, before any DMA. A controller that walks the descriptors first does work for a
/// command it must refuse anyway.
fn write_over_mdts_refused(sqe: SubmissionEntry, list: &[u8]) {
    let mut rig = io_rig();
    let len = MDTS + 512;
    rig.poke(BUF, &pattern(1, len as usize));
    rig.poke(LISTS, list);
    let watch = [Extent::new(BUF, len), Extent::new(LISTS, PS)];
    let (cqe, dma) = run(&mut rig, 1, sqe, &watch, &[]);
    assert_eq!(cqe.status(), dnr(Status::INVALID_FIELD));
    assert_eq!(dma, []);
    next_write_lands(&mut rig, 1, 0);
}

/// PRP1 and a list of the 32 further pages.
#[test]
fn write_one_block_over_mdts_reads_no_prp_list() {
    let sqe = io_sqe(Opcode::NVM_WRITE, 1, 0, 257)
        .with_prp1(BUF)
        .with_prp2(LISTS);
    write_over_mdts_refused(sqe, &slots(&pages_from(BUF + PS, 32)));
}

/// A Last Segment holding one data block of the whole length.
#[test]
fn write_one_block_over_mdts_reads_no_sgl_segment() {
    let sgl1 = pointer(LISTS, 1, SegmentKind::LastSegment);
    let sqe = with_sgl(io_sqe(Opcode::NVM_WRITE, 1, 0, 257), sgl1);
    write_over_mdts_refused(sqe, &descriptors(&[block(BUF, (MDTS + 512) as u32)]));
}

/// Exactly MDTS (256 blocks, 32 pages: PRP1 and a list of 31 entries) is legal and moves
/// every byte, stored where it belongs and nowhere else; the list is read once, its 31
/// entries and no slot beyond them.
#[test]
fn write_of_exactly_mdts_moves_it_all() {
    let mut rig = io_rig();
    let data = pattern(3, MDTS as usize);
    rig.poke(BUF, &data);
    rig.poke(LISTS, &slots(&pages_from(BUF + PS, 31)));
    let sqe = io_sqe(Opcode::NVM_WRITE, 1, 0, 256)
        .with_prp1(BUF)
        .with_prp2(LISTS);
    let before = Before::capture(&rig, &[Extent::new(BUF, MDTS), Extent::new(LISTS, PS)]);
    let slot = next_cqe_slot(&rig, 1);
    rig.m.controller.set_tracing(true);
    let cqe = rig.exec(1, sqe);
    rig.m.controller.set_tracing(false);
    let trace = rig.m.controller.take_trace();
    assert_eq!(cqe.status(), Status::SUCCESS);
    before.stored(0, &data).check(&rig, &[slot], 0);
    let of = |purpose| {
        trace
            .accesses()
            .iter()
            .filter(move |a| a.purpose == purpose)
    };
    assert_eq!(of(DmaPurpose::DataRead).map(|a| a.len).sum::<u64>(), MDTS);
    assert_eq!(
        of(DmaPurpose::PrpListFetch).map(|a| a.len).sum::<u64>(),
        31 * 8
    );
    assert!(
        of(DmaPurpose::PrpListFetch).all(|a| a.addr >= LISTS && a.addr + a.len <= LISTS + 31 * 8)
    );
    next_write_lands(&mut rig, 1, 256);
}

// -- DMA into the controller's own registers --
//
// A data pointer may name any bus address, including the controller's BAR0. A DMA there
// would reach the device's own registers and doorbells (an emulator that lets it through
// re-enters itself); the mock refuses any access that touches the window, even partly, with
// Data Transfer Error, and probes every buffer before moving a byte (see its module docs).

/// A ready controller whose register window lies at [`BAR0`], inside host RAM, with I/O
/// queue pair 1. The window's bytes of RAM and a page either side are poisoned and watched.
struct Bar0Case {
    rig: Rig,
    around: Extent,
}

impl Bar0Case {
    fn new() -> Self {
        let config = ControllerConfig {
            bar0: BAR0,
            ..controller_config()
        };
        let mut rig = rig_with(config, 16);
        let window = rig.m.controller.register_window();
        let around = Extent::new(window.addr - PS, window.len + 2 * PS);
        rig.poke(around.addr, &vec![POISON; around.len as usize]);
        Bar0Case { rig, around }
    }

    /// `sqe` on queue 1 fails with Data Transfer Error; `dma` is all the DMA it caused
    /// beyond its queue entries; nothing in `watch` (nor around the window) changed; and
    /// the queue still works.
    fn refused(mut self, sqe: SubmissionEntry, watch: &[Extent], dma: &[DmaAccess]) {
        let watch = [watch, &[self.around]].concat();
        let (cqe, caused) = run(&mut self.rig, 1, sqe, &watch, &[]);
        assert_eq!(cqe.status(), dnr(Status::DATA_TRANSFER_ERROR));
        assert_eq!(caused, dma);
        next_write_lands(&mut self.rig, 1, 0);
    }
}

/// A write whose data page lies inside BAR0: refused; the namespace is unchanged and the
/// trace holds the refused probe alone.
#[test]
fn write_from_inside_the_register_window() {
    let sqe = io_sqe(Opcode::NVM_WRITE, 1, 0, 8).with_prp1(BAR0 + 0x1000);
    let dma = refused(DmaPurpose::DataRead, BAR0 + 0x1000, PS);
    Bar0Case::new().refused(sqe, &[], &[dma]);
}

/// A read into one SGL data block that starts half a page below BAR0 and runs into it:
/// refused whole, so not even the half below the window is written.
#[test]
fn read_into_a_buffer_running_into_the_register_window() {
    let sgl1 = block(BAR0 - 0x800, 0x1000);
    let sqe = with_sgl(io_sqe(Opcode::NVM_READ, 1, 0, 8), sgl1);
    let dma = refused(DmaPurpose::DataWrite, BAR0 - 0x800, 0x1000);
    Bar0Case::new().refused(sqe, &[], &[dma]);
}

/// PRP2 is a list pointer into BAR0: the list fetch (two entries) is refused; no data
/// moves, although PRP1's page is ordinary memory.
#[test]
fn prp_list_in_the_register_window() {
    let mut case = Bar0Case::new();
    case.rig.poke(BUF, &pattern(4, 3 * PS as usize));
    let sqe = io_sqe(Opcode::NVM_WRITE, 1, 0, 24)
        .with_prp1(BUF)
        .with_prp2(BAR0 + 0x2000);
    let dma = refused(DmaPurpose::PrpListFetch, BAR0 + 0x2000, 16);
    case.refused(sqe, &[Extent::new(BUF, 3 * PS)], &[dma]);
}

/// SGL1 is a Last Segment descriptor whose segment lies in BAR0: the fetch is refused.
#[test]
fn sgl_segment_in_the_register_window() {
    let sgl1 = pointer(BAR0 + 0x100, 1, SegmentKind::LastSegment);
    let sqe = with_sgl(io_sqe(Opcode::NVM_WRITE, 1, 0, 8), sgl1);
    let dma = refused(DmaPurpose::SglSegmentFetch, BAR0 + 0x100, 16);
    Bar0Case::new().refused(sqe, &[], &[dma]);
}

/// A chain whose first segment (in memory) holds a valid data block and then points into
/// BAR0: the second fetch is refused, and the first block's data, already known, is not
/// moved either (the whole pointer is walked before any data).
#[test]
fn sgl_chain_whose_next_segment_is_in_the_register_window() {
    let mut case = Bar0Case::new();
    case.rig.poke(BUF, &pattern(5, 2 * PS as usize));
    let first = [
        block(BUF, 0x1000),
        pointer(BAR0 + 0x200, 1, SegmentKind::LastSegment),
    ];
    case.rig.poke(LISTS, &descriptors(&first));
    let sgl1 = pointer(LISTS, 2, SegmentKind::Segment);
    let sqe = with_sgl(io_sqe(Opcode::NVM_WRITE, 1, 0, 16), sgl1);
    let fetched = DmaAccess {
        purpose: DmaPurpose::SglSegmentFetch,
        addr: LISTS,
        len: 32,
        target: DmaTarget::Host,
    };
    let dma = [
        fetched,
        refused(DmaPurpose::SglSegmentFetch, BAR0 + 0x200, 16),
    ];
    let watch = [Extent::new(BUF, 2 * PS), Extent::new(LISTS, 32)];
    case.refused(sqe, &watch, &dma);
}

// -- Get Log Page and Identify at and past the end of their data --
//
// Get Log Page (section 5.16 in rev. 2.0): LPOU:LPOL is a byte offset into the page. An
// offset greater than the page's size shall fail with Invalid Field in Command; so an offset
// equal to the size is legal and returns no page bytes. A length running past the end
// returns the page and undefined bytes after it (this controller sends zeros). The offset
// shall be dword aligned; a controller may report Invalid Field when it is not (this one
// does) or act as if bits 1:0 were clear. The checks come before the data pointer is used.

/// The SMART / Health Information page (512 bytes), as the next Get Log Page would return it.
fn smart_page(rig: &Rig) -> Vec<u8> {
    rig.m.controller.smart_log().as_bytes().to_vec()
}

/// A SMART page request of `len` bytes from `offset` succeeds and writes exactly `expected`
/// at the start of the buffer, and not a byte more.
fn log_page_returns(len: u64, offset: u64, expected: &[u8]) {
    let mut rig = io_rig();
    rig.poke(BUF, &[POISON; PS as usize]);
    let sqe = get_log_page(LID_SMART, len, offset, BUF);
    let written = Extent::new(BUF, len);
    let (cqe, _) = run(&mut rig, 0, sqe, &[Extent::new(BUF, PS)], &[written]);
    assert_eq!(cqe.status(), Status::SUCCESS);
    assert_eq!(rig.peek(BUF, expected.len()), expected);
    next_admin_command_works(&mut rig);
}

/// 8 bytes from offset 508: the page's last dword, then 4 bytes past its end (zeros here).
#[test]
fn log_page_read_across_its_end() {
    let page = smart_page(&io_rig());
    log_page_returns(8, 508, &[&page[508..], &[0; 4]].concat());
}

/// Offset 512, exactly the page's size: not greater than it, so legal; 4 bytes past the end.
#[test]
fn log_page_offset_at_its_end() {
    log_page_returns(4, 512, &[0; 4]);
}

/// Get Log Page commands refused before their data pointer is used: no DMA, no byte of the
/// buffer written.
fn log_page_refused(lid: u8, len: u64, offset: u64) {
    let mut rig = io_rig();
    rig.poke(BUF, &[POISON; PS as usize]);
    let sqe = get_log_page(lid, len, offset, BUF);
    let (cqe, dma) = run(&mut rig, 0, sqe, &[Extent::new(BUF, PS)], &[]);
    assert_eq!(cqe.status(), dnr(Status::INVALID_FIELD));
    assert_eq!(dma, []);
    next_admin_command_works(&mut rig);
}

/// Offset 516, one dword past the end of the 512-byte page.
#[test]
fn log_page_offset_one_dword_past_its_end() {
    log_page_refused(LID_SMART, 4, 516);
}

/// Offset 2^32 (LPOU = 1, LPOL = 0): a controller that reads only LPOL would return the page
/// from its start.
#[test]
fn log_page_offset_in_its_upper_dword() {
    log_page_refused(LID_SMART, 4, 1 << 32);
}

/// Offset 510 lies inside the page but is not dword aligned.
#[test]
fn log_page_offset_not_dword_aligned() {
    log_page_refused(LID_SMART, 2, 510);
}

/// A length of MDTS + 4 bytes: Get Log Page transfers data like any other command, so MDTS
/// bounds it too.
#[test]
fn log_page_longer_than_mdts() {
    log_page_refused(LID_SMART, MDTS + 4, 0);
}

/// Identify, Active Namespace ID list (CNS 02h) lists the active NSIDs greater than NSID.
/// From the last namespace on there are none: success, and the whole 4 KiB list is zeros.
#[test]
fn active_namespace_list_after_the_last_namespace() {
    let mut rig = io_rig();
    rig.poke(BUF, &[POISON; PS as usize]);
    let written = Extent::new(BUF, PS);
    let sqe = identify(CNS_ACTIVE_NAMESPACE_LIST, 1, BUF);
    let (cqe, _) = run(&mut rig, 0, sqe, &[written], &[written]);
    assert_eq!(cqe.status(), Status::SUCCESS);
    assert_eq!(rig.peek(BUF, PS as usize), vec![0; PS as usize]);
    next_admin_command_works(&mut rig);
}

/// The same list from NSID FFFFFFFEh or FFFFFFFFh: the specification makes both Invalid
/// Namespace or Format; Linux's NVMe target accepted them until 2024 (commit 899d2e5a4e3d).
#[test]
fn active_namespace_list_from_fffffffeh_and_ffffffffh() {
    let mut rig = io_rig();
    rig.poke(BUF, &[POISON; PS as usize]);
    for nsid in [0xffff_fffe, 0xffff_ffff] {
        let sqe = identify(CNS_ACTIVE_NAMESPACE_LIST, nsid, BUF);
        let (cqe, dma) = run(&mut rig, 0, sqe, &[Extent::new(BUF, PS)], &[]);
        assert_eq!(
            cqe.status(),
            dnr(Status::INVALID_NAMESPACE_OR_FORMAT),
            "{nsid:#x}"
        );
        assert_eq!(dma, []);
    }
    next_admin_command_works(&mut rig);
}

/// Identify Namespace (CNS 00h) for the NSID one past the last (NN + 1): an invalid NSID,
/// so Invalid Namespace or Format (section 3.2.1.5 in rev. 2.0), not a page of zeros.
#[test]
fn identify_namespace_one_past_the_last() {
    let mut rig = io_rig();
    rig.poke(BUF, &[POISON; PS as usize]);
    let sqe = identify(CNS_NAMESPACE, 2, BUF);
    let (cqe, dma) = run(&mut rig, 0, sqe, &[Extent::new(BUF, PS)], &[]);
    assert_eq!(cqe.status(), dnr(Status::INVALID_NAMESPACE_OR_FORMAT));
    assert_eq!(dma, []);
    next_admin_command_works(&mut rig);
}

// -- Doorbells --
//
// A doorbell value that is invalid, or a doorbell of a queue that does not exist, is reported
// through an outstanding Asynchronous Event Request (error status, information 01h "Invalid
// Doorbell Write Value" or 00h "Write To Invalid Doorbell Register", log page 01h; section
// 4.1 in rev. 1.4). This controller ignores such a write: no queue state changes and no
// command runs (src/controller/mod.rs, "Behaviour the specification leaves open").

/// CID of the Asynchronous Event Request the doorbell cases hold.
const AER_CID: u16 = 0xae;

/// Why the controller ignores a doorbell write: the event it records and the asynchronous
/// event information it reports.
#[derive(Clone, Copy)]
enum BadDoorbell {
    /// 00h, write to an invalid doorbell register: no such queue, or no doorbell there.
    Register,
    /// 01h, invalid doorbell write value.
    Value,
}

impl BadDoorbell {
    fn event(self, offset: u64, value: u32) -> ControllerEvent {
        match self {
            BadDoorbell::Register => ControllerEvent::InvalidDoorbellRegister { offset, value },
            BadDoorbell::Value => ControllerEvent::InvalidDoorbellValue { offset, value },
        }
    }

    /// The completion DW0 of the Asynchronous Event Request that reports it: event type 0
    /// (error status) in bits 2:0, the information in 15:8, log page 01h in 23:16.
    fn aer_dw0(self) -> u32 {
        let info = match self {
            BadDoorbell::Register => 0x00,
            BadDoorbell::Value => 0x01,
        };
        0x01 << 16 | info << 8
    }
}

/// Write `value` to the doorbell at `offset` with an Asynchronous Event Request held. The
/// write must be ignored: the controller records `why`'s event, completes the request with
/// `why`'s error event, and makes no other DMA; nothing changed (see [`Before`]) but the
/// admin completion slot.
fn ignored_doorbell(rig: &mut Rig, offset: u64, value: u32, why: BadDoorbell) {
    rig.submit(
        0,
        &SubmissionEntry::new(Opcode::ADMIN_ASYNC_EVENT_REQUEST, AER_CID),
    );
    assert!(rig.reap(0).is_none(), "an AER completes only on an event");
    let before = Before::capture(rig, &[]);
    let slot = next_cqe_slot(rig, 0);
    rig.m.controller.set_tracing(true);
    rig.m.write32(offset, value).unwrap();
    rig.m.controller.set_tracing(false);
    let trace = rig.m.controller.take_trace();
    before.check(rig, &[slot], 1);
    let events = rig.m.controller.events();
    assert_eq!(events.last(), Some(&why.event(offset, value)));
    let aer_post = DmaAccess {
        purpose: DmaPurpose::CqePost,
        addr: slot.addr,
        len: 16,
        target: DmaTarget::Host,
    };
    assert_eq!(
        trace.accesses(),
        [aer_post],
        "the AER completion, and nothing else"
    );
    let aer = rig.reap(0).unwrap();
    assert_eq!(
        (aer.cid(), aer.status(), aer.dw0()),
        (AER_CID, Status::SUCCESS, why.aer_dw0())
    );
}

/// A write to block 0 sits in SQ 1's slot 0, not yet announced.
fn write_waiting_in_slot_0(rig: &mut Rig) -> Vec<u8> {
    let bytes = pattern(6, 512);
    rig.poke(BUF, &bytes);
    rig.submit_no_doorbell(1, &io_sqe(Opcode::NVM_WRITE, 1, 0, 1).with_prp1(BUF));
    bytes
}

/// The write waiting in slot 0 runs when the host rings the right tail (1), and completes
/// with SQ head 1 in the first slot of the CQ.
fn waiting_write_runs(rig: &mut Rig, bytes: &[u8]) {
    rig.ring_sq(1);
    let cqe = rig.reap(1).expect("the write completed");
    assert_eq!((cqe.status(), cqe.sqhd()), (Status::SUCCESS, 1));
    assert_eq!(rig.m.controller.namespace_data(1, 0, 1).unwrap(), bytes);
}

/// SQ tail 16 on a 16-slot queue: slots are 0 to 15, so the value is out of range. Taking it
/// (or taking it modulo the size, 0) would run nothing or garbage; the write is ignored, and
/// the command waiting in slot 0 runs only when the host rings tail 1.
#[test]
fn sq_tail_doorbell_at_the_queue_size() {
    let mut rig = io_rig();
    let bytes = write_waiting_in_slot_0(&mut rig);
    let doorbell = sq_tail_doorbell(1, 0).unwrap();
    ignored_doorbell(&mut rig, doorbell, 16, BadDoorbell::Value);
    waiting_write_runs(&mut rig, &bytes);
}

/// SQ tail 10001h: bits 31:16 of the doorbell are reserved. A controller that masks them
/// off reads tail 1 and runs a command the host never announced.
#[test]
fn sq_tail_doorbell_with_reserved_bits_set() {
    let mut rig = io_rig();
    let bytes = write_waiting_in_slot_0(&mut rig);
    let doorbell = sq_tail_doorbell(1, 0).unwrap();
    ignored_doorbell(&mut rig, doorbell, 0x1_0001, BadDoorbell::Value);
    waiting_write_runs(&mut rig, &bytes);
}

/// A 4-slot queue pair has two completions posted (slots 0 and 1) that the host has not
/// consumed, when CQ head `head` is written: ignored, so the controller still believes slots
/// 2 and 3 free. A third command completes into slot 2 at once, and the two earlier
/// completions, then it, are reaped in order.
fn cq_head_ignored(head: u32) {
    let mut rig = rig_with(controller_config(), 4);
    let flush = |cid| SubmissionEntry::new(Opcode::NVM_FLUSH, cid).with_nsid(1);
    rig.submit(1, &flush(1));
    rig.submit(1, &flush(2));
    let doorbell = cq_head_doorbell(1, 0).unwrap();
    ignored_doorbell(&mut rig, doorbell, head, BadDoorbell::Value);
    rig.submit(1, &flush(3));
    let cids: Vec<(u16, u16)> = std::iter::from_fn(|| rig.reap(1))
        .map(|c| (c.cid(), c.sqhd()))
        .collect();
    assert_eq!(cids, [(1, 1), (2, 2), (3, 3)]);
}

/// CQ head 3 with completions posted only in slots 0 and 1: the host claims to have consumed
/// an entry it was never given. Taken, it would leave head one past tail, so a controller
/// would see the queue full and stall it; ignored, the next completion lands in slot 2.
#[test]
fn cq_head_doorbell_past_the_last_posted_entry() {
    cq_head_ignored(3);
}

/// CQ head 4 on a 4-slot queue: out of range (an emulator that indexes its ring with it
/// reads past the ring).
#[test]
fn cq_head_doorbell_at_the_queue_size() {
    cq_head_ignored(4);
}

/// A doorbell of queue 5, which was never created (its doorbells lie inside the register
/// window, as those of every queue id up to the controller's maximum do): ignored, and I/O
/// queue 1 goes on working.
fn doorbell_of_queue_5_ignored(doorbell: u64) {
    let mut rig = io_rig();
    ignored_doorbell(&mut rig, doorbell, 1, BadDoorbell::Register);
    next_write_lands(&mut rig, 1, 0);
}

#[test]
fn sq_doorbell_of_a_queue_never_created() {
    doorbell_of_queue_5_ignored(sq_tail_doorbell(5, 0).unwrap());
}

#[test]
fn cq_doorbell_of_a_queue_never_created() {
    doorbell_of_queue_5_ignored(cq_head_doorbell(5, 0).unwrap());
}

/// The SQ tail doorbell of a queue deleted with a valid write still in its memory: the
/// controller fetches nothing from memory it no longer owns, so the write never runs.
#[test]
fn sq_doorbell_of_a_deleted_queue() {
    let mut rig = io_rig();
    rig.create_io_pair(2, 16);
    rig.poke(BUF, &pattern(7, 512));
    rig.submit_no_doorbell(2, &io_sqe(Opcode::NVM_WRITE, 1, 0, 1).with_prp1(BUF));
    let delete = |opcode| delete_queue(opcode, 2);
    assert_eq!(
        rig.admin(delete(Opcode::ADMIN_DELETE_IO_SQ)),
        Status::SUCCESS
    );
    assert_eq!(
        rig.admin(delete(Opcode::ADMIN_DELETE_IO_CQ)),
        Status::SUCCESS
    );
    let doorbell = sq_tail_doorbell(2, 0).unwrap();
    ignored_doorbell(&mut rig, doorbell, 1, BadDoorbell::Register);
    next_write_lands(&mut rig, 1, 1);
}

/// Offset 1002h falls between the SQ 0 tail and CQ 0 head doorbells (stride 4): no doorbell
/// at all, so no queue may move.
#[test]
fn doorbell_offset_between_two_doorbells() {
    let mut rig = io_rig();
    ignored_doorbell(&mut rig, 0x1002, 1, BadDoorbell::Register);
    next_admin_command_works(&mut rig);
}

// -- Queues --

/// Writes `cid`'s 512 bytes (a pattern of its own) to block `cid`, from a buffer of its own.
fn write_of_block(rig: &mut Rig, cid: u16) -> (SubmissionEntry, Vec<u8>) {
    let bytes = pattern(0x100 + u64::from(cid), 512);
    let buf = BUF + u64::from(cid) * PS;
    rig.poke(buf, &bytes);
    let sqe = io_sqe(Opcode::NVM_WRITE, 1, u64::from(cid), 1).with_prp1(buf);
    let mut sqe = sqe;
    sqe.set_cid(cid);
    (sqe, bytes)
}

/// A completion queue of 4 slots holds 3 entries (full when tail + 1 == head; section 4.1.2 in
/// rev. 1.4). Four writes announced at once on a 16-slot SQ: three complete; the fourth waits,
/// unfetched and unrun, and no completion is overwritten. When the host consumes one entry,
/// the fourth runs and completes into slot 3; the next one wraps to slot 0 with phase 0.
#[test]
fn a_full_completion_queue_holds_the_next_command() {
    let mut rig = Rig::new(controller_config());
    let (cq, sq) = (rig.alloc_queue_mem(4 * 16), rig.alloc_queue_mem(16 * 64));
    assert_eq!(rig.admin(create_cq(1, 4, cq)), Status::SUCCESS);
    assert_eq!(rig.admin(create_sq(1, 16, sq, 1)), Status::SUCCESS);
    // The rig's bookkeeping serves the 4-slot CQ; SQ entries are placed by hand.
    rig.queues.insert(1, HostQueue::new(sq, cq, 4, 1));
    let mut stored = Vec::new();
    for cid in 0..5u16 {
        let (sqe, bytes) = write_of_block(&mut rig, cid);
        rig.poke(sq + u64::from(cid) * 64, &sqe.to_bytes());
        stored.push(bytes);
    }
    let before = Before::capture(&rig, &[]);
    rig.m.controller.set_tracing(true);
    rig.m.write32(sq_tail_doorbell(1, 0).unwrap(), 4).unwrap();
    let fetched = |rig: &mut Rig| {
        let trace = rig.m.controller.take_trace();
        let sqes = trace
            .accesses()
            .iter()
            .filter(|a| a.purpose == DmaPurpose::SqeFetch);
        sqes.count()
    };
    assert_eq!(
        fetched(&mut rig),
        3,
        "the fourth entry is not fetched while the CQ is full"
    );
    let ring = rig.peek(cq, 64);
    let posted: Vec<(u16, bool)> = ring
        .chunks(16)
        .map(|c| CompletionEntry::from_bytes(c.try_into().unwrap()))
        .map(|c| (c.cid(), c.phase()))
        .collect();
    assert_eq!(
        posted,
        [(0, true), (1, true), (2, true), (0, false)],
        "slot 3 still empty"
    );
    for block in 0..4u16 {
        let now = rig
            .m
            .controller
            .namespace_data(1, u64::from(block), 1)
            .unwrap();
        let expected = if block < 3 {
            &stored[usize::from(block)]
        } else {
            &vec![0; 512]
        };
        assert_eq!(&now, expected, "block {block}");
    }
    // Consume slot 0 (the rig rings CQ head 1): the fourth write runs, into slot 3 alone.
    let first = rig.reap(1).unwrap();
    assert_eq!((first.cid(), first.sqhd()), (0, 1));
    assert_eq!(fetched(&mut rig), 1);
    assert_eq!(
        rig.peek(cq + 16, 32),
        ring[16..48],
        "slots 1 and 2 overwritten"
    );
    assert_eq!(rig.m.controller.namespace_data(1, 3, 1).unwrap(), stored[3]);
    let rest: Vec<(u16, u16)> = std::iter::from_fn(|| rig.reap(1))
        .map(|c| (c.cid(), c.sqhd()))
        .collect();
    assert_eq!(rest, [(1, 2), (2, 3), (3, 4)]);
    // The fifth wraps to slot 0 with phase 0 (the rig's reap expects the flipped phase).
    rig.m.write32(sq_tail_doorbell(1, 0).unwrap(), 5).unwrap();
    rig.m.controller.set_tracing(false);
    let fifth = rig.reap(1).expect("the fifth completed with phase 0");
    assert_eq!((fifth.cid(), fifth.sqhd(), fifth.phase()), (4, 5, false));
    assert_eq!(rig.m.controller.namespace_data(1, 4, 1).unwrap(), stored[4]);
    // The writes stored their blocks and nothing else; registers and events as they were.
    before
        .stored(0, &stored.concat())
        .check(&rig, &[Extent::new(cq, 64)], 0);
}

/// Delete I/O Completion Queue while I/O SQ 1 still posts to it: the host must delete the
/// SQs first, and the controller fails the command with Invalid Queue Deletion (command
/// specific 0Ch; Delete I/O Completion Queue command). The CQ stays, and SQ 1 keeps
/// completing into it in order.
#[test]
fn deleting_a_cq_an_sq_still_uses() {
    let mut rig = io_rig();
    next_write_lands(&mut rig, 1, 0);
    let delete_cq = delete_queue(Opcode::ADMIN_DELETE_IO_CQ, 1);
    let (cqe, dma) = run(&mut rig, 0, delete_cq, &[], &[]);
    assert_eq!(cqe.status(), dnr(Status::INVALID_QUEUE_DELETION));
    assert_eq!(dma, []);
    next_write_lands(&mut rig, 1, 1);
    next_write_lands(&mut rig, 1, 2);
    // In the right order, both deletions succeed.
    let delete_sq = delete_queue(Opcode::ADMIN_DELETE_IO_SQ, 1);
    assert_eq!(rig.admin(delete_sq), Status::SUCCESS);
    assert_eq!(rig.admin(delete_cq), Status::SUCCESS);
}

/// Two writes with the same CID announced by one doorbell. A CID must be unique among a
/// queue's outstanding commands; a controller may detect a reuse (Command ID Conflict, 03h).
/// This one runs each command to completion before fetching the next, so the first is no
/// longer outstanding when the second arrives (module docs): both run, in order, each
/// completion naming the CID and its own SQ head.
#[test]
fn a_cid_reused_on_the_same_sq() {
    let mut rig = io_rig();
    let mut stored = Vec::new();
    for block in [3, 4] {
        let (mut sqe, bytes) = write_of_block(&mut rig, block);
        sqe.set_cid(7);
        rig.submit_no_doorbell(1, &sqe);
        stored.extend(bytes);
    }
    let before = Before::capture(&rig, &[]);
    let first = next_cqe_slot(&rig, 1);
    rig.ring_sq(1);
    let completions: Vec<(u16, u16, Status)> = std::iter::from_fn(|| rig.reap(1))
        .map(|c| (c.cid(), c.sqhd(), c.status()))
        .collect();
    assert_eq!(
        completions,
        [(7, 1, Status::SUCCESS), (7, 2, Status::SUCCESS)]
    );
    let two_slots = Extent::new(first.addr, 32);
    before.stored(3, &stored).check(&rig, &[two_slots], 0);
    next_write_lands(&mut rig, 1, 0);
}

/// The one command this controller keeps outstanding is an Asynchronous Event Request. An
/// Identify reusing its CID is not looked for: it runs and completes with that CID, and the
/// request, still held, later completes with the same CID. (Command ID Conflict would be the
/// status for it; a host that reuses a CID cannot tell the two completions apart.)
#[test]
fn a_cid_reused_while_an_aer_holds_it() {
    let mut rig = io_rig();
    rig.submit(
        0,
        &SubmissionEntry::new(Opcode::ADMIN_ASYNC_EVENT_REQUEST, AER_CID),
    );
    assert!(rig.reap(0).is_none());
    let mut reuse = identify(CNS_CONTROLLER, 0, BUF);
    reuse.set_cid(AER_CID);
    let written = Extent::new(BUF, PS);
    let before = Before::capture(&rig, &[]);
    let slot = next_cqe_slot(&rig, 0);
    rig.submit(0, &reuse);
    let cqe = rig.reap(0).expect("the Identify completed");
    assert_eq!(
        (cqe.cid(), cqe.status(), cqe.dw0()),
        (AER_CID, Status::SUCCESS, 0)
    );
    before.check(&rig, &[slot, written], 0);
    // The request is still held: an event completes it, with the same CID.
    let doorbell = sq_tail_doorbell(5, 0).unwrap();
    rig.m.write32(doorbell, 1).unwrap();
    let aer = rig.reap(0).expect("the AER completed");
    assert_eq!(
        (aer.cid(), aer.dw0()),
        (AER_CID, BadDoorbell::Register.aer_dw0())
    );
    next_admin_command_works(&mut rig);
}
