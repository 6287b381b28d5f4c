//! `nvme-dma prp` end to end: text and JSON checked against what the library builds and walks
//! for the same extents, refusals checked against the library's errors and split.

mod common;

use common::{addr, hex, json, marked_line, run, stdout};
use nvme_dma::prp::{PrpBuilder, PrpListPage, PrpWalker};
use nvme_dma::{Extent, PageSize, SliceMemory};
use serde_json::Value;

const PS: PageSize = PageSize::SIZE_4K;

/// The library's layout for `extents` with list pages at `lists` (address, bytes): PRP1,
/// PRP2 and the list bytes it wrote.
fn library(extents: &[Extent], lists: &[(u64, usize)]) -> (u64, u64, Vec<Vec<u8>>) {
    let mut buffers: Vec<Vec<u8>> = lists.iter().map(|&(_, n)| vec![0u8; n]).collect();
    let layout = {
        let mut pages: Vec<PrpListPage<'_>> = lists
            .iter()
            .zip(buffers.iter_mut())
            .map(|(&(a, _), b)| PrpListPage::new(a, b))
            .collect();
        PrpBuilder::new(PS).build(extents, &mut pages).unwrap()
    };
    buffers.truncate(layout.list_pages_used);
    (layout.pair.prp1, layout.pair.prp2.raw(), buffers)
}

fn entries(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn args(extents: &[&'static str], rest: &[&'static str]) -> Vec<&'static str> {
    let mut all = vec!["prp"];
    all.extend_from_slice(extents);
    all.extend_from_slice(rest);
    all
}

const SCATTER: [&str; 3] = ["0x10200+0xe00", "0x50000+0x2000", "0x90000+0x200"];
const SCATTER_EXTENTS: [Extent; 3] = [
    Extent::new(0x10200, 0xe00),
    Extent::new(0x50000, 0x2000),
    Extent::new(0x90000, 0x200),
];

#[test]
fn json_layout_is_what_the_library_builds_and_walks() {
    let (doc, code) = json(&args(&SCATTER, &["--list", "0x80000"]));
    assert_eq!(code, 0);
    let layout = &doc["layout"];
    let (prp1, prp2, lists) = library(&SCATTER_EXTENTS, &[(0x80000, 4096)]);
    assert_eq!(layout["prp1"], hex(prp1));
    assert_eq!(layout["prp2"], hex(prp2));
    assert_eq!(layout["prp2_role"], "list");
    let plan = PrpBuilder::new(PS).plan(&SCATTER_EXTENTS).unwrap();
    assert_eq!(layout["pages"], plan.pages());
    assert_eq!(layout["list_entries"], plan.list_entries());
    assert_eq!(layout["length"], plan.len());

    // The list page holds exactly the entries the library wrote, all of them data.
    let written = entries(&lists[0]);
    let shown = layout["list_pages"][0]["entries"].as_array().unwrap();
    assert_eq!(shown.len() as u64, plan.list_entries());
    for (slot, entry) in shown.iter().enumerate() {
        assert_eq!(entry["value"], hex(written[slot]));
        assert_eq!(entry["addr"], hex(0x80000 + 8 * slot as u64));
        assert_eq!(entry["role"], "data");
    }

    // Every data page: PRP1's first, then the list's entries in order, each on its extent.
    let pages = layout["data_pages"].as_array().unwrap();
    assert_eq!(pages.len() as u64, plan.pages());
    assert_eq!(pages[0]["entry"]["kind"], "prp1");
    assert_eq!(pages[0]["pointer"], hex(prp1));
    assert_eq!(pages[0]["offset"], PS.offset_of(prp1));
    for (k, page) in pages.iter().enumerate().skip(1) {
        assert_eq!(page["pointer"], hex(written[k - 1]));
        assert_eq!(page["page"], hex(written[k - 1]));
        let e = SCATTER_EXTENTS[page["extent"].as_u64().unwrap() as usize];
        let base = addr(&page["page"]);
        assert!(base >= PS.page_base(e.addr) && base < e.addr + e.len);
    }
    let bytes: u64 = pages.iter().map(|p| p["len"].as_u64().unwrap()).sum();
    assert_eq!(bytes, plan.len());

    // The walk the command reports is the library walker's, over the same list page.
    let mut list = lists[0].clone();
    let mem = SliceMemory::new(0x80000, &mut list);
    let walked: Vec<Extent> = PrpWalker::new(prp1, prp2, plan.len(), PS, &mem)
        .extents()
        .collect::<Result<_, _>>()
        .unwrap();
    let segments = layout["walk"]["segments"].as_array().unwrap();
    assert_eq!(segments.len(), walked.len());
    for (shown, walked) in segments.iter().zip(&walked) {
        assert_eq!(shown["kind"], "data");
        assert_eq!(shown["addr"], hex(walked.addr));
        assert_eq!(shown["len"], walked.len);
    }
    assert_eq!(layout["walk"]["matches_input"], true);
}

#[test]
fn text_draws_pointers_pages_and_list_slots() {
    let out = run(&args(&SCATTER, &["--list", "0x80000"]));
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let (prp1, prp2, lists) = library(&SCATTER_EXTENTS, &[(0x80000, 4096)]);
    assert!(text.contains(&format!("PRP1  {prp1:#x}")), "{text}");
    assert!(text.contains(&format!("PRP2  {prp2:#x}")), "{text}");
    assert!(text.contains("PRP list pointer"), "{text}");
    let plan = PrpBuilder::new(PS).plan(&SCATTER_EXTENTS).unwrap();
    for (slot, value) in entries(&lists[0])
        .iter()
        .take(plan.list_entries() as usize)
        .enumerate()
    {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("slot {slot} ")))
            .unwrap_or_else(|| panic!("a line for slot {slot}:\n{text}"));
        assert!(line.contains(&format!("→ {value:#x}")), "{line}");
    }
    // Each page of the scatter list is drawn with its offset: PRP1's page starts 0x200 in.
    assert!(text.contains("page 0x10000"), "{text}");
    assert!(text.contains("0x200..0x1000"), "{text}");
    assert!(text.contains("Check: PrpWalker"), "{text}");
    assert!(!text.contains('\x1b'), "no colour into a pipe");
}

#[test]
fn a_list_pointer_at_the_end_of_its_page_chains_at_once() {
    // PRP2 at 0xff8 into its page leaves one slot: with 4 entries to place it holds the pointer
    // to the next list page, which holds them all.
    let extents = [Extent::new(0x10000, 0x4000), Extent::new(0x20000, 0x800)];
    let (doc, code) = json(&[
        "prp",
        "0x10000+0x4000",
        "0x20000+0x800",
        "--list",
        "0x80ff8,0x90000",
    ]);
    assert_eq!(code, 0);
    let (_, prp2, lists) = library(&extents, &[(0x80ff8, 8), (0x90000, 4096)]);
    let layout = &doc["layout"];
    assert_eq!(layout["prp2"], hex(prp2));
    let pages = layout["list_pages"].as_array().unwrap();
    assert_eq!(pages.len(), lists.len());
    let first = &pages[0]["entries"][0];
    assert_eq!(first["role"], "next_list");
    assert_eq!(first["value"], hex(entries(&lists[0])[0]));
    assert_eq!(addr(&first["value"]), addr(&pages[1]["addr"]));
    let second: Vec<u64> = entries(&lists[1]);
    for (slot, entry) in pages[1]["entries"].as_array().unwrap().iter().enumerate() {
        assert_eq!(entry["role"], "data");
        assert_eq!(entry["value"], hex(second[slot]));
    }
    assert_eq!(layout["walk"]["matches_input"], true);

    let text = stdout(&run(&[
        "prp",
        "0x10000+0x4000",
        "0x20000+0x800",
        "--list",
        "0x80ff8,0x90000",
    ]));
    assert!(text.contains("next list page 1"), "{text}");
}

#[test]
fn a_list_that_fills_its_page_exactly_keeps_the_last_slot_for_data() {
    // 5 pages: 4 list entries; the list block at 0xfe0 has exactly 4 slots to its page's end.
    let extents = [Extent::new(0x10000, 0x5000)];
    let plan = PrpBuilder::new(PS).plan(&extents).unwrap();
    assert_eq!(plan.list_pages_needed(0x80fe0), 1);
    let (doc, code) = json(&["prp", "0x10000+0x5000", "--list", "0x80fe0"]);
    assert_eq!(code, 0);
    let pages = doc["layout"]["list_pages"].as_array().unwrap();
    assert_eq!(pages.len(), 1);
    let slots = pages[0]["entries"].as_array().unwrap();
    assert_eq!(slots.len(), 4);
    assert!(slots.iter().all(|s| s["role"] == "data"));
    let (_, _, lists) = library(&extents, &[(0x80fe0, 32)]);
    assert_eq!(slots[3]["value"], hex(entries(&lists[0])[3]));
}

#[test]
fn two_pages_put_the_second_in_prp2() {
    let (doc, code) = json(&["prp", "0x10800+0x1000"]);
    assert_eq!(code, 0);
    let pair = PrpBuilder::new(PS)
        .build_inline(Extent::new(0x10800, 0x1000))
        .unwrap();
    assert_eq!(doc["layout"]["prp1"], hex(pair.prp1));
    assert_eq!(doc["layout"]["prp2"], hex(pair.prp2.raw()));
    assert_eq!(doc["layout"]["prp2_role"], "data");
    assert_eq!(doc["layout"]["list_pages"].as_array().unwrap().len(), 0);
    assert_eq!(doc["layout"]["list_placement"], "none");
}

#[test]
fn placed_list_pages_lie_above_the_data() {
    let (doc, code) = json(&args(&SCATTER, &[]));
    assert_eq!(code, 0);
    let layout = &doc["layout"];
    assert_eq!(layout["list_placement"], "auto");
    let list = addr(&layout["list_pages"][0]["addr"]);
    assert!(list >= 0x90200, "{list:#x}");
    assert_eq!(layout["prp2"], hex(list));
    assert_eq!(layout["walk"]["matches_input"], true);
}

/// The refusal object of a refused `prp` run, checked against the library's error: its
/// message is the library's, but for a fix offering a split where none of whole 512-byte
/// blocks exists, which the tool replaces.
fn refusal(extents: &[Extent], args: &[&str]) -> Value {
    let (doc, code) = json(args);
    assert_eq!(code, 1, "a broken rule exits 1");
    let err = PrpBuilder::new(PS).plan(extents).unwrap_err();
    let r = &doc["refusal"];
    let library = err.to_string();
    if PrpBuilder::new(PS).split(extents, 512).is_ok() {
        assert_eq!(r["message"], library);
    } else {
        let (why, _) = library.split_once(". Fix: ").unwrap();
        let message = r["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("{why}. Fix: ")), "{message}");
    }
    // The rule is the library's, word for word.
    let rule = err.rule();
    assert_eq!(r["rule"], rule.id());
    assert_eq!(r["summary"], rule.summary());
    assert_eq!(r["spec"], rule.section());
    assert_eq!(r["text"], rule.text());
    assert!(doc.get("layout").is_none());
    r.clone()
}

#[test]
fn a_middle_extent_ending_inside_a_page_is_refused_with_fixes() {
    let extents = [
        Extent::new(0x1000, 0x1000),
        Extent::new(0x8000, 0x200),
        Extent::new(0xa000, 0x1000),
    ];
    let argv = ["prp", "0x1000+0x1000", "0x8000+0x200", "0xa000+0x1000"];
    let r = refusal(&extents, &argv);
    assert_eq!(r["rule"], "prp.end_on_page_boundary");
    assert_eq!(r["extent"], 1);
    assert!(r["spec"].as_str().unwrap().contains("4.3.1"));
    let kinds: Vec<&str> = r["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["split", "use_sgl", "extend"]);

    // The split is the library's split, command by command.
    let split: Vec<_> = PrpBuilder::new(PS).split(&extents, 512).unwrap().collect();
    let commands = r["fixes"][0]["commands"].as_array().unwrap();
    assert_eq!(commands.len(), split.len());
    for (shown, chunk) in commands.iter().zip(&split) {
        assert_eq!(shown["offset"], chunk.offset);
        assert_eq!(shown["len"], chunk.len);
        let parts: Vec<Extent> = chunk.extents(&extents).collect();
        let listed = shown["extents"].as_array().unwrap();
        assert_eq!(listed.len(), parts.len());
        for (l, p) in listed.iter().zip(&parts) {
            assert_eq!(l["addr"], hex(p.addr));
            assert_eq!(l["len"], p.len);
        }
    }
    // Extending extent 1 to its page's end is offered with the number filled in.
    assert!(r["fixes"][2]["text"].as_str().unwrap().contains("0x9000"));

    // The text marks extent 1 and gives the rule, the library's reason, the section and fixes.
    let out = run(&argv);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let marked = marked_line(&text);
    assert!(marked.contains("extent 1"), "{marked}");
    assert!(text.contains("ends at 0x8200"), "{text}");
    assert!(
        text.contains("NVMe Base Specification 2.1, 4.3.1"),
        "{text}"
    );
    // The library's explanation of the rule follows the section.
    assert!(text.contains("PRP entries carry no lengths"), "{text}");
    assert!(text.contains("split:"), "{text}");
    assert!(text.contains("use an SGL:"), "{text}");
    assert!(text.contains("command 2: bytes 0x1200..0x2200"), "{text}");
}

#[test]
fn a_later_extent_starting_inside_a_page_is_refused() {
    let extents = [Extent::new(0x1000, 0x1000), Extent::new(0x8100, 0xf00)];
    let r = refusal(&extents, &["prp", "0x1000+0x1000", "0x8100+0xf00"]);
    assert_eq!(r["rule"], "prp.start_on_page_boundary");
    assert_eq!(r["extent"], 1);
    let align = r["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "align")
        .expect("an align fix");
    assert!(align["text"]
        .as_str()
        .unwrap()
        .contains("at 0x8000 instead of 0x8100"));
    // Extent 1 holds 3840 bytes, 7.5 blocks of 512: no split before it makes whole blocks,
    // so none is offered, and the message says why.
    let message = r["message"].as_str().unwrap();
    assert!(!message.contains("split the command"), "{message}");
    assert!(
        message.contains("Fix: start it at 0x8000, or use an SGL; no split helps"),
        "{message}"
    );
}

#[test]
fn an_unaligned_first_byte_is_refused_and_an_sgl_offered() {
    let extents = [Extent::new(0x10002, 0x100)];
    let r = refusal(&extents, &["prp", "0x10002+0x100"]);
    assert_eq!(r["rule"], "prp.start_dword_aligned");
    assert_eq!(r["extent"], 0);
    let sgl = r["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "use_sgl")
        .expect("an SGL fix");
    // Only byte-aligned SGL support carries an unaligned start.
    assert!(sgl["text"].as_str().unwrap().contains("01b"));
}

#[test]
fn a_transfer_over_mdts_is_refused_with_a_split() {
    let (doc, code) = json(&["prp", "0x10000+0x3000", "--max-transfer", "0x1000"]);
    assert_eq!(code, 1);
    let r = &doc["refusal"];
    assert_eq!(r["rule"], "prp.max_transfer");
    let extents = [Extent::new(0x10000, 0x3000)];
    let split = PrpBuilder::new(PS)
        .with_max_transfer(0x1000)
        .split(&extents, 512)
        .unwrap();
    assert_eq!(
        r["fixes"][0]["commands"].as_array().unwrap().len(),
        split.commands()
    );
}

#[test]
fn list_memory_that_breaks_a_rule_is_named() {
    // A list pointer must be qword aligned.
    let (doc, code) = json(&args(&SCATTER, &["--list", "0x80004"]));
    assert_eq!(code, 1);
    let r = &doc["refusal"];
    assert_eq!(r["rule"], "prp.list_page_alignment");
    assert_eq!(r["memory"], 0);
    assert!(r["fixes"][0]["text"].as_str().unwrap().contains("0x80008"));

    // A chained layout given one list page too few.
    let (doc, code) = json(&["prp", "0x10000+0x4000", "--list", "0x80ff8"]);
    assert_eq!(code, 1);
    assert_eq!(doc["refusal"]["rule"], "prp.list_memory");
}

#[test]
fn page_sizes_other_than_4k() {
    // With 16 KiB pages, 0x8000 bytes from 0x10000 touch two pages: no list.
    let (doc, code) = json(&["prp", "0x10000+0x8000", "--page-size", "16K"]);
    assert_eq!(code, 0);
    let ps = PageSize::new(16 * 1024).unwrap();
    let pair = PrpBuilder::new(ps)
        .build_inline(Extent::new(0x10000, 0x8000))
        .unwrap();
    assert_eq!(doc["layout"]["prp2"], hex(pair.prp2.raw()));
    assert_eq!(doc["layout"]["page_size"], 16384);
    assert_eq!(doc["input"]["page_size"], 16384);
}

#[test]
fn no_list_is_placed_past_the_top_of_the_address_space() {
    // The data ends at 2^64: there is no room above it, and the list must not wrap round to
    // low memory. The error names the extent, where the list would go, the rule and the fix.
    let out = run(&["prp", "0x1000+0x1000", "0xffffffffffff0000+0x10000"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).is_empty());
    let err = common::stderr(&out);
    assert!(err.contains("'--list'"), "{err}");
    assert!(
        err.contains("extent 1 (0xffffffffffff0000+0x10000)"),
        "{err}"
    );
    assert!(err.contains("ends at 0x10000000000000000"), "{err}");
    assert!(
        err.contains("one memory page above the highest data byte"),
        "{err}"
    );
    assert!(
        err.contains("Fix: give the PRP list memory's address with --list"),
        "{err}"
    );

    // Room for the list just below the top: it goes there, above the data.
    let (doc, code) = json(&["prp", "0xfffffffffffe0000+0x10000"]);
    assert_eq!(code, 0);
    assert_eq!(doc["layout"]["prp2"], hex(0xffff_ffff_ffff_1000));
}

#[test]
fn list_memory_without_bytes_is_sized_to_what_the_layout_writes() {
    // Six 128 MiB pages: five list entries. `--list ADDR` offers the rest of a 128 MiB page,
    // but the layout writes 40 bytes of it, and that is all it needs.
    let argv = [
        "prp",
        "--page-size",
        "128M",
        "--list",
        "0x100000000",
        "0x0+0x30000000",
    ];
    let (doc, code) = json(&argv);
    assert_eq!(code, 0, "{doc}");
    let layout = &doc["layout"];
    assert_eq!(layout["list_entries"], 5);
    assert_eq!(layout["list_bytes"], 40);
    let page = &layout["list_pages"][0];
    assert_eq!(page["addr"], hex(0x1_0000_0000));
    assert_eq!(page["slots"], (128u64 << 20) / 8);
    assert_eq!(page["entries"].as_array().unwrap().len(), 5);
    assert_eq!(layout["walk"]["matches_input"], true);
    let text = stdout(&run(&argv));
    assert!(
        text.contains("5 entries in 1 list page(s), 0x28 bytes"),
        "{text}"
    );
}

#[test]
fn a_list_range_over_two_pages_is_two_list_pages() {
    // 0x120000 bytes from 0x10000: 288 pages, 287 list entries. The range starts half way
    // into a page (256 slots there) and runs into the next page: the first list page chains
    // through its last slot into the second, as the library builds it with two list pages.
    let extents = [Extent::new(0x10000, 0x120000)];
    let argv = ["prp", "0x10000+0x120000", "--list", "0x200800+0x1000"];
    let (doc, code) = json(&argv);
    assert_eq!(code, 0, "{doc}");
    let (_, prp2, lists) = library(&extents, &[(0x200800, 0x800), (0x201000, 0x800)]);
    let layout = &doc["layout"];
    assert_eq!(layout["prp2"], hex(prp2));
    let pages = layout["list_pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1]["addr"], hex(0x201000));
    let chain = &pages[0]["entries"][255];
    assert_eq!(chain["role"], "next_list");
    assert_eq!(chain["value"], hex(0x201000));
    for (k, list) in lists.iter().enumerate() {
        let written = entries(list);
        for (slot, entry) in pages[k]["entries"].as_array().unwrap().iter().enumerate() {
            assert_eq!(entry["value"], hex(written[slot]));
        }
    }
    assert_eq!(layout["walk"]["matches_input"], true);

    // Half a page offered where two list pages are needed: refused, and the fix speaks of
    // list pages, not of --list options.
    let (doc, code) = json(&["prp", "0x10000+0x120000", "--list", "0x200800+0x800"]);
    assert_eq!(code, 1);
    assert_eq!(doc["refusal"]["rule"], "prp.list_memory");
    let fix = doc["refusal"]["fixes"][0]["text"].as_str().unwrap();
    assert!(
        fix.contains("memory for 2 list pages instead of 1"),
        "{fix}"
    );
}

#[test]
fn list_memory_overlapping_the_data_is_refused_unless_allowed() {
    // The list page given at 0x11000 is the second data page: a read would overwrite it.
    let argv = ["prp", "0x10000+0x4000", "--list", "0x11000"];
    let (doc, code) = json(&argv);
    assert_eq!(code, 1, "{doc}");
    let r = &doc["refusal"];
    assert_eq!(r["rule"], "tool.descriptor_outside_data");
    assert_eq!(r["extent"], 0);
    assert_eq!(r["memory"], 0);
    let message = r["message"].as_str().unwrap();
    // Both extents, the shared bytes, why, and the fix.
    assert!(
        message.contains("PRP list page 0 at 0x11000+0x18"),
        "{message}"
    );
    assert!(message.contains("extent 0 (0x10000+0x4000)"), "{message}");
    assert!(message.contains("0x11000..0x11018"), "{message}");
    assert!(message.contains("a read would overwrite"), "{message}");
    assert!(message.contains("--allow-overlap"), "{message}");
    assert_eq!(r["fixes"][0]["kind"], "move");
    let text = stdout(&run(&argv));
    assert!(marked_line(&text).contains("extent 0"), "{text}");

    // --allow-overlap lays it out, and says what is wrong with it.
    let mut allowed = argv.to_vec();
    allowed.push("--allow-overlap");
    let (doc, code) = json(&allowed);
    assert_eq!(code, 0, "{doc}");
    let warnings = doc["layout"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].as_str().unwrap().contains("overlaps extent 0"));
    let text = stdout(&run(&allowed));
    assert!(text.contains("⚠ Warning: PRP list page 0"), "{text}");

    // Memory beside the data is no overlap, and a layout without one has no warnings.
    let (doc, code) = json(&["prp", "0x10000+0x4000", "--list", "0x14000"]);
    assert_eq!(code, 0);
    assert!(doc["layout"].get("warnings").is_none());
}

#[test]
fn no_split_is_offered_where_none_exists() {
    // Extent 0 ends inside a page, and the library's message offers a split after it; but
    // extent 1 is short and mid-page too, so the transfer would have to be cut at byte 0x900,
    // inside a 512-byte block: no split of whole blocks exists.
    let extents = [
        Extent::new(0x1000, 0x800),
        Extent::new(0x3100, 0x100),
        Extent::new(0x5000, 0x1000),
    ];
    assert!(PrpBuilder::new(PS).split(&extents, 512).is_err());
    let argv = ["prp", "0x1000+0x800", "0x3100+0x100", "0x5000+0x1000"];
    let (doc, code) = json(&argv);
    assert_eq!(code, 1);
    let r = &doc["refusal"];
    assert_eq!(r["rule"], "prp.end_on_page_boundary");
    let message = r["message"].as_str().unwrap();
    assert!(!message.contains("split the command"), "{message}");
    assert!(
        message.contains("Fix: extend it to 0x2000, or use an SGL"),
        "{message}"
    );
    assert!(message.contains("no split helps"), "{message}");
    assert!(message.contains("at byte 0x900"), "{message}");
    let kinds: Vec<&str> = r["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["use_sgl", "extend"]);
    let text = stdout(&run(&argv));
    assert!(!text.contains("split the command"), "{text}");

    // Over MDTS with a length that is no whole number of blocks, past the commands a split
    // lists one by one: no split is promised there either.
    let (doc, code) = json(&[
        "prp",
        "0x1000+0x200800",
        "--max-transfer",
        "0x1000",
        "--block-size",
        "0x1000",
    ]);
    assert_eq!(code, 1);
    let r = &doc["refusal"];
    assert_eq!(r["rule"], "prp.max_transfer");
    assert!(r["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["kind"] != "split"));
    let message = r["message"].as_str().unwrap();
    assert!(!message.contains("split the request"), "{message}");
    assert!(
        message.contains("not a whole number of 4096-byte blocks"),
        "{message}"
    );
}
