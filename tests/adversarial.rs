//! A catalogue of hostile NVMe inputs at the data-pointer level (the controller level is in
//! `tests/adversarial_controller.rs`). Each case is a named test holding the input and the
//! exact NVMe status a controller must complete it with (or, for the legal inputs that real
//! implementations got wrong, exactly what it must do).
//!
//! A case holds the command (its SQE, queue and the controller's capabilities) and the memory
//! a guest prepared, and goes through the controller's path: `dptr::decode`, then the data (and
//! metadata) pointer walked into pieces. Whatever the outcome, the harness checks that nothing
//! else happened: no DMA write, every byte of memory as the guest left it, reads within the
//! walker's documented work bound, and after an error the walk yields nothing more. The host
//! side's refusals (descriptor memory, middle extents, MDTS) are here too.
//!
//! The cases cover every failure class real drivers and emulators have shipped (the table
//! below; the cases of the register window row need a whole controller and are in
//! `tests/adversarial_controller.rs`) and the PSDT and PRP corner cases they have mishandled.
//!
//! | failure class | cases |
//! |---|---|
//! | a list that exactly fills a page treated as chained | `exactly_512_list_entries_fill_one_page`, `exactly_513_list_entries_chain_to_a_second_page` |
//! | a PRP2 list pointer with an offset read past its page | `list_pointer_with_an_offset_stays_in_its_page`, `list_pointer_whose_offset_leaves_one_slot`, `list_pointer_whose_one_slot_chains_into_nothing` |
//! | a zero-length element looping forever or tripping checks | `sgl_zero_length_descriptors_then_data`, `sgl_zero_length_descriptors_past_the_walk_limit`, `sgl_segment_of_length_zero`, `prp_zero_length_transfer_reads_nothing` |
//! | middle extents not ending on a page boundary accepted silently | `prp_middle_extent_ending_inside_a_page` |
//! | offsets silently masked instead of rejected | `prp_offset_in_a_list_entry`, `prp_offset_in_a_list_entry_after_the_first_batch`, `prp2_as_second_page_with_an_offset`, `prp_chain_pointer_with_an_offset` |
//! | descriptor memory sized from an undercount and overrun | `prp_list_memory_one_page_short`, `sgl_segment_memory_one_buffer_short` |
//! | a DMA address in the device's own registers | `write_from_inside_the_register_window`, `read_into_a_buffer_running_into_the_register_window`, `prp_list_in_the_register_window`, `sgl_segment_in_the_register_window`, `sgl_chain_whose_next_segment_is_in_the_register_window` |
//! | a segment chain that points back at itself | `sgl_segment_that_points_back_at_itself`, `prp_list_that_chains_to_itself` |
//! | a bit bucket on a read shifting data into the wrong buffer | `sgl_bit_bucket_on_a_read_keeps_data_in_place` |
//! | a data block longer than the remaining transfer silently truncated | `sgl_data_block_longer_than_the_transfer` |
//! | lengths that wrap past 2^64 | `sgl_data_block_wrapping_at_2_64`, `sgl_segment_wrapping_at_2_64`, `contiguous_metadata_wrapping_at_2_64` (and `prp_transfer_ending_at_2_64`, `sgl_data_block_ending_at_2_64`, which must pass) |

use nvme_dma_testkit::guest;

use guest::{
    block, bucket, byte_aligned, descriptors, dnr, pages_from, pointer, slots, POISON, PS,
};
use nvme_dma::dptr::{self, DptrWalker};
use nvme_dma::prp::geometry::{
    first_page_slots, list_entries, list_pages, list_slots_read, pages_touched,
};
use nvme_dma::prp::{BuildError, PrpBuilder, PrpListPage};
use nvme_dma::sgl::{
    DataDescriptor, SegmentBuf, SegmentKind, SegmentPointer, SglBuilder, SglCaps, WalkLimits,
};
use nvme_dma::spec::{Psdt, SglDescriptor, SglSubtype, SglSupport, Sgls, Status, SubmissionEntry};
use nvme_dma::walk::{Progress, Walk};
use nvme_dma::QueueKind;
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, PageSize, SimMemory};

/// Where the guest put its PRP lists and SGL segments.
const LIST: u64 = 0x8_0000;

/// One command as a controller receives it, and the memory around it.
struct Command {
    sqe: SubmissionEntry,
    queue: QueueKind,
    caps: SglCaps,
    page_size: PageSize,
    direction: Direction,
    len: u64,
    metadata_len: u64,
    memory: Vec<(u64, Vec<u8>)>,
}

/// The pieces of the data and of the metadata, or the completion status.
type Outcome = Result<(Vec<Piece>, Vec<Piece>), Status>;

impl Command {
    /// A read of `len` bytes described by PRP1/PRP2 on an I/O queue, 4 KiB pages.
    fn prp(prp1: u64, prp2: u64, len: u64) -> Self {
        Command {
            sqe: SubmissionEntry::default()
                .with_psdt(Psdt::Prp)
                .with_prp1(prp1)
                .with_prp2(prp2),
            queue: QueueKind::Io,
            caps: byte_aligned(),
            page_size: PageSize::SIZE_4K,
            direction: Direction::Read,
            len,
            metadata_len: 0,
            memory: Vec::new(),
        }
    }

    /// A transfer of `len` bytes described by SGL1 (PSDT 01b) on an I/O queue.
    fn sgl(sgl1: SglDescriptor, direction: Direction, len: u64) -> Self {
        let mut c = Command::prp(0, 0, len);
        c.sqe = SubmissionEntry::default()
            .with_psdt(Psdt::Sgl)
            .with_sgl1(sgl1);
        c.direction = direction;
        c
    }

    /// `metadata_len` bytes of metadata described by an SGL behind MPTR (PSDT 10b), no data.
    fn metadata_sgl(mptr: u64, metadata_len: u64) -> Self {
        let mut c = Command::sgl(SglDescriptor::default(), Direction::Read, 0);
        c.sqe.set_psdt(Psdt::SglMetadataSgl);
        c.sqe.set_mptr(mptr);
        c.caps = SglCaps::new(byte_aligned().sgls() | Sgls::MPTR_SGL);
        c.metadata_len = metadata_len;
        c
    }

    fn memory(mut self, addr: u64, bytes: Vec<u8>) -> Self {
        self.memory.push((addr, bytes));
        self
    }

    fn caps(mut self, caps: SglCaps) -> Self {
        self.caps = caps;
        self
    }

    /// Decode and walk the command; check that it wrote nothing, changed no byte, read
    /// within the walker's bound, and stopped for good at its first error.
    fn run(&self) -> Outcome {
        let mut mem = SimMemory::new();
        for (addr, bytes) in &self.memory {
            mem.map(*addr, bytes.len() as u64).unwrap();
            mem.poke(*addr, bytes).unwrap();
        }
        let before: Vec<Vec<u8>> = self
            .memory
            .iter()
            .map(|(a, b)| mem.peek_vec(*a, b.len()).unwrap())
            .collect();
        mem.clear_log();

        let outcome = self.walk(&mem);

        assert_eq!(mem.write_count(), 0, "the walk wrote host memory");
        for ((addr, _), was) in self.memory.iter().zip(&before) {
            assert_eq!(
                &mem.peek_vec(*addr, was.len()).unwrap(),
                was,
                "memory at {addr:#x}"
            );
        }
        self.check_work_bound(&mem);
        outcome
    }

    fn walk(&self, mem: &SimMemory) -> Outcome {
        let pointers = dptr::decode(&self.sqe, self.queue, &self.caps).map_err(|e| e.status())?;
        let data =
            drain(pointers.walk_data(self.direction, self.len, self.page_size, &self.caps, mem))?;
        let metadata = if self.metadata_len > 0 {
            drain(pointers.walk_metadata(self.direction, self.metadata_len, &self.caps, mem))?
        } else {
            Vec::new()
        };
        Ok((data, metadata))
    }

    /// PRPs: no more list slots than `E + P - 1`, in no more than `2P - 1 + E / 64` reads
    /// (none within two pages) when `fill` has room for the pieces. SGLs: no more than the walk limits allow (descriptor bytes
    /// and memory reads).
    fn check_work_bound(&self, mem: &SimMemory) {
        let (bytes, reads) = (mem.bytes_read(), mem.read_count());
        if self.sqe.psdt() == Psdt::Prp {
            let ps = self.page_size;
            let entries = list_entries(pages_touched(ps, self.sqe.prp1(), self.len));
            let pages = list_pages(ps, first_page_slots(ps, self.sqe.prp2()), entries);
            let slots = list_slots_read(ps, self.sqe.prp2(), entries);
            assert!(bytes <= 8 * slots, "{bytes} bytes read > {slots} slots");
            let max_reads = (2 * pages).saturating_sub(1) + entries / 64;
            assert!(reads <= max_reads, "{reads} reads > {max_reads}");
        } else {
            let limits = self.caps.limits();
            let max_bytes = limits.max_bytes_read(false) + limits.max_bytes_read(true);
            let max_reads = limits.max_reads(false) + limits.max_reads(true);
            assert!(
                bytes <= max_bytes && reads <= max_reads,
                "{bytes} B in {reads} reads"
            );
        }
    }

    /// The command must complete with exactly `status`.
    fn expect(&self, status: Status) {
        assert_eq!(self.run(), Err(status));
    }

    /// The command must transfer exactly these data pieces.
    fn expect_data(&self, pieces: &[Piece]) {
        assert_eq!(self.run(), Ok((pieces.to_vec(), Vec::new())));
    }
}

/// Collect a walk through `fill`, with room for many pieces as an emulator building an I/O
/// vector gives it (the read bounds below assume that room); after an error it must yield
/// nothing more.
fn drain(mut walker: DptrWalker<'_, SimMemory>) -> Result<Vec<Piece>, Status> {
    let mut out = Vec::new();
    let mut buf = vec![Piece::Skip(0); 4096];
    loop {
        match walker.fill(&mut buf) {
            Ok(progress) => {
                assert!(
                    progress.written > 0 || progress.done,
                    "fill made no progress"
                );
                out.extend_from_slice(&buf[..progress.written]);
                if progress.done {
                    return Ok(out);
                }
            }
            Err(e) => {
                assert_eq!(
                    walker.fill(&mut buf),
                    Ok(Progress::FINISHED),
                    "the walk went on after {e}"
                );
                return Err(e.status());
            }
        }
    }
}

fn data(addr: u64, len: u64) -> Piece {
    Piece::Data(Extent::new(addr, len))
}

// ---- PSDT and the command ----

#[test]
fn reserved_psdt() {
    // PSDT 11b, otherwise a perfect PRP command.
    let mut c = Command::prp(0x1_0000, 0, 0x200);
    c.sqe.set_psdt(Psdt::Reserved);
    c.expect(dnr(Status::INVALID_FIELD));
}

#[test]
fn sgl_on_an_admin_command() {
    // Admin commands use PRPs only, even on a controller that supports SGLs.
    let mut c = Command::sgl(block(0x1_0000, 0x200), Direction::Read, 0x200);
    c.queue = QueueKind::Admin;
    c.expect(dnr(Status::INVALID_FIELD));
}

#[test]
fn sgl_on_a_controller_without_sgls() {
    Command::sgl(block(0x1_0000, 0x200), Direction::Read, 0x200)
        .caps(SglCaps::new(Sgls::empty()))
        .expect(dnr(Status::INVALID_FIELD));
}

#[test]
fn metadata_sgl_without_msds() {
    Command::metadata_sgl(LIST, 0x40)
        .caps(byte_aligned())
        .expect(dnr(Status::INVALID_FIELD));
}

#[test]
fn metadata_sgl_pointer_not_qword_aligned() {
    Command::metadata_sgl(LIST + 4, 0x40)
        .memory(
            LIST,
            descriptors(&[block(0x3_0000, 0x40), block(0x3_0000, 0x40)]),
        )
        .expect(dnr(Status::INVALID_FIELD));
}

#[test]
fn contiguous_metadata_wrapping_at_2_64() {
    // PSDT 00b: MPTR is one buffer, and this one would run past the top of memory.
    let mut c = Command::prp(0x1_0000, 0, 0x200);
    c.sqe.set_mptr(u64::MAX - 0x1f);
    c.metadata_len = 0x40;
    c.expect(dnr(Status::METADATA_SGL_LENGTH_INVALID));
}

// ---- PRP ----

#[test]
fn prp1_zero_is_a_legal_address() {
    // Bus address 0 is memory like any other: PRP1 = 0 is not "no pointer".
    Command::prp(0, LIST, 3 * PS)
        .memory(LIST, slots(&[PS, 2 * PS]))
        .expect_data(&[data(0, 3 * PS)]);
}

#[test]
fn prp1_not_dword_aligned() {
    Command::prp(0x1_0002, 0, 0x100).expect(dnr(Status::PRP_OFFSET_INVALID));
}

#[test]
fn prp2_as_second_page_with_an_offset() {
    // Two pages: PRP2 is a data page and must start on a page boundary.
    Command::prp(0x1_0800, 0x2_0010, PS).expect(dnr(Status::PRP_OFFSET_INVALID));
}

#[test]
fn prp_list_pointer_not_qword_aligned() {
    Command::prp(0x1_0000, LIST + 4, 3 * PS)
        .memory(LIST, slots(&[0x2_0000, 0x3_0000, 0x4_0000]))
        .expect(dnr(Status::PRP_OFFSET_INVALID));
}

#[test]
fn prp_offset_in_a_list_entry() {
    // The second entry carries an offset: rejected, not masked to its page.
    Command::prp(0x1_0000, LIST, 3 * PS)
        .memory(LIST, slots(&[0x2_0000, 0x3_0200]))
        .expect(dnr(Status::PRP_OFFSET_INVALID));
}

#[test]
fn prp_offset_in_a_list_entry_after_the_first_batch() {
    let mut entries = pages_from(0x10_0000, 100);
    entries[90] += 8;
    Command::prp(0, LIST, 101 * PS)
        .memory(LIST, slots(&entries))
        .expect(dnr(Status::PRP_OFFSET_INVALID));
}

#[test]
fn prp_chain_pointer_with_an_offset() {
    let mut entries = pages_from(0x10_0000, 511);
    entries.push(0x20_0000 + 0x10); // the pointer to the next list page
    Command::prp(0, LIST, 600 * PS)
        .memory(LIST, slots(&entries))
        .memory(0x20_0000, slots(&pages_from(0x30_0000, 100)))
        .expect(dnr(Status::PRP_OFFSET_INVALID));
}

#[test]
fn prp_list_not_in_memory() {
    Command::prp(0x1_0000, LIST, 3 * PS).expect(dnr(Status::DATA_TRANSFER_ERROR));
}

#[test]
fn prp_list_ends_before_its_last_entry() {
    // Two of three entries mapped: the list cannot be fetched whole.
    Command::prp(0, LIST, 4 * PS)
        .memory(LIST, slots(&[PS, 2 * PS]))
        .expect(dnr(Status::DATA_TRANSFER_ERROR));
}

#[test]
fn exactly_512_list_entries_fill_one_page() {
    // 513 pages: PRP1 and 512 entries, which fill a list page exactly. The last slot is
    // data, not a pointer; the memory after the page holds a decoy a chained walk would take.
    let entries = pages_from(0x10_0000 + PS, 512);
    Command::prp(0x10_0000, LIST, 513 * PS)
        .memory(LIST, slots(&entries))
        .memory(LIST + PS, slots(&[0xdead_0000]))
        .expect_data(&[data(0x10_0000, 513 * PS)]);
}

#[test]
fn exactly_513_list_entries_chain_to_a_second_page() {
    // 511 entries and a pointer in the first page, the last 2 entries in the second.
    let mut first = pages_from(0x10_0000 + PS, 511);
    first.push(0x40_0000);
    Command::prp(0x10_0000, LIST, 514 * PS)
        .memory(LIST, slots(&first))
        .memory(0x40_0000, slots(&pages_from(0x10_0000 + 512 * PS, 2)))
        .expect_data(&[data(0x10_0000, 514 * PS)]);
}

#[test]
fn list_pointer_with_an_offset_stays_in_its_page() {
    // PRP2 sits 0xf00 into its page: 32 slots, so 31 entries and the pointer onward. The
    // page after it holds a decoy list a walker reading past the page end would take.
    let mut first = pages_from(0x10_0000 + PS, 31);
    first.push(0x40_0000);
    Command::prp(0x10_0000, LIST + 0xf00, 40 * PS)
        .memory(LIST + 0xf00, slots(&first))
        .memory(LIST + PS, slots(&pages_from(0xdead_0000, 8)))
        .memory(0x40_0000, slots(&pages_from(0x10_0000 + 32 * PS, 8)))
        .expect_data(&[data(0x10_0000, 40 * PS)]);
}

#[test]
fn list_pointer_whose_offset_leaves_one_slot() {
    // PRP2 is 8 bytes before its page end: that one slot must be the pointer onward, since
    // two entries remain. Reading past the page end would find a decoy entry instead.
    Command::prp(0, LIST + PS - 8, 3 * PS)
        .memory(LIST + PS - 8, slots(&[0x40_0000, 0xdead_0000]))
        .memory(0x40_0000, slots(&[PS, 2 * PS]))
        .expect_data(&[data(0, 3 * PS)]);
}

#[test]
fn list_pointer_whose_one_slot_chains_into_nothing() {
    // The same layout with the next list page unmapped: the chain is followed, so the walk
    // fails, where a walker that read on past the page end would have succeeded.
    Command::prp(0, LIST + PS - 8, 3 * PS)
        .memory(LIST + PS - 8, slots(&[0x40_0000, PS, 2 * PS]))
        .expect(dnr(Status::DATA_TRANSFER_ERROR));
}

#[test]
fn prp_list_that_chains_to_itself() {
    // Legal bytes: each pass over the page yields 511 pages. The length alone bounds the work.
    let mut entries = pages_from(0x10_0000, 511);
    entries.push(LIST);
    let c = Command::prp(0x0f_f000, LIST, 2000 * PS).memory(LIST, slots(&entries));
    let (pieces, _) = c.run().unwrap();
    assert_eq!(pieces.iter().map(Piece::len).sum::<u64>(), 2000 * PS);
}

#[test]
fn prp_transfer_ending_at_2_64() {
    // PRP1's page is the last page of the address space: the segment ends exactly at 2^64.
    let top = u64::MAX - (PS - 1);
    Command::prp(top + 0x800, 0x5_0000, PS)
        .expect_data(&[data(top + 0x800, 0x800), data(0x5_0000, 0x800)]);
}

#[test]
fn prp_zero_length_transfer_reads_nothing() {
    // Nothing to move: no list is read, even with a hostile PRP2.
    Command::prp(0x1_0000, 0x3, 0).expect_data(&[]);
}

// ---- SGL ----

#[test]
fn sgl_segment_that_points_back_at_itself() {
    // A Segment descriptor naming its own segment: bounded by the walk limits.
    let me = pointer(LIST, 2, SegmentKind::Segment);
    Command::sgl(me, Direction::Read, 1 << 30)
        .memory(LIST, descriptors(&[block(0x1_0000, 0x10), me]))
        .expect(dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS));
}

#[test]
fn sgl_zero_length_descriptors_then_data() {
    let mut list = vec![block(0, 0); 100];
    list.push(block(0x1_0000, 0x200));
    Command::sgl(
        pointer(LIST, 101, SegmentKind::LastSegment),
        Direction::Write,
        0x200,
    )
    .memory(LIST, descriptors(&list))
    .expect_data(&[data(0x1_0000, 0x200)]);
}

#[test]
fn sgl_zero_length_descriptors_past_the_walk_limit() {
    let limits = WalkLimits {
        max_descriptors: 64,
        max_segments: 4,
    };
    Command::sgl(
        pointer(LIST, 100, SegmentKind::LastSegment),
        Direction::Write,
        0x200,
    )
    .memory(LIST, descriptors(&vec![block(0, 0); 100]))
    .caps(byte_aligned().with_limits(limits))
    .expect(dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS));
}

#[test]
fn sgl_segment_of_2_28_descriptors_refused_before_reading() {
    let c = Command::sgl(
        pointer(LIST, (1 << 28) - 1, SegmentKind::LastSegment),
        Direction::Write,
        0x10,
    )
    .memory(LIST, descriptors(&[block(0x1_0000, 0x10)]));
    c.expect(dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS));
}

#[test]
fn sgl_bit_bucket_on_a_read_keeps_data_in_place() {
    // 0x800 bytes in, 0x800 discarded, 0x800 in: the second buffer gets transfer bytes
    // 0x1000.., not 0x800.. (the bucket does not shift data).
    Command::sgl(
        pointer(LIST, 3, SegmentKind::LastSegment),
        Direction::Read,
        0x1800,
    )
    .memory(
        LIST,
        descriptors(&[
            block(0x1_0000, 0x800),
            bucket(0x800),
            block(0x2_0000, 0x800),
        ]),
    )
    .expect_data(&[
        data(0x1_0000, 0x800),
        Piece::Skip(0x800),
        data(0x2_0000, 0x800),
    ]);
}

#[test]
fn sgl_bit_bucket_in_a_write_counts_nothing() {
    Command::sgl(
        pointer(LIST, 2, SegmentKind::LastSegment),
        Direction::Write,
        0x800,
    )
    .memory(LIST, descriptors(&[bucket(0x800), block(0x1_0000, 0x800)]))
    .expect_data(&[data(0x1_0000, 0x800)]);
}

#[test]
fn sgl_bit_bucket_unsupported() {
    Command::sgl(
        pointer(LIST, 2, SegmentKind::LastSegment),
        Direction::Read,
        0x20,
    )
    .memory(LIST, descriptors(&[block(0x1_0000, 0x10), bucket(0x10)]))
    .caps(SglCaps::new(Sgls::from_support(SglSupport::ByteAligned)))
    .expect(dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID));
}

#[test]
fn sgl_data_block_longer_than_the_transfer() {
    // Not truncated silently: without LLDTS the SGL may not describe more than the transfer.
    Command::sgl(block(0x1_0000, 0x1000), Direction::Read, 0x800)
        .expect(dnr(Status::DATA_SGL_LENGTH_INVALID));
}

#[test]
fn sgl_data_block_longer_than_the_transfer_with_lldts() {
    Command::sgl(block(0x1_0000, 0x1000), Direction::Read, 0x800)
        .caps(SglCaps::new(byte_aligned().sgls() | Sgls::LLDTS))
        .expect_data(&[data(0x1_0000, 0x800)]);
}

#[test]
fn sgl_shorter_than_the_transfer() {
    Command::sgl(block(0x1_0000, 0x800), Direction::Write, 0x1000)
        .expect(dnr(Status::DATA_SGL_LENGTH_INVALID));
}

#[test]
fn sgl_metadata_shorter_than_the_transfer() {
    Command::metadata_sgl(LIST, 0x40)
        .memory(LIST, descriptors(&[block(0x3_0000, 0x20)]))
        .expect(dnr(Status::METADATA_SGL_LENGTH_INVALID));
}

#[test]
fn sgl_data_block_wrapping_at_2_64() {
    Command::sgl(block(u64::MAX - 0xff, 0x200), Direction::Write, 0x200)
        .expect(dnr(Status::DATA_SGL_LENGTH_INVALID));
}

#[test]
fn sgl_data_block_ending_at_2_64() {
    Command::sgl(block(u64::MAX - 0x1ff, 0x200), Direction::Write, 0x200)
        .expect_data(&[data(u64::MAX - 0x1ff, 0x200)]);
}

#[test]
fn sgl_segment_wrapping_at_2_64() {
    let seg = SegmentPointer {
        addr: u64::MAX - 0xf,
        len: 0x20,
        kind: SegmentKind::LastSegment,
    };
    Command::sgl(seg.to_raw(), Direction::Write, 0x10).expect(dnr(Status::DATA_SGL_LENGTH_INVALID));
}

#[test]
fn sgl_pointer_not_last_in_its_segment() {
    Command::sgl(
        pointer(LIST, 2, SegmentKind::Segment),
        Direction::Write,
        0x10,
    )
    .memory(
        LIST,
        descriptors(&[
            pointer(LIST + 0x100, 1, SegmentKind::LastSegment),
            block(0x1_0000, 0x10),
        ]),
    )
    .memory(LIST + 0x100, descriptors(&[block(0x1_0000, 0x10)]))
    .expect(dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS));
}

#[test]
fn sgl_pointer_inside_the_last_segment() {
    Command::sgl(
        pointer(LIST, 2, SegmentKind::LastSegment),
        Direction::Write,
        0x10,
    )
    .memory(
        LIST,
        descriptors(&[
            block(0x1_0000, 0x10),
            pointer(LIST + 0x100, 1, SegmentKind::LastSegment),
        ]),
    )
    .memory(LIST + 0x100, descriptors(&[block(0x2_0000, 0x10)]))
    .expect(dnr(Status::INVALID_SGL_SEGMENT_DESCRIPTOR));
}

#[test]
fn sgl_segment_that_does_not_end_with_a_pointer() {
    // Reached through a Segment (not Last Segment) descriptor, so it must continue.
    Command::sgl(
        pointer(LIST, 2, SegmentKind::Segment),
        Direction::Write,
        0x20,
    )
    .memory(
        LIST,
        descriptors(&[block(0x1_0000, 0x10), block(0x2_0000, 0x10)]),
    )
    .expect(dnr(Status::INVALID_SGL_SEGMENT_DESCRIPTOR));
}

#[test]
fn sgl_segment_length_not_a_multiple_of_16() {
    let seg = SegmentPointer {
        addr: LIST,
        len: 24,
        kind: SegmentKind::LastSegment,
    };
    Command::sgl(seg.to_raw(), Direction::Write, 0x10)
        .memory(LIST, descriptors(&[block(0x1_0000, 0x10), block(0, 0)]))
        .expect(dnr(Status::INVALID_SGL_SEGMENT_DESCRIPTOR));
}

#[test]
fn sgl_segment_of_length_zero() {
    let seg = SegmentPointer {
        addr: LIST,
        len: 0,
        kind: SegmentKind::LastSegment,
    };
    Command::sgl(seg.to_raw(), Direction::Write, 0x10)
        .expect(dnr(Status::INVALID_SGL_SEGMENT_DESCRIPTOR));
}

#[test]
fn sgl_segment_not_qword_aligned() {
    let seg = SegmentPointer {
        addr: LIST + 4,
        len: 16,
        kind: SegmentKind::LastSegment,
    };
    Command::sgl(seg.to_raw(), Direction::Write, 0x10)
        .memory(LIST, descriptors(&[block(0x1_0000, 0x10), block(0, 0)]))
        .expect(dnr(Status::INVALID_SGL_SEGMENT_DESCRIPTOR));
}

#[test]
fn sgl_segment_not_in_memory() {
    Command::sgl(
        pointer(LIST, 1, SegmentKind::LastSegment),
        Direction::Write,
        0x10,
    )
    .expect(dnr(Status::DATA_TRANSFER_ERROR));
}

#[test]
fn sgl_reserved_descriptor_type() {
    let mut reserved = block(0x1_0000, 0x10);
    reserved.set_identifier(0x60);
    Command::sgl(reserved, Direction::Write, 0x10).expect(dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID));
}

#[test]
fn sgl_vendor_specific_descriptor_type() {
    let mut vendor = block(0x1_0000, 0x10);
    vendor.set_identifier(0xf0);
    Command::sgl(
        pointer(LIST, 1, SegmentKind::LastSegment),
        Direction::Write,
        0x10,
    )
    .memory(LIST, descriptors(&[vendor]))
    .expect(dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID));
}

#[test]
fn sgl_keyed_block_without_keyed_support() {
    let keyed = DataDescriptor::Keyed {
        addr: 0x1_0000,
        len: 0x10,
        key: 7,
        subtype: SglSubtype::Address,
    };
    Command::sgl(keyed.to_raw(), Direction::Write, 0x10)
        .expect(dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID));
}

#[test]
fn sgl_offset_outside_the_capsule() {
    let capsule = DataDescriptor::CapsuleBlock {
        offset: 0xf8,
        len: 0x10,
    };
    Command::sgl(capsule.to_raw(), Direction::Write, 0x10)
        .caps(
            SglCaps::new(byte_aligned().sgls() | Sgls::ADDRESS_AS_OFFSET).with_capsule_data(0x100),
        )
        .expect(dnr(Status::SGL_OFFSET_INVALID));
}

#[test]
fn sgl_data_block_not_dword_granular() {
    Command::sgl(block(0x1_0000, 0x11), Direction::Write, 0x11)
        .caps(SglCaps::new(Sgls::from_support(SglSupport::DwordAligned)))
        .expect(dnr(Status::SGL_DATA_BLOCK_GRANULARITY_INVALID));
}

#[test]
fn sgl_more_data_blocks_than_msdbd() {
    Command::sgl(
        pointer(LIST, 3, SegmentKind::LastSegment),
        Direction::Write,
        0x30,
    )
    .memory(
        LIST,
        descriptors(&[
            block(0x1_0000, 0x10),
            block(0x2_0000, 0x10),
            block(0x3_0000, 0x10),
        ]),
    )
    .caps(byte_aligned().with_msdbd(2))
    .expect(dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS));
}

// ---- Host side: the builders refuse, and write nothing ----

#[test]
fn prp_middle_extent_ending_inside_a_page() {
    let extents = [
        Extent::new(0x1_0000, PS),
        Extent::new(0x8_0000, 0x200),
        Extent::new(0xa_0000, PS),
    ];
    let mut list = vec![POISON; PS as usize];
    let result = PrpBuilder::new(PageSize::SIZE_4K)
        .build(&extents, &mut [PrpListPage::new(LIST, &mut list)]);
    assert!(
        matches!(result, Err(BuildError::EndInsidePage { index: 1, .. })),
        "{result:?}"
    );
    assert!(list.iter().all(|&b| b == POISON));
}

#[test]
fn prp_list_memory_one_page_short() {
    // 514 pages need two list pages; one is given.
    let extents = [Extent::new(0x10_0000, 514 * PS)];
    let mut list = vec![POISON; PS as usize];
    let result = PrpBuilder::new(PageSize::SIZE_4K)
        .build(&extents, &mut [PrpListPage::new(LIST, &mut list)]);
    assert_eq!(
        result.unwrap_err(),
        BuildError::ListMemoryTooSmall {
            needed: 2,
            given: 1
        }
    );
    assert!(list.iter().all(|&b| b == POISON));
}

#[test]
fn sgl_segment_memory_one_buffer_short() {
    // 5 descriptors in buffers of 2: a chain of 4 buffers; 3 are given.
    let pieces: Vec<Extent> = (1..=5).map(|i| Extent::new(i << 20, 0x100)).collect();
    let mut bytes = vec![vec![POISON; 32]; 3];
    let mut buffers: Vec<SegmentBuf<'_>> = bytes
        .iter_mut()
        .enumerate()
        .map(|(i, b)| SegmentBuf::new(LIST + 0x100 * i as u64, b))
        .collect();
    let builder = SglBuilder::new(byte_aligned(), Direction::Write);
    assert!(builder.build(&pieces, &mut buffers).is_err());
    drop(buffers);
    assert!(bytes.iter().flatten().all(|&b| b == POISON));
}

#[test]
fn mdts_exactly_is_built_and_walked() {
    // MDTS 128 KiB: a 32-page transfer is the largest one command may carry.
    let mdts = 32 * PS;
    let extents = [Extent::new(0x10_0000, mdts)];
    let mut list = vec![0u8; PS as usize];
    let layout = PrpBuilder::new(PageSize::SIZE_4K)
        .with_max_transfer(mdts)
        .build(&extents, &mut [PrpListPage::new(LIST, &mut list)])
        .unwrap();
    Command::prp(layout.pair.prp1, layout.pair.prp2.raw(), mdts)
        .memory(LIST, list[..31 * 8].to_vec())
        .expect_data(&[data(0x10_0000, mdts)]);
}

#[test]
fn mdts_plus_one_page_is_refused_by_the_builder() {
    let mdts = 32 * PS;
    let extents = [Extent::new(0x10_0000, mdts + PS)];
    let mut list = vec![POISON; PS as usize];
    let result = PrpBuilder::new(PageSize::SIZE_4K)
        .with_max_transfer(mdts)
        .build(&extents, &mut [PrpListPage::new(LIST, &mut list)]);
    assert_eq!(
        result.unwrap_err(),
        BuildError::TransferTooLong {
            len: mdts + PS,
            max: mdts
        }
    );
    assert!(list.iter().all(|&b| b == POISON));
    // The SGL builder refuses it too.
    let sgl = SglBuilder::new(byte_aligned(), Direction::Write).with_max_transfer(mdts);
    assert!(matches!(
        sgl.plan(extents),
        Err(nvme_dma::sgl::BuildError::TransferTooLong { .. })
    ));
}
