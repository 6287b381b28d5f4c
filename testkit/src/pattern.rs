//! Data patterns: deterministic bytes written into simulated memory before a transfer, and the
//! bytes the transfer should deliver.

use nvme_dma::memory::DataMover;
use nvme_dma::{Extent, Piece, SimMemory};

/// The byte at position `pos` of a transfer tagged `seed`: what the data should read as.
pub fn pattern_byte(seed: u64, pos: u64) -> u8 {
    let x = (pos ^ seed.rotate_left(17)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x >> 56) as u8 ^ (pos as u8)
}

/// Map every extent and write the transfer pattern into it, byte `k` of the transfer at its
/// place in the extents. Extents must not overlap.
///
/// This and [`fill_pieces`] lay the data out by hand, not with the library's data mover:
/// tests move it back with the mover ([`crate::oracle::gather`]) and compare with
/// [`expected_bytes`], and a mover that wrote and read the same wrong places would pass if it
/// had laid the data out too.
pub fn fill_extents(mem: &mut SimMemory, extents: &[Extent], seed: u64) {
    let mut pos = 0u64;
    for e in extents.iter().filter(|e| e.len > 0) {
        mem.map(e.addr, e.len)
            .expect("extent fits the address space");
        let data: Vec<u8> = (0..e.len).map(|k| pattern_byte(seed, pos + k)).collect();
        mem.poke(e.addr, &data).expect("mapped");
        pos += e.len;
    }
}

/// The transfer as it should arrive: `len` pattern bytes.
pub fn expected_bytes(seed: u64, len: u64) -> Vec<u8> {
    (0..len).map(|k| pattern_byte(seed, k)).collect()
}

/// Map every data piece and write the transfer pattern into it, byte `k` of the transfer at
/// its place among the pieces (skips take transfer positions but no memory).
pub fn fill_pieces(mem: &mut SimMemory, pieces: &[Piece], seed: u64) {
    let mut pos = 0u64;
    for p in pieces {
        if let Piece::Data(e) = p {
            if e.len > 0 {
                mem.map(e.addr, e.len)
                    .expect("piece fits the address space");
                let data: Vec<u8> = (0..e.len).map(|k| pattern_byte(seed, pos + k)).collect();
                mem.poke(e.addr, &data).expect("mapped");
            }
        }
        pos += p.len();
    }
}

/// Act as a controller finishing a read: move the transfer's pattern through the walked
/// pieces with the library's data mover, as the mock controller does (bit buckets discard
/// their bytes).
pub fn deliver_read(mem: &mut SimMemory, walked: &[Piece], seed: u64) {
    let len: u64 = walked.iter().map(|p| p.len()).sum();
    let data = expected_bytes(seed, len);
    DataMover::new(walked, mem)
        .expect("walked data is mapped")
        .to_host(mem, &data)
        .expect("walked data is mapped");
}

/// The pattern bytes of the data pieces only, at their transfer positions.
pub fn expected_data_bytes(pieces: &[Piece], seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pos = 0u64;
    for p in pieces {
        if let Piece::Data(e) = p {
            out.extend((0..e.len).map(|k| pattern_byte(seed, pos + k)));
        }
        pos += p.len();
    }
    out
}

/// A deterministic byte pattern.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// `n` byte strings of assorted lengths (`min_len` up to `min_len + spread`), from `seed`:
/// fuzzer-like inputs for tests that run a generator on many of them.
pub fn byte_strings(
    seed: u64,
    n: usize,
    min_len: usize,
    spread: usize,
) -> impl Iterator<Item = Vec<u8>> {
    let mut x = seed | 1;
    (0..n).map(move |i| {
        let len = min_len + (i * 37) % spread.max(1);
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    })
}
