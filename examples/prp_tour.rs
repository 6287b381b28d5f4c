//! A tour of PRPs: build a layout for a sample scatter list, explain it, write it into
//! simulated host memory, walk it back the way a controller does, and check every byte.
//! Then show what happens to a scatter list one PRP command cannot carry.
//!
//! Run: `cargo run --example prp_tour`

use nvme_dma::prp::{BuildError, PrpBuilder, PrpLayout, PrpListPage, PrpWalker};
use nvme_dma::spec::{Opcode, SubmissionEntry};
use nvme_dma::{Extent, PageSize, SimMemory};

const LIST_ADDR: u64 = 0x7f_0000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ps = PageSize::SIZE_4K;
    // A 20 KiB read into a buffer spread over four places in host memory: the tail of one
    // page, two whole pages, one more whole page, and the head of a last page.
    let extents = [
        Extent::new(0x10_0a00, 0x600),
        Extent::new(0x23_0000, 0x2000),
        Extent::new(0x51_0000, 0x1000),
        Extent::new(0x64_0000, 0x1a00),
    ];
    println!("Scatter list ({ps} memory pages):");
    for (i, e) in extents.iter().enumerate() {
        println!(
            "  extent {i}: {e:<18} offset {:#05x} in its page, {} bytes",
            ps.offset_of(e.addr),
            e.len
        );
    }

    let builder = PrpBuilder::new(ps).with_max_transfer(128 * 1024);
    let plan = builder.plan(&extents)?;
    println!(
        "\nPlan: {} bytes touch {} pages -> PRP1 + {} list entries in {} list page(s)",
        plan.len(),
        plan.pages(),
        plan.list_entries(),
        plan.list_pages_needed(LIST_ADDR)
    );

    // The driver owns its list memory: here one 4 KiB page at bus address LIST_ADDR.
    let mut list = vec![0u8; ps.bytes() as usize];
    let layout = builder.build(&extents, &mut [PrpListPage::new(LIST_ADDR, &mut list)])?;
    explain(&layout, &list);

    let mut sqe = SubmissionEntry::new(Opcode::NVM_READ, 7);
    sqe.set_nsid(1);
    sqe.set_prp1(layout.pair.prp1);
    sqe.set_prp2(layout.pair.prp2.raw());
    println!("\nSubmission entry (Read, CID 7):");
    for row in sqe.to_bytes().chunks(16) {
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
        println!("  {}", hex.join(" "));
    }

    // The controller's side: host memory holds the data and the list; walk it back.
    let mut mem = SimMemory::new();
    let mut expected = Vec::new();
    for (i, e) in extents.iter().enumerate() {
        let data: Vec<u8> = (0..e.len).map(|k| (k as u8) ^ (i as u8 * 0x40)).collect();
        mem.map(e.addr, e.len)?;
        mem.poke(e.addr, &data)?;
        expected.extend(data);
    }
    mem.map(LIST_ADDR, ps.bytes())?;
    mem.poke(LIST_ADDR, &list)?;
    let walker = PrpWalker::new(
        layout.pair.prp1,
        layout.pair.prp2.raw(),
        plan.len(),
        ps,
        &mem,
    );
    // A PRP walk yields only data pieces.
    let segments: Vec<Extent> = walker
        .into_iter()
        .map(|piece| piece.map(|p| p.data().unwrap_or_default()))
        .collect::<Result<_, _>>()?;
    println!("\nThe controller walks PRP1, PRP2 and the list back into segments:");
    let mut gathered = Vec::new();
    for s in &segments {
        println!("  {s}");
        gathered.extend(mem.peek_vec(s.addr, s.len as usize)?);
    }
    let list_reads = mem.accesses().len();
    println!(
        "  {} bytes gathered, {} ({} list read(s), {} list bytes)",
        gathered.len(),
        if gathered == expected {
            "all equal to the scatter list's"
        } else {
            "MISMATCH"
        },
        list_reads,
        mem.bytes_read()
    );
    if gathered != expected {
        return Err("data mismatch".into());
    }

    // A scatter list one PRP command cannot carry: extent 1 ends inside a page.
    let broken = [
        Extent::new(0x10_0000, 0x1000),
        Extent::new(0x23_0000, 0x800),
        Extent::new(0x51_0000, 0x1000),
    ];
    println!("\nAnother scatter list: {}", list_string(&broken));
    match builder.plan(&broken) {
        Err(e @ BuildError::EndInsidePage { .. }) => println!("  refused: {e}"),
        other => return Err(format!("expected a refusal, got {other:?}").into()),
    }
    let split = builder.split(&broken, 512)?;
    println!("  split into {} commands instead:", split.commands());
    for chunk in split {
        let part: Vec<Extent> = chunk.extents(&broken).collect();
        let pair = builder.build(&part, &mut [])?.pair;
        println!(
            "    bytes {:#06x}..{:#06x}: {}  PRP1 {:#x} PRP2 {:#x}",
            chunk.offset,
            chunk.offset + chunk.len,
            list_string(&part),
            pair.prp1,
            pair.prp2.raw()
        );
    }
    Ok(())
}

/// Print the layout as a picture: the pointers, the list page, and where each entry lands.
fn explain(layout: &PrpLayout, list: &[u8]) {
    let ps = layout.plan.page_size();
    let pair = layout.pair;
    let first_len = (ps.bytes() - ps.offset_of(pair.prp1)).min(layout.plan.len());
    println!("\n  DPTR");
    println!("  ┌───────────────────────┐");
    println!(
        "  │ PRP1 = {:#014x} │──▶ data page {:#x}, from offset {:#x}: {} bytes",
        pair.prp1,
        ps.page_base(pair.prp1),
        ps.offset_of(pair.prp1),
        first_len
    );
    println!(
        "  │ PRP2 = {:#014x} │──┐ (a PRP list pointer: more than two pages)",
        pair.prp2.raw()
    );
    println!("  └───────────────────────┘  │");
    println!("  ┌──────────────────────────┘");
    println!("  ▼ PRP list page {:#x}", pair.prp2.raw());
    let mut left = layout.plan.len() - first_len;
    for (i, entry) in list
        .chunks(8)
        .take(layout.plan.list_entries() as usize)
        .enumerate()
    {
        let addr = u64::from_le_bytes(entry.try_into().unwrap());
        let len = left.min(ps.bytes());
        left -= len;
        let whole = if len == ps.bytes() {
            "whole page"
        } else {
            "first bytes only"
        };
        println!("     [{i}] {addr:#010x} ──▶ {len:>5} bytes ({whole})");
    }
    println!(
        "  Every entry after PRP1 has offset 0; {} fit one list page, so no chaining.",
        layout.plan.list_entries()
    );
}

fn list_string(extents: &[Extent]) -> String {
    let parts: Vec<String> = extents.iter().map(|e| e.to_string()).collect();
    parts.join(", ")
}
