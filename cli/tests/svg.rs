//! `--svg`: the picture parses as XML, and what it draws is the layout: every page, list slot,
//! segment, descriptor and run is there with the library's values, and every arrow joins two
//! things that are drawn and that the layout says are joined.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::run;
use nvme_dma::prp::{PrpBuilder, PrpListPage};
use nvme_dma::sgl::{Descriptor, SegmentBuf, SglBuilder, SglCaps};
use nvme_dma::spec::{SglDescriptor, SglSupport, Sgls};
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, PageSize};

const PS: PageSize = PageSize::SIZE_4K;

/// A fresh path for a picture.
fn picture_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nvme-dma-cli-svg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Run `args` with `--svg`, and return the document.
fn draw(name: &str, args: &[&str]) -> String {
    let path = picture_path(name);
    let mut all: Vec<&str> = args.to_vec();
    let path_text = path.to_str().unwrap().to_string();
    all.extend(["--svg", &path_text]);
    let out = run(&all);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    std::fs::read_to_string(&path).unwrap()
}

fn num(text: &str) -> u64 {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => text.parse().unwrap(),
    }
}

/// The `<g>` elements of a class, as (id, data attributes).
fn groups(doc: &roxmltree::Document<'_>, class: &str) -> Vec<(String, HashMap<String, String>)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some(class))
        .map(|n| {
            let data = n
                .attributes()
                .filter_map(|a| {
                    a.name()
                        .strip_prefix("data-")
                        .map(|k| (k.to_string(), a.value().to_string()))
                })
                .collect();
            (n.attribute("id").unwrap_or("").to_string(), data)
        })
        .collect()
}

/// Every arrow as (from, to); each end must be a drawn element.
fn arrows(doc: &roxmltree::Document<'_>) -> Vec<(String, String)> {
    let ids: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("id"))
        .collect();
    doc.descendants()
        .filter(|n| {
            n.has_tag_name("path")
                && n.attribute("class")
                    .is_some_and(|c| c.split(' ').any(|w| w == "arrow"))
        })
        .map(|n| {
            let from = n.attribute("data-from").unwrap().to_string();
            let to = n.attribute("data-to").unwrap().to_string();
            assert!(ids.contains(&from.as_str()), "arrow from {from}: not drawn");
            assert!(ids.contains(&to.as_str()), "arrow to {to}: not drawn");
            (from, to)
        })
        .collect()
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    doc
}

#[test]
fn a_chained_prp_layout_is_drawn_as_built() {
    let extents = [Extent::new(0x10200, 0x3e00), Extent::new(0x20000, 0x800)];
    let svg = draw(
        "prp-chain.svg",
        &[
            "prp",
            "0x10200+0x3e00",
            "0x20000+0x800",
            "--list",
            "0x80ff0,0x90000",
        ],
    );
    let doc = parse(&svg);

    // The library's layout for the same list memory.
    let mut first = vec![0u8; 16];
    let mut second = vec![0u8; 4096];
    let layout = PrpBuilder::new(PS)
        .build(
            &extents,
            &mut [
                PrpListPage::new(0x80ff0, &mut first),
                PrpListPage::new(0x90000, &mut second),
            ],
        )
        .unwrap();
    let slots = |bytes: &[u8], n: usize| -> Vec<u64> {
        bytes
            .chunks_exact(8)
            .take(n)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let plan = layout.plan;

    let pointers = groups(&doc, "pointer");
    assert_eq!(pointers[0].0, "prp1");
    assert_eq!(num(&pointers[0].1["value"]), layout.pair.prp1);
    assert_eq!(pointers[1].0, "prp2");
    assert_eq!(num(&pointers[1].1["value"]), layout.pair.prp2.raw());

    // Pages: one per page touched, in order; bases, offsets and lengths from the rules.
    let pages = groups(&doc, "page");
    assert_eq!(pages.len() as u64, plan.pages());
    let mut expected_pages = Vec::new();
    for (i, e) in extents.iter().enumerate() {
        let mut a = e.addr;
        while a < e.addr + e.len {
            let end = (PS.page_base(a) + PS.bytes()).min(e.addr + e.len);
            expected_pages.push((PS.page_base(a), PS.offset_of(a), end - a, i));
            a = end;
        }
    }
    for (n, ((id, data), want)) in pages.iter().zip(&expected_pages).enumerate() {
        assert_eq!(id, &format!("page-{n}"));
        assert_eq!(num(&data["addr"]), want.0);
        assert_eq!(num(&data["offset"]), want.1);
        assert_eq!(num(&data["len"]), want.2);
        assert_eq!(num(&data["extent"]), want.3 as u64);
    }

    // List pages and slots: the first has two slots, the second of which chains.
    let lists = groups(&doc, "list-page");
    assert_eq!(lists.len(), 2);
    assert_eq!(num(&lists[0].1["addr"]), 0x80ff0);
    let list_slots = groups(&doc, "list-slot");
    let written: Vec<u64> = slots(&first, 2)
        .into_iter()
        .chain(slots(&second, plan.list_entries() as usize - 1))
        .collect();
    assert_eq!(list_slots.len(), written.len());
    for ((id, data), value) in list_slots.iter().zip(&written) {
        assert_eq!(num(&data["value"]), *value, "{id}");
    }
    assert_eq!(list_slots[1].0, "list-0-slot-1");
    assert_eq!(list_slots[1].1["role"], "next_list");
    assert_eq!(num(&list_slots[1].1["value"]), 0x90000);

    // Arrows: PRP1 to page 0, PRP2 to the list, the chain slot to list page 1, and every
    // data slot to the page whose base it holds.
    let arrows = arrows(&doc);
    assert!(arrows.contains(&("prp1".into(), "page-0".into())));
    assert!(arrows.contains(&("prp2".into(), "list-0".into())));
    assert!(arrows.contains(&("list-0-slot-1".into(), "list-1".into())));
    let page_addr: HashMap<&str, u64> = pages
        .iter()
        .map(|(id, data)| (id.as_str(), num(&data["addr"])))
        .collect();
    let slot_value: HashMap<&str, u64> = list_slots
        .iter()
        .map(|(id, data)| (id.as_str(), num(&data["value"])))
        .collect();
    let mut data_arrows = 0;
    for (from, to) in &arrows {
        if from.starts_with("list-") && to.starts_with("page-") {
            assert_eq!(
                slot_value[from.as_str()],
                page_addr[to.as_str()],
                "{from} → {to}"
            );
            data_arrows += 1;
        }
    }
    assert_eq!(data_arrows as u64, plan.list_entries());

    // One bracket per extent.
    let brackets = groups(&doc, "extent");
    assert_eq!(brackets.len(), extents.len());
    for ((_, data), e) in brackets.iter().zip(&extents) {
        assert_eq!(num(&data["addr"]), e.addr);
        assert_eq!(num(&data["len"]), e.len);
    }
}

#[test]
fn a_long_prp_list_is_drawn_with_the_middle_left_out() {
    // 1025 pages: more than the picture draws, so rows are elided, and the counts add up.
    let svg = draw("prp-long.svg", &["prp", "0x10000+0x401000"]);
    let doc = parse(&svg);
    let plan = PrpBuilder::new(PS)
        .plan([Extent::new(0x10000, 0x401000)])
        .unwrap();
    let elided = |what: &str| -> u64 {
        groups(&doc, "elided")
            .iter()
            .filter(|(_, d)| d["what"] == what)
            .map(|(_, d)| num(&d["count"]))
            .sum()
    };
    assert_eq!(
        groups(&doc, "page").len() as u64 + elided("pages"),
        plan.pages()
    );
    let lists = groups(&doc, "list-page");
    assert_eq!(lists.len() as u64, plan.list_pages_needed(0));
    // Arrows only join drawn things (checked by `arrows`), and there are some.
    assert!(arrows(&doc).len() > 10);
}

#[test]
fn an_sgl_chain_is_drawn_as_built() {
    let pieces = [
        Piece::Data(Extent::new(0x10000, 0x1000)),
        Piece::Skip(0x200),
        Piece::Data(Extent::new(0x30000, 0x2123)),
        Piece::Data(Extent::new(0x50000, 0x100)),
    ];
    let svg = draw(
        "sgl-chain.svg",
        &[
            "sgl",
            "0x10000+0x1000",
            "skip:0x200",
            "0x30000+0x2123",
            "0x50000+0x100",
            "--segment",
            "0x80000+32,0x90000",
        ],
    );
    let doc = parse(&svg);
    let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET);
    let mut first = vec![0u8; 32];
    let mut second = vec![0u8; 4096];
    let layout = SglBuilder::new(caps, Direction::Read)
        .build(
            &pieces,
            &mut [
                SegmentBuf::new(0x80000, &mut first),
                SegmentBuf::new(0x90000, &mut second),
            ],
        )
        .unwrap();
    let sgl1 = groups(&doc, "pointer");
    assert_eq!(sgl1[0].0, "sgl1");
    match layout.sgl1.descriptor() {
        Descriptor::Pointer(p) => assert_eq!(num(&sgl1[0].1["addr"]), p.addr),
        other => panic!("expected a segment pointer, got {other:?}"),
    }

    // Descriptors: what the library wrote, slot by slot.
    let parse_slot = |bytes: &[u8], slot: usize| {
        Descriptor::parse(&SglDescriptor::from_bytes(
            bytes[slot * 16..slot * 16 + 16].try_into().unwrap(),
        ))
        .unwrap()
    };
    // Segment 0 holds one data descriptor and the pointer on; segment 1 the other three.
    let written = [
        parse_slot(&first, 0),
        parse_slot(&first, 1),
        parse_slot(&second, 0),
        parse_slot(&second, 1),
        parse_slot(&second, 2),
    ];
    let drawn = groups(&doc, "descriptor");
    assert_eq!(drawn.len(), written.len());
    let mut data_runs = Vec::new();
    for ((id, data), d) in drawn.iter().zip(&written) {
        match d {
            Descriptor::Pointer(p) => {
                assert_eq!(num(&data["addr"]), p.addr, "{id}");
                assert_eq!(num(&data["len"]), u64::from(p.len));
            }
            Descriptor::Data(d) => {
                assert_eq!(num(&data["len"]), u64::from(d.len()), "{id}");
                data_runs.push((id.clone(), *d));
            }
        }
    }

    // Runs: one per data descriptor, in transfer order, with the page boundaries it crosses.
    let runs = groups(&doc, "run");
    assert_eq!(runs.len(), data_runs.len());
    let boundaries = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("page-boundary"))
        .count();
    // 0x30000+0x2123 crosses 0x31000 and 0x32000; the others cross none.
    assert_eq!(boundaries, 2);
    let arrows = arrows(&doc);
    assert!(arrows.contains(&("sgl1".into(), "segment-0".into())));
    assert!(arrows.contains(&("segment-0-desc-1".into(), "segment-1".into())));
    for (r, ((run_id, run), (desc_id, _))) in runs.iter().zip(&data_runs).enumerate() {
        assert_eq!(run_id, &format!("run-{r}"));
        assert!(
            arrows.contains(&(desc_id.clone(), run_id.clone())),
            "{desc_id} → {run_id}"
        );
        let kind = &run["kind"];
        assert!(kind == "data_block" || kind == "bit_bucket");
    }
    assert_eq!(runs[1].1["kind"], "bit_bucket");
}

#[test]
fn the_demo_draws_both_layouts() {
    let svg = draw("demo.svg", &["demo"]);
    let doc = parse(&svg);
    let panels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("panel"))
        .map(|n| n.attribute("data-layout").unwrap())
        .collect();
    assert_eq!(panels, ["prp", "sgl"]);
    arrows(&doc);
}
