//! A tour of SGLs: build an SGL for a read whose scatter list includes bytes to throw away (a
//! bit bucket), with more descriptors than one segment buffer holds, so that SGL1 points at a
//! chain of three segments. Print the chain in words, write it into simulated host memory,
//! walk it back the way a controller does, move data through it and check every byte. Then
//! show an SGL a controller cannot take, refused on both sides.
//!
//! Run: `cargo run --example sgl_tour`

use nvme_dma::memory::DataMover;
use nvme_dma::sgl::{Descriptor, SegmentBuf, SglBuilder, SglCaps, SglWalker};
use nvme_dma::spec::{SglDescriptor, SglSupport, Sgls};
use nvme_dma::{Direction, DmaMemory, Extent, Piece, SimMemory};

/// Three segment buffers of 4 descriptors (64 bytes) each, a page apart.
const SEGMENTS: [u64; 3] = [0x7f_0000, 0x7f_1000, 0x7f_2000];
const SEGMENT_BYTES: usize = 64;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A byte-aligned controller that takes bit buckets (SGLS bits 1:0 = 01b, bit 16).
    let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET);
    // A 38,144-byte read: a 6 KiB buffer in two adjacent extents, a 512-byte header nobody
    // wants, odd-sized pieces anywhere in memory, and 477 more bytes to skip.
    let pieces = [
        Piece::Data(Extent::new(0x10_0000, 0x1000)),
        Piece::Data(Extent::new(0x10_1000, 0x800)),
        Piece::Skip(0x200),
        Piece::Data(Extent::new(0x20_0400, 0x600)),
        Piece::Data(Extent::new(0x31_0000, 0x123)),
        Piece::Data(Extent::new(0x40_0000, 0x2000)),
        Piece::Skip(0x1dd),
        Piece::Data(Extent::new(0x52_0010, 0x400)),
        Piece::Data(Extent::new(0x60_0000, 0x4e00)),
    ];
    println!("Scatter list for a Read:");
    for (i, p) in pieces.iter().enumerate() {
        println!("  piece {i}: {p}");
    }

    let builder = SglBuilder::new(caps, Direction::Read).with_max_transfer(128 * 1024);
    let plan = builder.plan(&pieces)?;
    let capacity = (SEGMENT_BYTES / 16) as u64;
    println!(
        "\nPlan: {} bytes in {} descriptors ({} pieces, adjacent ones merged);\n      \
         in segment buffers of {capacity} descriptors, that takes {} of them",
        plan.len(),
        plan.descriptors(),
        pieces.len(),
        plan.segments_needed(capacity)
    );

    // The driver owns its segment memory: three 64-byte buffers.
    let mut bufs = [[0u8; SEGMENT_BYTES]; 3];
    let mut segs: Vec<SegmentBuf<'_>> = (SEGMENTS.iter().zip(&mut bufs))
        .map(|(&addr, bytes)| SegmentBuf::new(addr, bytes))
        .collect();
    let layout = builder.build(&pieces, &mut segs)?;
    assert_eq!(layout.segments_used, 3, "a chain of three segments");

    // Follow the chain through the buffers, as the host wrote it. Segments are numbered from
    // 1, as the walker's errors number them; the builder fills the buffers in order.
    let mut next = layout.sgl1.descriptor();
    println!("\n  SGL1 (in the command): {next}");
    for (n, bytes) in (1..).zip(&bufs) {
        let Descriptor::Pointer(segment) = next else {
            break;
        };
        let count = segment.descriptors() as usize;
        println!(
            "  segment {n} at {:#x} ({count} descriptors):",
            segment.addr
        );
        for (slot, raw) in bytes.chunks_exact(16).take(count).enumerate() {
            next = Descriptor::parse(&SglDescriptor::from_bytes(raw.try_into()?))?;
            println!("    [{slot}] {next}");
        }
    }

    // The controller's side: host memory holds the segments; data buffers are mapped, empty.
    let mut mem = SimMemory::new();
    for (addr, bytes) in SEGMENTS.iter().zip(&bufs) {
        mem.map(*addr, bytes.len() as u64)?;
        mem.poke(*addr, bytes)?;
    }
    for e in pieces.iter().filter_map(Piece::data) {
        mem.map(e.addr, e.len)?;
    }
    let sgl1 = layout.sgl1.to_raw();
    let walked: Vec<Piece> = SglWalker::new(sgl1, Direction::Read, plan.len(), &caps, &mem)
        .into_iter()
        .collect::<Result<_, _>>()?;
    println!("\nThe controller walks SGL1 and the chain back into pieces:");
    for p in &walked {
        println!("  {p}");
    }
    println!(
        "  ({} segment reads, {} bytes of descriptors)",
        mem.read_count(),
        mem.bytes_read()
    );
    // The walk gives back the pieces given, physically adjacent ones merged.
    let mut merged: Vec<Piece> = Vec::new();
    for p in &pieces {
        if !merged.last_mut().is_some_and(|last| last.try_merge(p)) {
            merged.push(*p);
        }
    }
    assert_eq!(walked, merged, "the walk gives back the scatter list");

    // Move the Read's data (what the controller read from its store) through the walked
    // pieces: every kept byte lands where its piece says, the bit buckets' bytes nowhere.
    let data: Vec<u8> = (0..plan.len()).map(|i| (i % 251) as u8).collect();
    DataMover::new(&walked, &mem)?.to_host(&mut mem, &data)?;
    let mut offset = 0usize;
    for p in &pieces {
        if let Piece::Data(e) = p {
            let mut got = vec![0u8; e.len as usize];
            mem.read(e.addr, &mut got)?;
            assert_eq!(got, data[offset..offset + got.len()], "piece {p}");
        }
        offset += p.len() as usize;
    }
    println!("  {offset} bytes moved, each where its piece says: checked");

    // An SGL the controller cannot take, refused on each side.
    println!("\nThe same pieces as a Write:");
    match SglBuilder::new(caps, Direction::Write).plan(&pieces) {
        Ok(_) => return Err("a bit bucket in a write must be refused".into()),
        Err(e) => println!("  builder refuses: {e}\n  rule: {}", e.rule().id()),
    }
    println!("\nThe chain above, walked by a dword-granular controller (SGLS bits 1:0 = 10b):");
    let dword = SglCaps::new(Sgls::from_support(SglSupport::DwordAligned) | Sgls::BIT_BUCKET);
    match SglWalker::new(sgl1, Direction::Read, plan.len(), &dword, &mem)
        .into_iter()
        .collect::<Result<Vec<Piece>, _>>()
    {
        Ok(_) => return Err("an unaligned data block must be refused".into()),
        Err(e) => println!(
            "  controller refuses: {e}\n  status: {}\n  rule: {}",
            e.status(),
            e.rule().id()
        ),
    }
    Ok(())
}
