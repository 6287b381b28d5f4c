//! `nvme-dma sgl` end to end: text and JSON checked against what the library builds and walks
//! for the same pieces, refusals against the library's errors.

mod common;

use common::{hex, json, marked_line, run, stdout};
use nvme_dma::sgl::{Descriptor, SegmentBuf, SglBuilder, SglCaps, SglWalker};
use nvme_dma::spec::{SglDescriptor, SglSupport, Sgls};
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, SimMemory};
use serde_json::Value;

fn default_caps() -> SglCaps {
    SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET)
}

const PIECES: [Piece; 4] = [
    Piece::Data(Extent::new(0x10000, 0x1000)),
    Piece::Skip(0x200),
    Piece::Data(Extent::new(0x30000, 0x123)),
    Piece::Data(Extent::new(0x50000, 0x100)),
];
const PIECE_ARGS: [&str; 4] = [
    "0x10000+0x1000",
    "skip:0x200",
    "0x30000+0x123",
    "0x50000+0x100",
];

/// The library's SGL1 and segment bytes for `pieces` in segments at `segments`.
fn library(pieces: &[Piece], segments: &[(u64, usize)]) -> (SglDescriptor, Vec<Vec<u8>>) {
    let mut buffers: Vec<Vec<u8>> = segments.iter().map(|&(_, n)| vec![0u8; n]).collect();
    let layout = {
        let mut bufs: Vec<SegmentBuf<'_>> = segments
            .iter()
            .zip(buffers.iter_mut())
            .map(|(&(a, _), b)| SegmentBuf::new(a, b))
            .collect();
        SglBuilder::new(default_caps(), Direction::Read)
            .build(pieces, &mut bufs)
            .unwrap()
    };
    buffers.truncate(layout.segments_used);
    (layout.sgl1.to_raw(), buffers)
}

fn raw_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut all = vec!["sgl"];
    all.extend_from_slice(&PIECE_ARGS);
    all.extend_from_slice(extra);
    all
}

#[test]
fn a_chain_of_segments_is_the_library_s_chain() {
    let (doc, code) = json(&args(&["--segment", "0x80000+32,0x90000+32,0xa0000"]));
    assert_eq!(code, 0);
    let (sgl1, segments) = library(&PIECES, &[(0x80000, 32), (0x90000, 32), (0xa0000, 4096)]);
    let layout = &doc["layout"];
    assert_eq!(layout["sgl1"]["raw"], raw_hex(&sgl1.to_bytes()));
    assert_eq!(layout["sgl1"]["kind"], "segment");
    let shown = layout["segments"].as_array().unwrap();
    assert_eq!(shown.len(), segments.len());
    for (k, (view, bytes)) in shown.iter().zip(&segments).enumerate() {
        let descriptors = view["descriptors"].as_array().unwrap();
        for (slot, d) in descriptors.iter().enumerate() {
            let raw = &bytes[slot * 16..slot * 16 + 16];
            assert_eq!(
                d["descriptor"]["raw"],
                raw_hex(raw),
                "segment {k} slot {slot}"
            );
            // The kind shown is the library's parse of those bytes.
            let parsed =
                Descriptor::parse(&SglDescriptor::from_bytes(raw.try_into().unwrap())).unwrap();
            let kind = d["descriptor"]["kind"].as_str().unwrap();
            match parsed {
                Descriptor::Pointer(p) => {
                    assert!(kind == "segment" || kind == "last_segment");
                    assert_eq!(d["descriptor"]["addr"], hex(p.addr));
                }
                Descriptor::Data(data) => {
                    assert_eq!(d["descriptor"]["len"], u64::from(data.len()));
                }
            }
        }
    }
    assert_eq!(shown[2]["last"], true);
    assert_eq!(shown[0]["last"], false);

    // The walk shown is the library walker's, over the same segments.
    let mut mem = SimMemory::new();
    for (&(a, _), bytes) in [(0x80000u64, 0), (0x90000, 0), (0xa0000, 0)]
        .iter()
        .zip(&segments)
    {
        mem.map(a, bytes.len() as u64).unwrap();
        mem.poke(a, bytes).unwrap();
    }
    let walked: Vec<Piece> = SglWalker::new(sgl1, Direction::Read, 0x1423, &default_caps(), &mem)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let pieces = layout["walk"]["segments"].as_array().unwrap();
    assert_eq!(pieces.len(), walked.len());
    for (p, w) in pieces.iter().zip(&walked) {
        match w {
            Piece::Data(e) => {
                assert_eq!(p["kind"], "data");
                assert_eq!(p["addr"], hex(e.addr));
            }
            Piece::Skip(_) => assert_eq!(p["kind"], "skip"),
            other => panic!("unexpected {other}"),
        }
        assert_eq!(p["len"], w.len());
    }
    assert_eq!(layout["walk"]["matches_input"], true);
}

#[test]
fn text_shows_sgl1_and_every_descriptor() {
    let out = run(&args(&["--segment", "0x80000+32,0x90000+32,0xa0000"]));
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for needle in [
        "SGL1  Segment",
        "Segment 0 at 0x80000",
        "Segment 1 at 0x90000",
        "Segment 2 at 0xa0000",
        "Bit Bucket",
        "Last Segment  0xa0000",
        "Data Block    0x30000+0x123",
        "Check: SglWalker",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
}

#[test]
fn adjacent_pieces_merge_and_one_run_is_inline() {
    let (doc, code) = json(&["sgl", "0x10000+0x800", "0x10800+0x803"]);
    assert_eq!(code, 0);
    let layout = &doc["layout"];
    let sgl1 = SglBuilder::new(default_caps(), Direction::Read)
        .build_inline(Extent::new(0x10000, 0x1003))
        .unwrap();
    assert_eq!(layout["inline"], true);
    assert_eq!(layout["sgl1"]["raw"], raw_hex(&sgl1.to_raw().to_bytes()));
    assert_eq!(layout["sgl1"]["kind"], "data_block");
    assert_eq!(layout["sgl1"]["pages"], 2);
    assert_eq!(layout["segments"].as_array().unwrap().len(), 0);
    assert_eq!(layout["segment_placement"], "none");
}

/// The refusal object of a refused `sgl` run, checked against the library's error.
fn refusal(builder: SglBuilder, pieces: &[Piece], args: &[&str]) -> Value {
    let (doc, code) = json(args);
    assert_eq!(code, 1, "a broken rule exits 1");
    let err = builder.plan(pieces).unwrap_err();
    let r = &doc["refusal"];
    assert_eq!(r["message"], err.to_string());
    // The rule is the library's, word for word.
    let rule = err.rule();
    assert_eq!(r["rule"], rule.id());
    assert_eq!(r["summary"], rule.summary());
    assert_eq!(r["spec"], rule.section());
    assert_eq!(r["text"], rule.text());
    r.clone()
}

#[test]
fn a_bit_bucket_in_a_write_is_refused() {
    let builder = SglBuilder::new(default_caps(), Direction::Write);
    let argv = args(&["--direction", "write"]);
    let r = refusal(builder, &PIECES, &argv);
    assert_eq!(r["rule"], "sgl.bit_bucket_in_read_only");
    assert_eq!(r["extent"], 1);
    assert_eq!(r["fixes"][0]["kind"], "remove");
    let out = run(&argv);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let marked = marked_line(&text);
    assert!(marked.contains("piece 1"), "{marked}");
}

#[test]
fn dword_granular_controllers_refuse_unaligned_runs_and_prps_are_offered() {
    let caps = SglCaps::new(Sgls::from_support(SglSupport::DwordAligned) | Sgls::BIT_BUCKET);
    let pieces = [Piece::Data(Extent::new(0x10000, 0x1001))];
    let r = refusal(
        SglBuilder::new(caps, Direction::Read),
        &pieces,
        &["sgl", "0x10000+0x1001", "--dword"],
    );
    assert_eq!(r["rule"], "sgl.dword_granularity");
    let kinds: Vec<&str> = r["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"use_prp"), "{kinds:?}");
    assert!(kinds.contains(&"align"), "{kinds:?}");
}

#[test]
fn a_controller_without_sgls_is_refused() {
    let caps = SglCaps::new(Sgls::empty());
    let pieces = [Piece::Data(Extent::new(0x10000, 0x1000))];
    let r = refusal(
        SglBuilder::new(caps, Direction::Read),
        &pieces,
        &["sgl", "0x10000+0x1000", "--sgls", "0"],
    );
    assert_eq!(r["rule"], "sgl.supported");
    assert_eq!(r["fixes"][0]["kind"], "use_prp");
}

#[test]
fn a_misaligned_segment_is_named() {
    let (doc, code) = json(&args(&["--segment", "0x80004"]));
    assert_eq!(code, 1);
    assert_eq!(doc["refusal"]["rule"], "sgl.segment_alignment");
    assert_eq!(doc["refusal"]["memory"], 0);
    assert!(doc["refusal"]["fixes"][0]["text"]
        .as_str()
        .unwrap()
        .contains("0x80010"));
}

#[test]
fn too_little_segment_memory_says_how_much() {
    // Two 2-descriptor segments hold 1 + 2 data descriptors; the pieces need 4.
    let (doc, code) = json(&args(&["--segment", "0x80000+32,0x90000+32"]));
    assert_eq!(code, 1);
    let r = &doc["refusal"];
    assert_eq!(r["rule"], "sgl.segment_memory");
    let plan = SglBuilder::new(default_caps(), Direction::Read)
        .plan(PIECES)
        .unwrap();
    let needed = plan.segments_needed(2);
    assert!(r["fixes"][0]["text"]
        .as_str()
        .unwrap()
        .contains(&format!("pass {needed} --segment buffers of 2 descriptors")));
}

#[test]
fn with_lldts_an_sgl_longer_than_the_transfer_checks_against_the_transfer() {
    // LLDTS lets the SGL describe more than the command moves: the walker stops at the
    // transfer length, and the check compares it with the pieces cut to that length.
    let argv = [
        "sgl",
        "--lldts",
        "--transfer-len",
        "0x800",
        "0x10000+0x1000",
    ];
    let (doc, code) = json(&argv);
    assert_eq!(code, 0, "{doc}");
    let walk = &doc["layout"]["walk"];
    assert_eq!(walk["matches_input"], true);
    assert_eq!(walk["bytes"], 0x800);
    assert_eq!(walk["segments"][0]["addr"], hex(0x10000));
    assert_eq!(walk["segments"][0]["len"], 0x800);

    // Across pieces, with a bit bucket and a piece the transfer never reaches, in segments.
    let (doc, code) = json(&[
        "sgl",
        "--lldts",
        "--transfer-len",
        "0x1100",
        "0x10000+0x1000",
        "skip:0x80",
        "0x30000+0x200",
        "0x50000+0x100",
    ]);
    assert_eq!(code, 0, "{doc}");
    let walk = &doc["layout"]["walk"];
    assert_eq!(walk["matches_input"], true);
    assert_eq!(walk["bytes"], 0x1100);
    let last = &walk["segments"][2];
    assert_eq!(last["addr"], hex(0x30000));
    assert_eq!(last["len"], 0x80);

    let out = run(&argv);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("the pieces ✓"), "{}", stdout(&out));
}

#[test]
fn no_segment_is_placed_past_the_top_of_the_address_space() {
    let out = run(&[
        "sgl",
        "0x10000+0x1000",
        "skip:0x10",
        "0xffffffffffffe000+0x2000",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = common::stderr(&out);
    assert!(err.contains("'--segment'"), "{err}");
    assert!(err.contains("piece 2 (0xffffffffffffe000+0x2000)"), "{err}");
    assert!(
        err.contains("past the end of the 64-bit address space"),
        "{err}"
    );
    assert!(err.contains("--segment ADDR[+BYTES]"), "{err}");
}

#[test]
fn segment_memory_overlapping_the_data_is_refused_unless_allowed() {
    let argv = [
        "sgl",
        "0x10000+0x100",
        "0x20000+0x100",
        "0x30000+0x100",
        "--segment",
        "0x20080",
    ];
    let (doc, code) = json(&argv);
    assert_eq!(code, 1, "{doc}");
    let r = &doc["refusal"];
    assert_eq!(r["rule"], "tool.descriptor_outside_data");
    assert_eq!(r["extent"], 1);
    assert_eq!(r["memory"], 0);
    let message = r["message"].as_str().unwrap();
    assert!(
        message.contains("SGL segment 0 at 0x20080+0x30"),
        "{message}"
    );
    assert!(message.contains("piece 1 (0x20000+0x100)"), "{message}");
    assert!(message.contains("0x20080..0x200b0"), "{message}");

    let mut allowed = argv.to_vec();
    allowed.push("--allow-overlap");
    let (doc, code) = json(&allowed);
    assert_eq!(code, 0, "{doc}");
    assert!(doc["layout"]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("overlaps piece 1"));
}
