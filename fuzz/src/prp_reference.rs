//! A reference PRP walker, written from NVMe Base Specification 2.1, 4.3.1, alone: one
//! page at a time, 128-bit arithmetic, memory read host-side, no library code. The library
//! walker must give the same segments or the same status on any input.
//!
//! Where a list holds both an entry with an offset and a slot that cannot be read, the
//! specification does not say which to report; the library reads a page's data slots in
//! batches of 64 and then its chain slot alone, and reports a batch that cannot be read before
//! any entry in it. The reference fetches in the same batches so that both meet the same
//! problem first.

use nvme_dma::{Extent, SimMemory};
use nvme_dma_testkit::oracle::normalize;

/// Status code (SCT 0) for an entry or pointer with a forbidden offset.
pub const PRP_OFFSET_INVALID: u8 = 0x13;
/// Status code (SCT 0) for list memory that cannot be read.
pub const DATA_TRANSFER_ERROR: u8 = 0x04;

/// Slots the library reads from a list page per memory read.
const BATCH: u128 = 64;

/// What a successful reference walk found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walked {
    /// The data segments, adjacent pages merged.
    pub segments: Vec<Extent>,
    /// List slots read (data entries and chain pointers).
    pub slots: u64,
}

/// Walk `prp1`/`prp2` for `len` bytes in pages of `ps` bytes; the segments, or the status code.
pub fn walk(prp1: u64, prp2: u64, len: u64, ps: u64, mem: &SimMemory) -> Result<Walked, u8> {
    let mut pages: Vec<Extent> = Vec::new();
    let done = |pages: Vec<Extent>, slots| {
        Ok(Walked {
            segments: normalize(&pages),
            slots,
        })
    };
    if len == 0 {
        return done(pages, 0);
    }
    if prp1 % 4 != 0 {
        return Err(PRP_OFFSET_INVALID);
    }
    let (ps, len) = (u128::from(ps), u128::from(len));
    let offset = u128::from(prp1) % ps;
    let count = (offset + len).div_ceil(ps);
    let first = (ps - offset).min(len);
    pages.push(Extent::new(prp1, first as u64));
    let mut remaining = len - first;
    let mut take = |addr: u64, pages: &mut Vec<Extent>| {
        let n = remaining.min(ps);
        remaining -= n;
        pages.push(Extent::new(addr, n as u64));
    };
    match count {
        1 => return done(pages, 0),
        // PRP2 is the second page: it must have no offset.
        2 if u128::from(prp2) % ps != 0 => return Err(PRP_OFFSET_INVALID),
        2 => {
            take(prp2, &mut pages);
            return done(pages, 0);
        }
        // PRP2 is a list pointer: qword aligned, any offset.
        _ if prp2 % 8 != 0 => return Err(PRP_OFFSET_INVALID),
        _ => {}
    }
    let read = |addr: u128| {
        let mut slot = [0u8; 8];
        mem.peek(addr as u64, &mut slot).expect("checked mapped");
        u64::from_le_bytes(slot)
    };
    let mut entries = count - 1;
    let mut slot = u128::from(prp2);
    let mut page_slots = (ps - slot % ps) / 8;
    let mut slots_read = 0u64;
    while entries > 0 {
        // The last slot of a page is a pointer onward only when more entries remain than
        // the page has slots left.
        let chains = entries > page_slots;
        let data = if chains { page_slots - 1 } else { entries };
        let mut i = 0;
        while i < data {
            let batch = (data - i).min(BATCH);
            if !mem.is_mapped(slot as u64, (batch * 8) as u64) {
                return Err(DATA_TRANSFER_ERROR);
            }
            for _ in 0..batch {
                let entry = read(slot);
                slots_read += 1;
                if u128::from(entry) % ps != 0 {
                    return Err(PRP_OFFSET_INVALID);
                }
                take(entry, &mut pages);
                slot += 8;
            }
            i += batch;
        }
        entries -= data;
        if chains {
            if !mem.is_mapped(slot as u64, 8) {
                return Err(DATA_TRANSFER_ERROR);
            }
            let next = read(slot);
            slots_read += 1;
            if u128::from(next) % ps != 0 {
                return Err(PRP_OFFSET_INVALID);
            }
            slot = u128::from(next);
            page_slots = ps / 8;
        }
    }
    assert_eq!(remaining, 0);
    done(pages, slots_read)
}
