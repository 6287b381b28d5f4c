//! Property tests for SGLs: build then walk moves exactly the bytes of the pieces (and on reads
//! puts every byte exactly where it belongs around the bit buckets); PRP and SGL layouts of the
//! same extents move identical bytes; the builder accepts exactly what an independent oracle
//! accepts; the walker terminates within its stated bound, and never panics, on arbitrary
//! memory.

use nvme_dma::memory::AccessKind;
use nvme_dma::prp::PrpBuilder;
use nvme_dma::sgl::{
    SegmentKind, SegmentPointer, SglBuilder, SglCaps, SglWalker, WalkError, WalkLimits,
};
use nvme_dma::spec::{SglDescriptor, SglSupport, Sgls, Status};
use nvme_dma::walk::{Progress, Walk};
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, PageSize, SimMemory};
use nvme_dma_testkit::contract::check_iterator_form;
use nvme_dma_testkit::oracle::*;
use nvme_dma_testkit::pattern::*;
use proptest::prelude::*;

/// Parameters of one generated piece.
#[derive(Clone, Debug)]
struct Gen {
    kind: u8,
    adjacent: bool,
    offset: u64,
    len: u64,
}

fn gen() -> impl Strategy<Value = Gen> {
    let len = prop_oneof![
        4 => 1u64..64,
        4 => 1u64..9000,
        1 => (1u64..5).prop_map(|p| p * 4096),
    ];
    (0u8..8, any::<bool>(), 0u64..1 << 20, len).prop_map(|(kind, adjacent, offset, len)| Gen {
        kind,
        adjacent,
        offset,
        len,
    })
}

/// Pieces that one SGL can carry: data in separate regions (or right after the previous data
/// piece, to exercise merging), and on reads some bit buckets. In dword mode every address
/// and length is a multiple of 4.
fn pieces(gens: &[Gen], direction: Direction, dword: bool) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut last_end: Option<u64> = None;
    for (i, g) in gens.iter().enumerate() {
        let len = if dword { g.len.div_ceil(4) * 4 } else { g.len };
        if g.kind == 0 && direction == Direction::Read {
            out.push(Piece::Skip(len));
            continue;
        }
        let addr = match last_end {
            Some(end) if g.adjacent => end,
            _ => {
                let off = if dword { g.offset & !3 } else { g.offset };
                ((i as u64 + 1) << 40) + off
            }
        };
        out.push(Piece::Data(Extent::new(addr, len)));
        last_end = Some(addr + len);
    }
    out
}

fn sgl_caps(dword: bool) -> SglCaps {
    let support = if dword {
        SglSupport::DwordAligned
    } else {
        SglSupport::ByteAligned
    };
    SglCaps::new(Sgls::from_support(support) | Sgls::BIT_BUCKET)
}

fn capacity() -> impl Strategy<Value = u64> {
    prop_oneof![Just(2u64), Just(3), Just(4), Just(16), Just(256)]
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![Just(Direction::Read), Just(Direction::Write)]
}

/// Pages that one PRP command can carry (the "device pages" rules), in separate regions.
fn prp_extents(ps: u64, parts: &[(u64, u64, u64)]) -> Vec<Extent> {
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .map(|(i, &(off, whole, tail))| {
            let base = ((i as u64 + 1) << 40) + (off % 64) * ps;
            let tail = 1 + tail % ps;
            if i == 0 {
                let start = (off * 4) % ps;
                if n == 1 {
                    Extent::new(base + start, whole * ps + tail)
                } else {
                    Extent::new(base + start, (ps - start) + whole * ps)
                }
            } else if i + 1 < n {
                Extent::new(base, (whole + 1) * ps)
            } else {
                Extent::new(base, whole * ps + tail)
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Build then walk moves exactly the bytes of the pieces, in order; the walker reads
    /// exactly the descriptors the layout holds.
    #[test]
    fn build_then_walk_moves_the_same_bytes(
        gens in prop::collection::vec(gen(), 1..40),
        dword in any::<bool>(),
        direction in direction(),
        capacity in capacity(),
        seed in any::<u64>(),
        out_len in 1usize..20,
    ) {
        let pieces = pieces(&gens, direction, dword);
        let caps = sgl_caps(dword);
        let builder = SglBuilder::new(caps, direction);
        let mut mem = SimMemory::new();
        fill_pieces(&mut mem, &pieces, seed);
        let layout = build_sgl_into(&builder, &pieces, capacity, &mut mem).unwrap();
        let total: u64 = pieces.iter().map(|p| p.len()).sum();
        prop_assert_eq!(layout.plan.len(), total);

        mem.clear_log();
        let walked = walk_sgl(layout.sgl1.to_raw(), direction, total, &caps, &mem).unwrap();
        prop_assert_eq!(&walked, &sgl_normalize(&pieces));
        prop_assert_eq!(gather_pieces(&mem, &walked), expected_data_bytes(&pieces, seed));
        // Every data descriptor and every pointer onward read once, nothing else.
        let pointers = (layout.segments_used as u64).saturating_sub(1);
        let read = if layout.plan.is_inline() { 0 } else { layout.plan.descriptors() + pointers };
        prop_assert_eq!(mem.bytes_read(), 16 * read);

        // The batch form moves the same bytes and reads the same descriptors.
        mem.clear_log();
        let walker = SglWalker::new(layout.sgl1.to_raw(), direction, total, &caps, &mem);
        let filled: Vec<Piece> =
            drain(walker, &[out_len], &[]).into_iter().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(gather_pieces(&mem, &filled), expected_data_bytes(&pieces, seed));
        prop_assert_eq!(&filled, &walked);
        prop_assert_eq!(mem.bytes_read(), 16 * read);
        prop_assert_eq!(layout.segments_used as u64, layout.plan.segments_needed(capacity));
    }

    /// Whichever pass plans the pieces, the plan and the descriptors written are the same:
    /// cutting a data piece in two (halves that merge back; unaligned halves in dword mode,
    /// which only the general planner takes) or adding empty pieces changes neither.
    #[test]
    fn cutting_pieces_changes_nothing(
        gens in prop::collection::vec(gen(), 1..40),
        dword in any::<bool>(),
        direction in direction(),
        capacity in capacity(),
        at in any::<usize>(),
        cut in any::<u64>(),
        empties in prop::collection::vec(any::<u64>(), 0..3),
    ) {
        let pieces = pieces(&gens, direction, dword);
        let mut cut_up = pieces.clone();
        let i = at % cut_up.len();
        if let Piece::Data(e) = cut_up[i] {
            if e.len >= 2 {
                let k = 1 + cut % (e.len - 1);
                cut_up[i] = Piece::Data(Extent::new(e.addr, k));
                cut_up.insert(i + 1, Piece::Data(Extent::new(e.addr + k, e.len - k)));
            }
        }
        for e in empties {
            let at = (e as usize) % (cut_up.len() + 1);
            cut_up.insert(at, Piece::Data(Extent::new(e, 0)));
        }
        let builder = SglBuilder::new(sgl_caps(dword), direction);
        let (mut whole_mem, mut cut_mem) = (SimMemory::new(), SimMemory::new());
        let whole = build_sgl_into(&builder, &pieces, capacity, &mut whole_mem).unwrap();
        let cut = build_sgl_into(&builder, &cut_up, capacity, &mut cut_mem).unwrap();
        prop_assert_eq!(whole, cut);
        for segment in 0..whole.segments_used as u64 {
            let addr = SEGMENT_REGION + segment * 0x1_0000;
            let len = capacity as usize * 16;
            prop_assert_eq!(whole_mem.peek_vec(addr, len).unwrap(), cut_mem.peek_vec(addr, len).unwrap());
        }
    }

    /// On a read, the controller puts every byte of the transfer exactly where the builder's
    /// pieces said, discards the bit-bucket bytes, and writes nothing else.
    #[test]
    fn reads_place_bytes_exactly_around_bit_buckets(
        gens in prop::collection::vec(gen(), 1..40),
        capacity in capacity(),
        seed in any::<u64>(),
    ) {
        let pieces = pieces(&gens, Direction::Read, false);
        let caps = sgl_caps(false);
        let builder = SglBuilder::new(caps, Direction::Read);
        let mut mem = SimMemory::new();
        fill_pieces(&mut mem, &pieces, !seed); // stale contents, to be overwritten
        let layout = build_sgl_into(&builder, &pieces, capacity, &mut mem).unwrap();
        let total = layout.plan.len();
        let walked = walk_sgl(layout.sgl1.to_raw(), Direction::Read, total, &caps, &mem).unwrap();
        mem.clear_log();
        deliver_read(&mut mem, &walked, seed);
        let data: Vec<Piece> =
            pieces.iter().copied().filter(|p| matches!(p, Piece::Data(_))).collect();
        prop_assert_eq!(gather_pieces(&mem, &data), expected_data_bytes(&pieces, seed));
        // Each write lies inside the data pieces (adjacent pieces merged: one write may span them).
        let runs = sgl_normalize(&data);
        for access in mem.accesses() {
            prop_assert_eq!(access.kind, AccessKind::Write);
            let inside = runs.iter().any(|p| match p {
                Piece::Data(e) => access.addr >= e.addr && access.addr + access.len <= e.addr + e.len,
                _ => false,
            });
            prop_assert!(inside, "write {:?} outside every data piece", access);
        }
    }

    /// With LLDTS, an SGL longer than the transfer moves exactly the transfer's bytes: the
    /// pieces, cut where the transfer ends.
    #[test]
    fn longer_sgl_with_lldts_moves_exactly_the_transfer(
        gens in prop::collection::vec(gen(), 1..20),
        direction in direction(),
        cut in any::<u64>(),
        capacity in capacity(),
    ) {
        let pieces = pieces(&gens, direction, false);
        let total: u64 = pieces.iter().map(|p| p.len()).sum();
        let transfer = 1 + cut % total;
        let caps = SglCaps::new(sgl_caps(false).sgls() | Sgls::LLDTS);
        let builder = SglBuilder::new(caps, direction).with_transfer_len(transfer);
        let mut mem = SimMemory::new();
        let layout = build_sgl_into(&builder, &pieces, capacity, &mut mem).unwrap();
        prop_assert_eq!(layout.plan.transfer_len(), transfer);
        let walked = walk_sgl(layout.sgl1.to_raw(), direction, transfer, &caps, &mem).unwrap();
        let mut expected = Vec::new();
        let mut left = transfer;
        for p in &pieces {
            let take = p.len().min(left);
            left -= take;
            match *p {
                Piece::Data(e) => expected.push(Piece::Data(Extent::new(e.addr, take))),
                Piece::Skip(_) => expected.push(Piece::Skip(take)),
                _ => unreachable!(),
            }
        }
        prop_assert_eq!(walked, sgl_normalize(&expected));
        // The same SGL without LLDTS is refused with Data SGL Length Invalid.
        if transfer < total {
            let strict = sgl_caps(false);
            let err = walk_sgl(layout.sgl1.to_raw(), direction, transfer, &strict, &mem).unwrap_err();
            prop_assert_eq!(err.status(), Status::DATA_SGL_LENGTH_INVALID.with_dnr(true));
        }
    }

    /// PRP and SGL layouts of the same extents walk back to the same segments and move the
    /// same bytes.
    #[test]
    fn prp_and_sgl_layouts_move_identical_bytes(
        parts in prop::collection::vec((0u64..1 << 20, 0u64..6, any::<u64>()), 1..8),
        capacity in capacity(),
        seed in any::<u64>(),
    ) {
        let ps = PageSize::SIZE_4K;
        let extents = prp_extents(ps.bytes(), &parts);
        let mut mem = SimMemory::new();
        fill_extents(&mut mem, &extents, seed);
        let prp = build_into(&PrpBuilder::new(ps), &extents, 0, &mut mem).unwrap();
        let prp_segments = walk(&prp, ps, &mem).unwrap();

        let caps = sgl_caps(false);
        let pieces: Vec<Piece> = extents.iter().map(|&e| Piece::Data(e)).collect();
        let sgl = build_sgl_into(&SglBuilder::new(caps, Direction::Write), &pieces, capacity, &mut mem).unwrap();
        let sgl_segments = walk_sgl(sgl.sgl1.to_raw(), Direction::Write, sgl.plan.len(), &caps, &mem).unwrap();

        let as_pieces: Vec<Piece> = prp_segments.iter().map(|&e| Piece::Data(e)).collect();
        prop_assert_eq!(&sgl_segments, &as_pieces);
        prop_assert_eq!(gather_pieces(&mem, &sgl_segments), gather(&mem, &prp_segments));
        prop_assert_eq!(gather(&mem, &prp_segments), expected_bytes(seed, prp.plan.len()));
    }

    /// The builder accepts exactly what the oracle accepts, across capabilities and hostile
    /// pieces; everything it accepts walks back to the merged pieces.
    #[test]
    fn builder_agrees_with_oracle(
        gens in prop::collection::vec(gen(), 1..12),
        mutations in prop::collection::vec((0usize..12, 0u8..9, any::<u64>()), 0..3),
        direction in direction(),
        flags in (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), 0u8..16),
        aligned in any::<bool>(),
        msdbd in prop_oneof![Just(0u8), 1u8..20],
        transfer in prop_oneof![Just(None), any::<u64>().prop_map(Some)],
        max in prop_oneof![Just(None), (1u64..1 << 22).prop_map(Some)],
    ) {
        let (dword, bit_bucket, keyed, lldts, support) = flags;
        let mut pieces = pieces(&gens, direction, aligned);
        for (at, kind, v) in mutations {
            let i = at % pieces.len();
            match kind {
                0 => pieces.insert(i, Piece::Skip(v % 5000)),
                1 => pieces.insert(i, Piece::Data(Extent::new(u64::MAX - v % 8192, v % 9000))),
                2 => pieces.insert(i, Piece::Data(Extent::new(v, 0))),
                3 => pieces.insert(i, Piece::Keyed { extent: Extent::new(v >> 8, v % 64), key: (v % 2) as u32 }),
                4 => pieces.insert(i, Piece::Data(Extent::new(v & !3, (v >> 40) * 4))),
                5 => pieces.insert(i, Piece::Data(Extent::new(1 << 20, u32::MAX as u64 + v % 9))),
                6 => pieces.insert(i, Piece::Keyed { extent: Extent::new(0, (1 << 24) + v % 9), key: 0 }),
                7 => pieces.insert(i, Piece::Data(Extent::new(v, u64::MAX - v % 4))),
                _ => {
                    if let Piece::Data(e) = &mut pieces[i] {
                        e.addr = e.addr.wrapping_add(v % 4);
                    }
                }
            }
        }
        let support_field = match support {
            0 => SglSupport::None,
            1 => SglSupport::Reserved,
            _ => if dword { SglSupport::DwordAligned } else { SglSupport::ByteAligned },
        };
        let mut sgls = Sgls::from_support(support_field);
        if bit_bucket { sgls |= Sgls::BIT_BUCKET; }
        if keyed { sgls |= Sgls::KEYED; }
        if lldts { sgls |= Sgls::LLDTS; }
        let caps = SglCaps::new(sgls).with_msdbd(msdbd);
        let transfer = transfer.map(|t| {
            let total: u64 = pieces.iter().fold(0u64, |a, p| a.wrapping_add(p.len()));
            // Near the described total, so LLDTS and shortfalls both come up.
            total.wrapping_sub(t % 3).wrapping_add(t % 2)
        });
        let mut builder = SglBuilder::new(caps, direction);
        if let Some(t) = transfer { builder = builder.with_transfer_len(t); }
        if let Some(m) = max { builder = builder.with_max_transfer(m); }
        let oracle = OracleCaps {
            supported: caps.supported(),
            dword: caps.dword_granular(),
            bit_bucket,
            keyed,
            lldts,
            msdbd: (msdbd != 0).then_some(u64::from(msdbd)),
        };
        let plan = builder.plan(&pieces);
        if let [single] = pieces[..] {
            // The fast path takes exactly the single pieces that make one descriptor.
            let inline = builder.build_inline(single);
            prop_assert_eq!(inline.is_ok(), plan.as_ref().is_ok_and(|p| p.descriptors() == 1));
        }
        prop_assert_eq!(
            plan.is_ok(),
            sgl_oracle_accepts(&pieces, direction, oracle, transfer, max),
            "plan: {:?}", plan
        );
        match plan {
            Ok(plan) if pieces.iter().all(|p| !matches!(p, Piece::Data(e) if e.len > 1 << 24)) => {
                // Walk it back: descriptors only (no data is read), so any addresses will do.
                let mut mem = SimMemory::new();
                let layout = build_sgl_into(&builder, &pieces, 16, &mut mem).unwrap();
                let walked = walk_sgl(layout.sgl1.to_raw(), direction, plan.transfer_len(), &caps, &mem).unwrap();
                prop_assert_eq!(walked.iter().map(|p| p.len()).sum::<u64>(), plan.transfer_len());
                if plan.transfer_len() == plan.len() {
                    let merged: Vec<Piece> = walked.iter().copied().filter(|p| !matches!(p, Piece::Keyed { .. })).collect();
                    let expected: Vec<Piece> = sgl_normalize(&pieces).into_iter().filter(|p| !matches!(p, Piece::Keyed { .. })).collect();
                    if !pieces.iter().any(|p| matches!(p, Piece::Keyed { .. })) {
                        prop_assert_eq!(merged, expected);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    /// On arbitrary descriptors in arbitrary memory, the walker terminates, reads no more
    /// than its stated bound, never panics, agrees with an independent reference walker
    /// (pieces or status), and what it accepts accounts for exactly the transfer.
    #[test]
    fn walker_is_bounded_on_hostile_input(case in hostile()) {
        let mut mem = case.memory();
        // Filled into room for every piece it could find (one per descriptor) and a batch
        // more: every read a full batch, so the fewest reads.
        let room = limits_room(&case.limits);
        let by_fill = drain(case.walker(&mem), &[room], &[]);
        let Hostile { caps, limits, first, direction, len, from_mptr, .. } = case;
        prop_assert!(mem.bytes_read() <= limits.max_bytes_read(from_mptr),
            "read {} bytes > bound {}", mem.bytes_read(), limits.max_bytes_read(from_mptr));
        prop_assert!(mem.read_count() <= limits.max_reads(from_mptr),
            "{} reads > bound {}", mem.read_count(), limits.max_reads(from_mptr));
        // The iterator (16 pieces at a time): the same answer, no more bytes, and never more
        // reads than descriptors.
        mem.clear_log();
        let result: Result<Vec<Piece>, _> = case.walker(&mem).pieces().collect();
        prop_assert_eq!(&outcome(by_fill), &result);
        prop_assert!(mem.bytes_read() <= limits.max_bytes_read(from_mptr));
        prop_assert!(mem.read_count() <= limits.max_bytes_read(from_mptr) / 16);
        // The same answer as the reference walker: the same pieces, or the same status.
        let first_arg = if from_mptr { Err(HOSTILE_MPTR) } else { Ok(first.to_bytes()) };
        let reference = reference_walk(first_arg, direction == Direction::Write, len, RefCaps::of(&caps), &mem);
        match (&result, &reference) {
            (Ok(pieces), Ok(expected)) => prop_assert_eq!(pieces, expected),
            (Err(e), Err(sc)) => prop_assert_eq!(e.status().sc(), *sc, "{}", e),
            _ => prop_assert!(false, "walker {:?} but reference {:?}", result, reference),
        }
        match result {
            Ok(pieces) => {
                prop_assert_eq!(pieces.iter().map(|p| p.len()).sum::<u64>(), len);
                prop_assert!(pieces.iter().all(|p| !p.is_empty()));
                if direction == Direction::Write {
                    prop_assert!(pieces.iter().all(|p| !matches!(p, Piece::Skip(_))));
                }
            }
            Err(e) => {
                prop_assert!(e.status().dnr());
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// On arbitrary descriptors in arbitrary memory, `fill` with any size of output slice,
    /// one call after another, with calls on an empty slice in between (which change
    /// nothing), ends the walk as the iterator does: the same pieces, or the same error (the
    /// whole error, not just its status), and nothing after. A call writes at least one piece
    /// unless the walk is over, and the call whose slice has room for all the pieces left
    /// ends the walk. It reads no more bytes than the bound.
    #[test]
    fn fill_yields_exactly_what_the_iterator_yields(
        case in hostile(),
        sizes in prop::collection::vec(1usize..70, 1..6),
        mix in prop::collection::vec(0u8..3, 0..24),
    ) {
        let mut mem = case.memory();
        let by_iter = check_iterator_form(|| case.walker(&mem));
        prop_assert!(by_iter.iter().flatten().all(|p| !p.is_empty()));

        let all = drain(case.walker(&mem), &[limits_room(&case.limits)], &[]);
        prop_assert_eq!(&outcome(all), &by_iter);
        let most_bytes = case.limits.max_bytes_read(case.from_mptr);

        mem.clear_log();
        let by_fill = drain_checked(case.walker(&mem), &sizes, &[], &by_iter);
        prop_assert_eq!(&outcome(by_fill), &by_iter);
        prop_assert!(mem.bytes_read() <= most_bytes);

        mem.clear_log();
        let mixed = drain_checked(case.walker(&mem), &sizes, &mix, &by_iter);
        prop_assert_eq!(&outcome(mixed), &by_iter);
        prop_assert!(mem.bytes_read() <= most_bytes);
    }

    /// The fast path (runs of plain Data Blocks and Bit Buckets, and SGL1 as the whole
    /// transfer) agrees with the general path on arbitrary descriptors in arbitrary memory: the
    /// same pieces or the same error, from the same memory reads, whatever the size of the
    /// output slice.
    #[test]
    fn fast_path_agrees_with_the_general_path_on_hostile_input(
        case in hostile(),
        sizes in prop::collection::vec(1usize..70, 1..4),
    ) {
        let mut mem = case.memory();
        let fast = drain(case.walker(&mem), &sizes, &[]);
        let fast_reads = mem.accesses();
        mem.clear_log();
        let general = drain(case.walker(&mem).without_fast_path(), &sizes, &[]);
        prop_assert_eq!(outcome(fast), outcome(general));
        prop_assert_eq!(mem.accesses(), fast_reads);
    }
}

/// Room for every piece a walk under `limits` could find (at most one per descriptor) and a
/// batch more.
fn limits_room(limits: &WalkLimits) -> usize {
    let descriptors = limits.max_bytes_read(true) / 16;
    usize::try_from(descriptors).unwrap() + nvme_dma::sgl::BATCH_DESCRIPTORS
}

/// What a walk's items come to: its pieces, or the error that ended it.
fn outcome(items: Vec<Result<Piece, WalkError>>) -> Result<Vec<Piece>, WalkError> {
    items.into_iter().collect()
}

/// A walk over arbitrary memory: capabilities, limits, SGL1 (or MPTR's descriptor) and the
/// words of a region that pointers lead back into.
#[derive(Clone, Debug)]
struct Hostile {
    caps: SglCaps,
    limits: WalkLimits,
    first: SglDescriptor,
    words: Vec<SglDescriptor>,
    direction: Direction,
    len: u64,
    from_mptr: bool,
}

/// MPTR's one descriptor sits at the end of the hostile region.
const HOSTILE_MPTR: u64 = HOSTILE_BASE + HOSTILE_SPAN - 16;

fn hostile() -> impl Strategy<Value = Hostile> {
    (
        any::<u32>(),
        prop_oneof![
            1 => Just(SglSupport::None),
            1 => Just(SglSupport::Reserved),
            7 => Just(SglSupport::ByteAligned),
            7 => Just(SglSupport::DwordAligned),
        ],
        prop_oneof![3 => Just(0u8), 1 => any::<u8>()],
        prop_oneof![
            Just(WalkLimits::DEFAULT),
            (0u32..64, 0u32..16).prop_map(|(d, s)| WalkLimits {
                max_descriptors: d,
                max_segments: s
            }),
        ],
        hostile_descriptor(),
        prop::collection::vec(hostile_descriptor(), 1..256),
        direction(),
        prop_oneof![0u64..64, 0u64..1 << 20, any::<u64>()],
        any::<bool>(),
    )
        .prop_map(
            |(sgls_bits, support, msdbd, limits, first, words, direction, len, from_mptr)| {
                let mut sgls = Sgls::from_bits_retain(sgls_bits).with_support(support);
                if from_mptr && sgls_bits % 8 != 0 {
                    sgls |= Sgls::MPTR_SGL; // mostly a controller that supports the walk asked for
                }
                let caps = SglCaps::new(sgls)
                    .with_msdbd(msdbd)
                    .with_capsule_data(4096)
                    .with_limits(limits);
                Hostile {
                    caps,
                    limits,
                    first,
                    words,
                    direction,
                    len,
                    from_mptr,
                }
            },
        )
}

impl Hostile {
    /// The region written with the words, and MPTR's descriptor; the log cleared.
    fn memory(&self) -> SimMemory {
        let mut mem = SimMemory::new();
        mem.map(HOSTILE_BASE, HOSTILE_SPAN).unwrap();
        let bytes: Vec<u8> = self.words.iter().flat_map(|d| d.to_bytes()).collect();
        mem.poke(HOSTILE_BASE, &bytes).unwrap();
        mem.poke(HOSTILE_MPTR, &self.first.to_bytes()).unwrap();
        mem.clear_log();
        mem
    }

    fn walker<'m>(&self, mem: &'m SimMemory) -> SglWalker<'m, SimMemory> {
        if self.from_mptr {
            SglWalker::metadata(HOSTILE_MPTR, self.direction, self.len, &self.caps, mem)
        } else {
            SglWalker::new(self.first, self.direction, self.len, &self.caps, mem)
        }
    }
}

/// Everything a walker yields, pieces then the error if one ends it, by calls to `fill` in
/// turns: for each entry of `mix` in order, 0 calls it with one slot, 1 with the next of
/// `sizes` (cycling), 2 with an empty slice (which must change nothing); once `mix` is used
/// up, with `sizes` to the end. Checks the contract on every call and that nothing follows the
/// end.
fn drain(
    walker: SglWalker<'_, SimMemory>,
    sizes: &[usize],
    mix: &[u8],
) -> Vec<Result<Piece, WalkError>> {
    drain_with(walker, sizes, mix, None)
}

/// [`drain`], and checks that the call whose slice has room for all the pieces left of
/// `expected` (when the walk succeeds) ends the walk.
fn drain_checked(
    walker: SglWalker<'_, SimMemory>,
    sizes: &[usize],
    mix: &[u8],
    expected: &Result<Vec<Piece>, WalkError>,
) -> Vec<Result<Piece, WalkError>> {
    drain_with(walker, sizes, mix, expected.as_ref().ok().map(Vec::len))
}

fn drain_with(
    mut walker: SglWalker<'_, SimMemory>,
    sizes: &[usize],
    mix: &[u8],
    total: Option<usize>,
) -> Vec<Result<Piece, WalkError>> {
    // Poisoned, so a slot `fill` claims to have written but did not would show.
    let poison = Piece::Transport(u64::MAX);
    let mut out = vec![poison; sizes.iter().copied().max().unwrap_or(1).max(1)];
    let mut items = Vec::new();
    let mut size = sizes.iter().copied().cycle();
    for turn in 0.. {
        let k = match mix.get(turn).copied().unwrap_or(1) {
            0 => 1,
            1 => size.next().unwrap_or(1),
            _ => {
                let before = walker.fill(&mut []);
                assert!(
                    matches!(before, Ok(Progress { written: 0, .. })),
                    "fill on an empty slice: {before:?}"
                );
                continue;
            }
        };
        match walker.fill(&mut out[..k]) {
            Ok(Progress { written, done }) => {
                assert!(written <= k, "fill wrote {written} pieces into {k} slots");
                assert!(
                    written > 0 || done,
                    "fill wrote nothing and the walk is not over"
                );
                if let Some(total) = total {
                    if total - items.len() <= k {
                        assert!(
                            done,
                            "{} pieces left fit {k} slots, yet not done",
                            total - items.len()
                        );
                    }
                }
                assert!(
                    out[..written].iter().all(|p| *p != poison),
                    "a slot not written"
                );
                items.extend(out[..written].iter().copied().map(Ok));
                out[..written].fill(poison);
                if done {
                    break;
                }
            }
            Err(e) => {
                items.push(Err(e));
                break;
            }
        }
    }
    assert_eq!(
        walker.fill(&mut out[..1]),
        Ok(Progress::FINISHED),
        "fill after the end"
    );
    assert_eq!(
        walker.fill(&mut []),
        Ok(Progress::FINISHED),
        "fill on an empty slice after the end"
    );
    assert!(walker.pieces().next().is_none(), "next after the end");
    items
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Real layouts with a few realistic corruptions (a type or subtype changed, a length
    /// changed, an address misaligned, a data descriptor turned into a pointer), walked now
    /// and then by a controller without bit buckets: the walker
    /// gives the same pieces, or the same status, as the independent reference walker; `fill`
    /// gives exactly what the iterator gives.
    #[test]
    fn walker_agrees_with_reference_on_corrupted_layouts(
        gens in prop::collection::vec(gen(), 1..24),
        direction in direction(),
        dword in any::<bool>(),
        lldts in any::<bool>(),
        buckets in prop_oneof![7 => Just(true), 1 => Just(false)],
        msdbd in prop_oneof![4 => Just(0u8), 1 => 1u8..24],
        capacity in prop_oneof![Just(2u64), Just(3), Just(4), Just(16)],
        corruptions in prop::collection::vec((any::<bool>(), any::<u64>(), 0u8..8, any::<u64>()), 0..3),
        delta in -8i64..8,
        sizes in prop::collection::vec(1usize..20, 1..4),
        mix in prop::collection::vec(0u8..3, 0..8),
    ) {
        let pieces = pieces(&gens, direction, dword);
        let mut sgls = sgl_caps(dword).sgls();
        if lldts {
            sgls |= Sgls::LLDTS;
        }
        if !buckets {
            sgls.remove(Sgls::BIT_BUCKET); // a controller that cannot take the reads' skips
        }
        let caps = SglCaps::new(sgls).with_msdbd(msdbd);
        let builder = SglBuilder::new(sgl_caps(dword), direction);
        let mut mem = SimMemory::new();
        let layout = build_sgl_into(&builder, &pieces, capacity, &mut mem).unwrap();
        let mut sgl1 = layout.sgl1.to_raw().to_bytes();
        for (in_sgl1, at, kind, v) in corruptions {
            let slot = if in_sgl1 || layout.segments_used == 0 {
                None
            } else {
                let segment = at % layout.segments_used as u64;
                Some(SEGMENT_REGION + segment * 0x1_0000 + (at >> 32) % capacity * 16)
            };
            let mut d = match slot {
                Some(addr) => {
                    let mut d = [0u8; 16];
                    mem.peek(addr, &mut d).unwrap();
                    d
                }
                None => sgl1,
            };
            match kind {
                0 => d[15] = v as u8,                                  // any type and subtype
                1 => d[15] = (d[15] & 0x0F) | (((v % 4) as u8) << 4),  // a defined type 0h..3h
                2 => d[8] ^= (v % 32) as u8,                           // length changed
                3 => d[0] |= (v % 8) as u8,                            // address misaligned
                4 => d[8..12].copy_from_slice(&0u32.to_le_bytes()),   // length zero
                5 => d.copy_from_slice(&SegmentPointer::new(SEGMENT_REGION + (v % 4) * 0x1_0000, (v % 5) as u32 + 1, if v % 2 == 0 { SegmentKind::Segment } else { SegmentKind::LastSegment }).unwrap().to_raw().to_bytes()),
                6 => d[..8].copy_from_slice(&(u64::MAX - v % 64).to_le_bytes()), // near the top
                _ => d[15] = 0x10,                                     // a bit bucket
            }
            match slot {
                Some(addr) => mem.poke(addr, &d).unwrap(),
                None => sgl1 = d,
            }
        }
        let len = layout.plan.len().saturating_add_signed(delta);
        let walker = || SglWalker::new(SglDescriptor::from_bytes(sgl1), direction, len, &caps, &mem);
        let walked: Result<Vec<Piece>, _> = walker().pieces().collect();
        // `fill` in calls of any size yields the same, and so does the general path alone.
        prop_assert_eq!(outcome(drain_checked(walker(), &sizes, &mix, &walked)), walked.clone());
        prop_assert_eq!(outcome(drain(walker().without_fast_path(), &sizes, &mix)), walked.clone());
        let reference = reference_walk(Ok(sgl1), direction == Direction::Write, len, RefCaps::of(&caps), &mem);
        match (&walked, &reference) {
            (Ok(pieces), Ok(expected)) => prop_assert_eq!(pieces, expected),
            (Err(e), Err(sc)) => prop_assert_eq!(e.status().sc(), *sc, "{}", e),
            _ => prop_assert!(false, "walker {:?} but reference {:?}", walked, reference),
        }
    }
}

const HOSTILE_BASE: u64 = 0x4000_0000;
const HOSTILE_SPAN: u64 = 0x1_0000;

/// Descriptors a hostile guest might write: valid data, zero lengths, bit buckets, pointers
/// back into the region (itself included; segments of up to 159 descriptors, so more than a
/// batch), huge or misaligned segments, and random bytes.
fn hostile_descriptor() -> impl Strategy<Value = SglDescriptor> {
    let pointer =
        (0u64..HOSTILE_SPAN / 16, 1u32..160, any::<bool>()).prop_map(|(slot, n, last)| {
            let kind = if last {
                SegmentKind::LastSegment
            } else {
                SegmentKind::Segment
            };
            SegmentPointer::new(HOSTILE_BASE + slot * 16, n, kind)
                .unwrap()
                .to_raw()
        });
    prop_oneof![
        3 => (any::<u64>(), 0u32..1 << 16).prop_map(|(a, l)| {
            nvme_dma::sgl::DataDescriptor::Block { addr: (a >> 8) & !3, len: l & !3 }.to_raw()
        }),
        2 => (any::<u64>(), 0u32..64).prop_map(|(a, l)| {
            nvme_dma::sgl::DataDescriptor::Block { addr: a >> 8, len: l }.to_raw()
        }),
        2 => Just(SglDescriptor::default()),
        1 => (0u32..1 << 16).prop_map(|l| nvme_dma::sgl::DataDescriptor::BitBucket { len: l }.to_raw()),
        4 => pointer,
        1 => Just(SegmentPointer::new(HOSTILE_BASE, 1, SegmentKind::Segment).unwrap().to_raw()),
        1 => Just(SegmentPointer::new(HOSTILE_BASE, (1 << 28) - 1, SegmentKind::LastSegment).unwrap().to_raw()),
        1 => (any::<u64>(), any::<u32>()).prop_map(|(a, l)| {
            SegmentPointer { addr: a, len: l, kind: SegmentKind::Segment }.to_raw()
        }),
        2 => any::<[u8; 16]>().prop_map(SglDescriptor::from_bytes),
    ]
}
