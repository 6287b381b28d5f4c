//! Round trips through QEMU's NVMe controller: random data written through one data pointer
//! layout and read back through another, checked in the read buffers (and the bytes around
//! them), in the image file, and against the crate's own device-side walk of every command.
//!
//! Layouts come from the crate's builders: PRPs with first-page offsets, list pointers with
//! offsets and chained lists; SGL Data Blocks inline or in Segment / Last Segment chains of
//! small segments; and the driver's own choice under each `SglPolicy`. Every memory page
//! size QEMU allows (CAP.MPSMIN ..= MPSMAX) is used. One QEMU runs every case.

mod qemu;

use std::cell::RefCell;

use nvme_dma::dptr::{ControllerCaps, SglPolicy};
use nvme_dma::host::{Driver, DriverConfig};
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, PageSize};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use qemu::layouts::{
    data_extents, gather, io_sqe, place_prp, place_sgl, scatter, segment_places, walk_ours,
    XorShift, BLOCK, DESCRIPTOR_REGION, READ_REGION, WRITE_REGION,
};
use qemu::{Qemu, IMAGE_BYTES};

/// The driver's arena: 1 MiB .. 16 MiB of guest RAM.
const ARENA: Extent = Extent::new(1 << 20, 15 << 20);

/// How a buffer is laid out and described.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// PRP-shaped pieces, PRP1/PRP2 and lists placed by the test (list pointer offsets).
    Prp,
    /// Byte-granular pieces in an SGL with small segments placed by the test.
    Sgl,
    /// The driver's `read`/`write` with `dptr::fill_sqe` under a policy.
    Driver(SglPolicy),
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        3 => Just(Layout::Prp),
        3 => Just(Layout::Sgl),
        1 => Just(Layout::Driver(SglPolicy::Never)),
        1 => Just(Layout::Driver(SglPolicy::LINUX)),
        1 => Just(Layout::Driver(SglPolicy::Always)),
        1 => Just(Layout::Driver(SglPolicy::SmallestFootprint)),
    ]
}

#[derive(Clone, Debug)]
struct Case {
    blocks: u64,
    lba_seed: u64,
    seed: u64,
    write: Layout,
    read: Layout,
}

fn case(max_blocks: u64) -> impl Strategy<Value = Case> {
    let blocks = prop_oneof![1..=16u64, 1..=max_blocks, Just(max_blocks)];
    (blocks, any::<u64>(), any::<u64>(), layout(), layout()).prop_map(
        |(blocks, lba_seed, seed, write, read)| Case {
            blocks,
            lba_seed,
            seed,
            write,
            read,
        },
    )
}

/// Pieces the PRP rules accept: the first starts at a dword offset, every later one on a page
/// boundary, every one but the last ends on a page boundary; runs of 1-4 pages with gaps.
fn prp_pieces(rng: &mut XorShift, region: Extent, ps: PageSize, len: u64) -> Vec<Extent> {
    let p = ps.bytes();
    let offset = if rng.below(3) == 0 {
        0
    } else {
        rng.below(p / 4) * 4
    };
    let mut pieces = Vec::new();
    let mut cursor = region.addr + rng.below(3) * p;
    let mut remaining = len;
    let mut start_offset = offset;
    while remaining > 0 {
        let run = (1 + rng.below(4)) * p - start_offset;
        let piece = Extent::new(cursor + start_offset, run.min(remaining));
        pieces.push(piece);
        remaining -= piece.len;
        cursor = ps.page_base(piece.addr + piece.len - 1) + p + rng.below(3) * p;
        start_offset = 0;
    }
    assert!(cursor <= region.addr + region.len, "layout fits its region");
    pieces
}

/// Byte-granular pieces: 1-12 of random lengths, at random addresses, gaps of 0-4 KiB.
fn sgl_pieces(rng: &mut XorShift, region: Extent, len: u64) -> Vec<Extent> {
    let count = 1 + rng.below(12.min(len));
    let mut cuts: Vec<u64> = (1..count).map(|_| 1 + rng.below(len - 1)).collect();
    cuts.push(0);
    cuts.push(len);
    cuts.sort_unstable();
    cuts.dedup();
    let mut cursor = region.addr + rng.below(4096);
    let mut pieces = Vec::new();
    for pair in cuts.windows(2) {
        let piece = Extent::new(cursor, pair[1] - pair[0]);
        pieces.push(piece);
        cursor += piece.len + rng.below(4097);
    }
    assert!(cursor <= region.addr + region.len, "layout fits its region");
    pieces
}

fn pieces_for(
    layout: Layout,
    rng: &mut XorShift,
    region: Extent,
    ps: PageSize,
    len: u64,
) -> Vec<Extent> {
    match layout {
        Layout::Prp | Layout::Driver(SglPolicy::Never) => prp_pieces(rng, region, ps, len),
        Layout::Sgl => sgl_pieces(rng, region, len),
        Layout::Driver(_) if rng.below(2) == 0 => prp_pieces(rng, region, ps, len),
        Layout::Driver(_) => sgl_pieces(rng, region, len),
    }
}

/// The smallest extent covering `pieces` with `margin` bytes either side.
fn span(pieces: &[Extent], margin: u64) -> Extent {
    let start = pieces.iter().map(|e| e.addr).min().unwrap() - margin;
    let end = pieces.iter().map(|e| e.addr + e.len).max().unwrap() + margin;
    Extent::new(start, end - start)
}

struct Bench {
    driver: Option<Driver<Qemu>>,
    commands: u64,
    bytes: u64,
    /// Commands whose PRP list pointer had an offset; whose PRP lists chained (2+ pages);
    /// whose SGL used 1 segment; 2 (Last Segment only); 3+ (Segment and Last Segment);
    /// that went through the driver's own `dptr` choice.
    prp_list_offset: u64,
    prp_chained: u64,
    sgl_one_segment: u64,
    sgl_two_segments: u64,
    sgl_chained: u64,
    driver_chosen: u64,
}

/// What one command's data pointer looked like.
enum Shape {
    Prp {
        list_offset: bool,
        list_pages: usize,
    },
    Sgl {
        segments: usize,
    },
    Driver,
}

impl Bench {
    fn count(&mut self, shape: Shape) {
        match shape {
            Shape::Prp {
                list_offset,
                list_pages,
            } => {
                self.prp_list_offset += u64::from(list_offset && list_pages > 0);
                self.prp_chained += u64::from(list_pages > 1);
            }
            Shape::Sgl { segments: 1 } => self.sgl_one_segment += 1,
            Shape::Sgl { segments: 2 } => self.sgl_two_segments += 1,
            Shape::Sgl { segments } => self.sgl_chained += u64::from(segments > 2),
            Shape::Driver => self.driver_chosen += 1,
        }
    }
}

/// Move `pieces` with one command in `direction`, laid out as `layout` says; first check that
/// the crate's walker, reading the descriptors QEMU will read, finds exactly `pieces`.
fn run_command(
    driver: &mut Driver<Qemu>,
    rng: &mut XorShift,
    layout: Layout,
    direction: Direction,
    lba: u64,
    pieces: &[Extent],
) -> Result<Shape, TestCaseError> {
    let len: u64 = pieces.iter().map(|e| e.len).sum();
    let blocks = len / BLOCK;
    let ctrl: ControllerCaps = *driver.controller();
    let ps = ctrl.page_size;
    let mut sqe = io_sqe(direction, lba, blocks);
    let shape = match layout {
        Layout::Prp => {
            // Page aligned, anywhere, or in the last 16 slots of its page (so the list soon
            // chains to another page).
            let slots = ps.bytes() / 8;
            let list_offset = match rng.below(3) {
                0 => 0,
                1 => rng.below(slots) * 8,
                _ => (slots - 1 - rng.below(16)) * 8,
            };
            let list = DESCRIPTOR_REGION.addr + list_offset;
            let list_pages = place_prp(driver.bus_mut(), &ctrl, &mut sqe, pieces, list)
                .map_err(|e| TestCaseError::fail(format!("PRP build: {e}")))?;
            Shape::Prp {
                list_offset: list_offset != 0,
                list_pages,
            }
        }
        Layout::Sgl => {
            // Segments of growing capacity: QEMU 7.2 wrongly refuses a Last Segment descriptor
            // ending a segment as long as the one before it (CONFORMANCE.md, deviation 1).
            let smallest = 2 + rng.below(7) as usize;
            let capacities: Vec<usize> = (smallest..smallest + 16).collect();
            let first = DESCRIPTOR_REGION.addr + rng.below(256) * 16;
            let places = segment_places(first, &capacities, rng.below(4) * 16);
            let sgl: Vec<Piece> = pieces.iter().map(|e| Piece::Data(*e)).collect();
            let segments = place_sgl(driver.bus_mut(), &ctrl, &mut sqe, direction, &sgl, &places)
                .map_err(|e| TestCaseError::fail(format!("SGL build: {e}")))?;
            Shape::Sgl { segments }
        }
        Layout::Driver(policy) => {
            let done = match direction {
                Direction::Write => driver.write(lba, pieces, policy),
                Direction::Read => driver.read(lba, pieces, policy),
            };
            let done = done.map_err(|e| TestCaseError::fail(format!("driver {policy:?}: {e}")))?;
            prop_assert!(!done.commands.is_empty());
            prop_assert!(done
                .commands
                .iter()
                .all(|c| c.completion.status().is_success()));
            return Ok(Shape::Driver);
        }
    };
    let described = format!(
        "{layout:?} {direction:?} {} pieces {pieces:x?}",
        pieces.len()
    );
    let ours = walk_ours(driver.bus(), &ctrl, &sqe, direction, len)
        .map_err(|status| TestCaseError::fail(format!("our walker refused: {status}")))?;
    prop_assert_eq!(
        data_extents(&ours),
        data_extents(&pieces.iter().map(|e| Piece::Data(*e)).collect::<Vec<_>>()),
        "our walker reads back the pieces built"
    );
    driver
        .submit(1, sqe)
        .map_err(|e| TestCaseError::fail(format!("{described}, SQE {sqe:?}: {e}")))?;
    Ok(shape)
}

fn round_trip(bench: &mut Bench, case: &Case) -> Result<(), TestCaseError> {
    let driver = bench.driver.as_mut().expect("a running driver");
    let ps = driver.controller().page_size;
    let mut rng = XorShift(case.seed);
    let len = case.blocks * BLOCK;
    let lba = case.lba_seed % (IMAGE_BYTES / BLOCK - case.blocks + 1);

    let write_pieces = pieces_for(case.write, &mut rng, WRITE_REGION, ps, len);
    let data = rng.bytes(len as usize);
    scatter(driver.bus_mut(), &write_pieces, &data);
    let written = run_command(
        driver,
        &mut rng,
        case.write,
        Direction::Write,
        lba,
        &write_pieces,
    )?;
    let on_disk = driver.bus().image_bytes(lba * BLOCK, len as usize);
    prop_assert!(on_disk == data, "the image holds what was written");

    // Fill the read buffers and the bytes around them with a marker, read, and expect the data
    // in the buffers and the marker everywhere else.
    let read_pieces = pieces_for(case.read, &mut rng, READ_REGION, ps, len);
    let around = span(&read_pieces, 64);
    let marker = rng.bytes(around.len as usize);
    scatter(driver.bus_mut(), &[around], &marker);
    let read = run_command(
        driver,
        &mut rng,
        case.read,
        Direction::Read,
        lba,
        &read_pieces,
    )?;
    prop_assert!(
        gather(driver.bus(), &read_pieces) == data,
        "the read buffers hold the data"
    );
    let mut expected = marker;
    let mut at = 0usize;
    for piece in &read_pieces {
        let start = (piece.addr - around.addr) as usize;
        expected[start..start + piece.len as usize]
            .copy_from_slice(&data[at..at + piece.len as usize]);
        at += piece.len as usize;
    }
    prop_assert!(
        gather(driver.bus(), &[around]) == expected,
        "nothing outside the read buffers changed"
    );
    bench.commands += 2;
    bench.bytes += 2 * len;
    bench.count(written);
    bench.count(read);
    Ok(())
}

#[test]
fn random_data_round_trips_through_every_layout_and_page_size() {
    let Some(qemu) = Qemu::start("round-trips", "") else {
        return;
    };
    let config = DriverConfig::new(ARENA);
    let driver = Driver::start(qemu, config).expect("bring-up");
    let cap = driver.cap();
    let bench = RefCell::new(Bench {
        driver: Some(driver),
        commands: 0,
        bytes: 0,
        prp_list_offset: 0,
        prp_chained: 0,
        sgl_one_segment: 0,
        sgl_two_segments: 0,
        sgl_chained: 0,
        driver_chosen: 0,
    });
    let cases_env = std::env::var("NVME_DMA_QEMU_CASES").ok();
    let base_cases: u32 = cases_env.and_then(|v| v.parse().ok()).unwrap_or(32);
    for mps in cap.mpsmin()..=cap.mpsmax() {
        let ps = PageSize::from_mps(mps).expect("CAP page sizes are valid");
        {
            let mut b = bench.borrow_mut();
            let mut driver = b.driver.take().unwrap();
            if driver.controller().page_size != ps {
                driver.shutdown().expect("shutdown");
                let qemu = driver.into_bus();
                driver = Driver::start(qemu, config.with_page_size(ps))
                    .unwrap_or_else(|e| panic!("bring-up with {ps} pages: {e}"));
            }
            b.driver = Some(driver);
        }
        let max = bench
            .borrow()
            .driver
            .as_ref()
            .unwrap()
            .controller()
            .max_transfer;
        let max_blocks = max.bytes().unwrap_or(1 << 20).min(1 << 20) / BLOCK;
        // The common 4 KiB page gets the most cases.
        let cases = if mps == 0 {
            base_cases * 2
        } else {
            base_cases / 2
        };
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&case(max_blocks), |case| {
                round_trip(&mut bench.borrow_mut(), &case)
            })
            .unwrap_or_else(|e| panic!("{ps} pages: {e}"));
    }
    let b = bench.into_inner();
    let qemu = b.driver.unwrap().into_bus();
    eprintln!(
        "round trips: {} commands, {} bytes, {} qtest commands; PRP lists with an offset {}, \
         chained PRP lists {}, SGLs in 1 segment {}, in 2 {}, in 3+ {}, driver-chosen {}",
        b.commands,
        b.bytes,
        qemu.commands_sent(),
        b.prp_list_offset,
        b.prp_chained,
        b.sgl_one_segment,
        b.sgl_two_segments,
        b.sgl_chained,
        b.driver_chosen,
    );
    // The generators must reach the layouts this file is about.
    assert!(b.prp_list_offset > 0, "no PRP list pointer with an offset");
    assert!(b.prp_chained > 0, "no chained PRP list");
    assert!(
        b.sgl_chained > 0,
        "no SGL with Segment and Last Segment descriptors"
    );
    assert!(
        b.sgl_two_segments > 0,
        "no SGL with a Last Segment descriptor alone"
    );
    assert!(b.driver_chosen > 0, "no driver-chosen layout");
}
