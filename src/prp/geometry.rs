//! The arithmetic of PRP layouts, shared by the builder and the walker.
//!
//! Everything here is a closed form in the transfer's first offset, its length, the page size
//! and the list pointer's offset, so both sides agree by construction and a test can state the
//! walker's work bound without running it.

use crate::extent::PageSize;

/// Bytes in one PRP entry.
pub const ENTRY_BYTES: u64 = 8;

/// How many memory pages a transfer of `len` bytes touches when its first byte sits at
/// `first_offset` in its page. Zero for an empty transfer.
///
/// `first_offset` is reduced modulo the page size, so passing PRP1 itself works.
pub const fn pages_touched(page_size: PageSize, first_offset: u64, len: u64) -> u64 {
    match len.checked_sub(1) {
        None => 0,
        // offset < 2^27 and len - 1 < 2^64, so the sum can overflow only for transfers within
        // 2^27 bytes of 2^64: saturate (such a transfer is rejected long before this matters).
        Some(extra) => (page_size.offset_of(first_offset).saturating_add(extra)
            >> page_size.shift())
        .saturating_add(1),
    }
}

/// How many entries a PRP list must hold for a transfer touching `pages` pages: none when
/// PRP1 and PRP2 cover them (one or two pages), otherwise every page after the first.
pub const fn list_entries(pages: u64) -> u64 {
    if pages <= 2 {
        0
    } else {
        pages.saturating_sub(1)
    }
}

/// How many 8-byte slots the first list page has when the list pointer (PRP2) sits at
/// `list_offset` in its page: the list runs to the end of that page, never beyond.
pub const fn first_page_slots(page_size: PageSize, list_offset: u64) -> u64 {
    page_size
        .bytes()
        .saturating_sub(page_size.offset_of(list_offset))
        / ENTRY_BYTES
}

/// How many list pages hold `entries` entries, given `first_slots` slots in the first page.
///
/// Every later page has `page_size / 8` slots. A page whose entries do not all fit gives up its
/// last slot to a pointer to the next page; a page whose entries fit exactly keeps that slot
/// for data (the exact-fill case drivers and emulators have got wrong).
///
/// ```text
/// entries <= first_slots:  1
/// otherwise:               1 + ceil((entries - first_slots) / (slots_per_page - 1))
/// ```
pub const fn list_pages(page_size: PageSize, first_slots: u64, entries: u64) -> u64 {
    if entries == 0 {
        return 0;
    }
    if entries <= first_slots {
        return 1;
    }
    // The first page keeps first_slots - 1 data slots (possibly none). Each later non-final
    // page keeps slots - 1; the final page may use all its slots. Counting pages after the
    // first: ceil((entries - first_slots) / (slots - 1)), as derived in the doc comment.
    let per_page = page_size.entries_per_page().saturating_sub(1);
    let beyond = entries.saturating_sub(first_slots);
    1u64.saturating_add(beyond.div_ceil(per_page))
}

/// The exact number of 8-byte list slots a walker reads for a transfer: every data entry, plus
/// one chain pointer per list page but the last.
pub const fn list_slots_read(page_size: PageSize, list_offset: u64, entries: u64) -> u64 {
    let pages = list_pages(page_size, first_page_slots(page_size, list_offset), entries);
    entries.saturating_add(pages.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PS: PageSize = PageSize::SIZE_4K;

    #[test]
    fn pages_touched_counts_partial_pages() {
        assert_eq!(pages_touched(PS, 0, 0), 0);
        assert_eq!(pages_touched(PS, 0, 1), 1);
        assert_eq!(pages_touched(PS, 0, 4096), 1);
        assert_eq!(pages_touched(PS, 0, 4097), 2);
        assert_eq!(pages_touched(PS, 0xffc, 4), 1);
        assert_eq!(pages_touched(PS, 0xffc, 8), 2);
        assert_eq!(
            pages_touched(PS, 0x1ffc, 8),
            2,
            "offset is taken modulo the page"
        );
        assert_eq!(pages_touched(PS, 0x200, 8192), 3);
        assert_eq!(pages_touched(PS, 0, u64::MAX), 1 << 52);
    }

    #[test]
    fn exact_fill_keeps_last_slot_for_data() {
        // 512 entries fill one 4 KiB list page exactly: no chain.
        assert_eq!(list_pages(PS, 512, 512), 1);
        // 513 entries: 511 in the first page, a pointer, then 2 in the second.
        assert_eq!(list_pages(PS, 512, 513), 2);
        // 511 + 512 = 1023 fit two pages exactly; 1024 needs a third.
        assert_eq!(list_pages(PS, 512, 1023), 2);
        assert_eq!(list_pages(PS, 512, 1024), 3);
        assert_eq!(list_slots_read(PS, 0, 512), 512);
        assert_eq!(list_slots_read(PS, 0, 513), 514);
    }

    #[test]
    fn list_pointer_offset_shrinks_first_page() {
        // Offset 0xff8 leaves one slot: with more than one entry it can only hold the chain.
        assert_eq!(first_page_slots(PS, 0xff8), 1);
        assert_eq!(list_pages(PS, 1, 1), 1);
        assert_eq!(list_pages(PS, 1, 2), 2);
        assert_eq!(list_pages(PS, 1, 512), 2);
        assert_eq!(list_pages(PS, 1, 513), 3);
        // A 256-byte pool block at offset 0xf00 holds 32 slots.
        assert_eq!(first_page_slots(PS, 0xf00), 32);
        assert_eq!(list_pages(PS, 32, 32), 1);
        assert_eq!(list_pages(PS, 32, 33), 2);
    }

    #[test]
    fn list_entries_only_beyond_two_pages() {
        assert_eq!(list_entries(1), 0);
        assert_eq!(list_entries(2), 0);
        assert_eq!(list_entries(3), 2);
    }
}
