//! Property tests for PRPs: build then walk moves exactly the bytes of the extents; the builder
//! accepts exactly what an independent oracle accepts; the splitter's commands carry the same
//! bytes in the fewest commands; the walker terminates within its bound on hostile input.

use nvme_dma::prp::geometry::{list_entries, list_slots_read, pages_touched};
use nvme_dma::prp::{PrpBuilder, PrpWalker};
use nvme_dma::{Extent, PageSize, Piece, SimMemory};
use nvme_dma_testkit::contract::check_iterator_form;
use nvme_dma_testkit::oracle::*;
use nvme_dma_testkit::pattern::*;
use proptest::prelude::*;

/// Parameters of one extent in a generated layout.
#[derive(Clone, Debug)]
struct Part {
    page: u64,
    offset_dwords: u64,
    whole_pages: u64,
    tail: u64,
}

fn part() -> impl Strategy<Value = Part> {
    let whole = prop_oneof![
        8 => 0u64..4,
        1 => 500u64..530,  // around one full 4 KiB list page
        1 => 1015u64..1030 // around two chained list pages
    ];
    (0u64..1 << 20, any::<u64>(), whole, any::<u64>()).prop_map(|(page, off, whole_pages, tail)| {
        Part {
            page,
            offset_dwords: off,
            whole_pages,
            tail,
        }
    })
}

/// Extents one PRP command can carry, each in its own region so they never overlap.
fn valid_extents(ps: u64, parts: &[Part]) -> Vec<Extent> {
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let base = ((i as u64 + 1) << 44) + p.page * ps;
            let tail = 1 + p.tail % ps;
            if i == 0 {
                let off = (p.offset_dwords % (ps / 4)) * 4;
                let len = if n == 1 {
                    p.whole_pages * ps + tail
                } else {
                    (ps - off) + p.whole_pages * ps
                };
                Extent::new(base + off, len)
            } else if i + 1 < n {
                Extent::new(base, (p.whole_pages + 1) * ps)
            } else {
                Extent::new(base, p.whole_pages * ps + tail)
            }
        })
        .collect()
}

fn small_page_size() -> impl Strategy<Value = PageSize> {
    prop_oneof![Just(12u8), Just(13), Just(14), Just(16)]
        .prop_map(|s| PageSize::from_shift(s).unwrap())
}

fn any_page_size() -> impl Strategy<Value = PageSize> {
    (12u8..=27).prop_map(|s| PageSize::from_shift(s).unwrap())
}

/// A qword-aligned list offset, often 0 or the last slot of the page.
fn list_offset(ps: PageSize) -> impl Strategy<Value = u64> {
    let slots = ps.entries_per_page();
    prop_oneof![
        Just(0),
        Just((slots - 1) * 8),
        (0..slots).prop_map(|s| s * 8)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// Build then walk moves exactly the bytes of the extents, in order.
    #[test]
    fn build_then_walk_moves_the_same_bytes(
        (ps, list_off) in small_page_size().prop_flat_map(|ps| (Just(ps), list_offset(ps))),
        parts in prop::collection::vec(part(), 1..6),
        empties in prop::collection::vec((0usize..6, any::<u64>()), 0..2),
        seed in any::<u64>(),
    ) {
        let mut extents = valid_extents(ps.bytes(), &parts);
        let mut mem = SimMemory::new();
        fill_extents(&mut mem, &extents, seed);
        // Empty extents anywhere change nothing.
        for (at, addr) in empties {
            extents.insert(at.min(extents.len()), Extent::new(addr, 0));
        }
        let builder = PrpBuilder::new(ps);
        let layout = build_into(&builder, &extents, list_off, &mut mem).unwrap();
        let total: u64 = extents.iter().map(|e| e.len).sum();
        prop_assert_eq!(layout.plan.len(), total);
        prop_assert_eq!(layout.plan.pages(), oracle_pages(&extents, ps.bytes()));

        mem.clear_log();
        let segments = walk(&layout, ps, &mem).unwrap();
        prop_assert_eq!(&segments, &normalize(&extents));
        prop_assert_eq!(gather(&mem, &segments), expected_bytes(seed, total));
        // The walker read exactly the list slots the closed form predicts.
        let entries = list_entries(layout.plan.pages());
        prop_assert_eq!(mem.bytes_read(), 8 * list_slots_read(ps, layout.pair.prp2.raw(), entries));
    }

    /// The builder accepts exactly what the device-pages oracle accepts, at every page size.
    #[test]
    fn builder_agrees_with_oracle(
        ps in any_page_size(),
        parts in prop::collection::vec(part(), 1..5),
        mutations in prop::collection::vec((0usize..5, 0u8..6, any::<u64>()), 0..3),
        max in prop_oneof![Just(None), (1u64..1 << 40).prop_map(Some)],
    ) {
        let p = ps.bytes();
        let mut extents = valid_extents(p, &parts);
        for (at, kind, v) in mutations {
            let i = at % extents.len();
            let e = &mut extents[i];
            match kind {
                0 => e.addr = e.addr.wrapping_add(v % 16),           // nudge off alignment
                1 => e.len = e.len.wrapping_add(v % (2 * p)),        // lengthen
                2 => e.len = e.len.saturating_sub(v % p),            // shorten, maybe to zero
                3 => e.addr = u64::MAX - (v % (2 * p)),              // near the top of memory
                4 => extents.insert(i, Extent::new(v, v >> 40)),     // a stray extent
                _ => e.len = u64::MAX - (v % 4096),                  // absurd length
            }
        }
        let mut builder = PrpBuilder::new(ps);
        if let Some(m) = max {
            builder = builder.with_max_transfer(m);
        }
        let plan = builder.plan(&extents);
        prop_assert_eq!(plan.is_ok(), oracle_accepts(&extents, p, max), "plan: {:?}", plan);
        if let Ok(plan) = plan {
            prop_assert_eq!(plan.pages(), oracle_pages(&extents, p));
            // Every error message is printable; every accepted plan walks back (addresses
            // only here: huge page sizes make filling data impractical; the test above moves data).
            let mut mem = SimMemory::new();
            let layout = build_into(&builder, &extents, 0, &mut mem).unwrap();
            let segments = walk(&layout, ps, &mem).unwrap();
            prop_assert_eq!(segments, normalize(&extents));
        } else if let Err(e) = plan {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    /// The splitter's commands each build, carry the transfer's bytes in order, are whole
    /// blocks, and are as few as possible; it refuses exactly the transfers no split can carry.
    #[test]
    fn split_carries_everything_in_fewest_commands(
        ps in small_page_size(),
        raw in prop::collection::vec((0u64..64, 0u8..4, 1u64..40, 0u8..3), 1..8),
        block in prop_oneof![Just(512u64), Just(4096)],
        max in prop_oneof![Just(None), Just(Some(8192u64)), Just(Some(128 * 1024))],
    ) {
        let p = ps.bytes();
        // Extents in blocks, sometimes starting or ending off page or block boundaries.
        let extents: Vec<Extent> = raw
            .iter()
            .enumerate()
            .map(|(i, &(page, start_kind, blocks, end_kind))| {
                let start = match start_kind { 0 => 0, 1 => 512, 2 => 4, _ => p - 512 };
                let len = blocks * 512 - match end_kind { 0 => 0, 1 => 256, _ => 0 };
                Extent::new(((i as u64 + 1) << 40) + page * p + start, len)
            })
            .collect();
        let mut builder = PrpBuilder::new(ps);
        if let Some(m) = max {
            builder = builder.with_max_transfer(m);
        }
        let expected = expected_split(&extents, p, block, max);
        match builder.split(&extents, block) {
            Ok(split) => {
                let count = split.commands();
                prop_assert_eq!(Some(count), expected);
                let mut pieces = Vec::new();
                let mut offset = 0;
                for chunk in split {
                    prop_assert_eq!(chunk.offset, offset);
                    prop_assert_eq!(chunk.len % block, 0);
                    let part: Vec<Extent> = chunk.extents(&extents).collect();
                    let plan = builder.plan(&part).unwrap();
                    prop_assert_eq!(plan.len(), chunk.len);
                    offset += chunk.len;
                    pieces.extend(part);
                }
                prop_assert_eq!(normalize(&pieces), normalize(&extents));
            }
            Err(e) => prop_assert_eq!(expected, None, "split refused: {}", e),
        }
    }

    /// On arbitrary PRP values and memory, the walker terminates, never reads more list memory
    /// than the closed form allows, and what it accepts is a valid PRP layout of `len` bytes.
    #[test]
    fn walker_is_bounded_on_hostile_input(
        ps in any_page_size(),
        prp1 in prop_oneof![any::<u64>(), (0u64..1 << 20).prop_map(|x| x * 4)],
        prp2_pick in 0u8..4,
        prp2_raw in any::<u64>(),
        len in prop_oneof![0u64..1 << 16, 0u64..1 << 24],
        words in prop::collection::vec((0u8..5, any::<u64>()), 1..64),
    ) {
        let p = ps.bytes();
        // One mapped page of list memory at a page-aligned address; a second region too.
        let list_page = 0x4000_0000u64 & !(p - 1);
        let prp2 = match prp2_pick {
            0 => list_page,
            1 => list_page + (prp2_raw % (p / 8)) * 8,
            2 => list_page + (p - 8),
            _ => prp2_raw,
        };
        let mut mem = SimMemory::new();
        mem.map(list_page, p.min(1 << 16)).unwrap();
        let mut bytes = Vec::new();
        for (kind, v) in &words {
            let entry = match kind {
                0 => *v,                            // anything
                1 => v & !(p - 1),                  // page aligned anywhere
                2 => list_page,                     // points back at the list page itself
                3 => 0,                             // zero: a legal, page-aligned address
                _ => (v & !(p - 1)) | 8,            // offset entry
            };
            bytes.extend_from_slice(&entry.to_le_bytes());
        }
        mem.poke(list_page + (prp2 % p).min(p - 8) % (1 << 16), &bytes[..bytes.len().min(4096)]).ok();
        mem.clear_log();

        let result: Result<Vec<Extent>, _> = PrpWalker::new(prp1, prp2, len, ps, &mem).extents().collect();
        let pages = pages_touched(ps, prp1, len);
        let bound = 8 * list_slots_read(ps, prp2, list_entries(pages));
        prop_assert!(mem.bytes_read() <= bound, "read {} > bound {}", mem.bytes_read(), bound);
        let read = mem.bytes_read();
        let by_fill = check_iterator_form(|| PrpWalker::new(prp1, prp2, len, ps, &mem));
        let by_fill: Result<Vec<Extent>, _> =
            by_fill.map(|pieces| pieces.iter().filter_map(Piece::data).collect());
        prop_assert_eq!(&by_fill, &result);
        if let Ok(segments) = result {
            prop_assert_eq!(segments.iter().map(|s| s.len).sum::<u64>(), len);
            if len > 0 {
                prop_assert!(oracle_accepts(&segments, p, None));
                prop_assert_eq!(read, bound);
            }
        }
    }
}

/// The number of commands an optimal split needs, or `None` when no split exists, computed
/// independently from the rules: a cut is forced between two extents where one PRP cannot
/// continue; between forced cuts, a run of `r` bytes needs `ceil(r / chunk_max)` commands.
fn expected_split(extents: &[Extent], ps: u64, block: u64, max: Option<u64>) -> Option<usize> {
    let limit = max.unwrap_or(u64::MAX);
    let chunk_max = limit - limit % block;
    let nonempty: Vec<&Extent> = extents.iter().filter(|e| e.len > 0).collect();
    let total: u64 = nonempty.iter().map(|e| e.len).sum();
    if total == 0 || total % block != 0 || chunk_max == 0 {
        return None;
    }
    let mut commands = 0;
    let mut run = 0u64;
    let mut pos = 0u64;
    for (i, e) in nonempty.iter().enumerate() {
        let forced = i > 0 && {
            let prev = nonempty[i - 1];
            (prev.addr + prev.len) % ps != 0 || e.addr % ps != 0
        };
        if i == 0 || forced {
            if forced {
                if pos % block != 0 {
                    return None;
                }
                commands += run.div_ceil(chunk_max) as usize;
                run = 0;
            }
            if e.addr % 4 != 0 {
                return None;
            }
        }
        run += e.len;
        pos += e.len;
    }
    commands += run.div_ceil(chunk_max) as usize;
    Some(commands)
}

/// At every page size, PRP1 at the start, middle and last dword of its page, and lengths on
/// either side of the room left in that page (and the next page's end): the iterator form,
/// `fill` and `Walk::sole_piece` agree, with PRP2 a page that does not continue PRP1's.
#[test]
fn one_page_or_two_at_the_page_edge() {
    let mem = SimMemory::new();
    for ps in [PageSize::SIZE_4K, PageSize::SIZE_64K] {
        let p = ps.bytes();
        for offset in [0, 4, p / 2, p - 4] {
            let prp1 = 0x10_0000 * p + offset;
            let room = p - offset;
            for len in [
                1,
                room - 1,
                room,
                room + 1,
                room + 4,
                room + p - 1,
                room + p,
            ] {
                let walked = check_iterator_form(|| PrpWalker::new(prp1, 0x30 * p, len, ps, &mem));
                let pieces = walked.unwrap();
                assert_eq!(
                    pieces.len(),
                    if len <= room { 1 } else { 2 },
                    "{len:#x} at {prp1:#x}"
                );
            }
        }
    }
}
