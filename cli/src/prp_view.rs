//! A PRP layout as the command shows it: built by the library's [`PrpBuilder`], read back
//! from the list memory it wrote, and walked by [`PrpWalker`] as a controller would.

use nvme_dma::prp::geometry::first_page_slots;
use nvme_dma::prp::{PrpBuilder, PrpListPage, PrpWalker};
use nvme_dma::rule::Rule;
use nvme_dma::{Extent, PageSize, SimMemory};
use serde::Serialize;

use crate::explain::{self, PrpContext, Refusal};
use crate::json::{ExtentJson, Hex, PieceJson};
use crate::parse::Memory;
use crate::Failure;

/// Most descriptor memory (PRP list pages or SGL segments) the command lays out and draws.
pub const MAX_DESCRIPTOR_BYTES: u64 = 16 << 20;

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct PrpRequest {
    /// The scatter list.
    pub extents: Vec<Extent>,
    /// CC.MPS.
    pub page_size: PageSize,
    /// MDTS in bytes.
    pub max_transfer: Option<u64>,
    /// List memory offered, in order; empty to let the tool place it.
    pub lists: Vec<Memory>,
    /// Logical block size, for split suggestions.
    pub block_size: u64,
    /// Lay out list memory that overlaps the data, with a warning, instead of refusing it.
    pub allow_overlap: bool,
}

impl PrpRequest {
    fn builder(&self) -> PrpBuilder {
        let builder = PrpBuilder::new(self.page_size);
        match self.max_transfer {
            Some(max) => builder.with_max_transfer(max),
            None => builder,
        }
    }
}

/// The input, echoed in JSON.
#[derive(Clone, Debug, Serialize)]
pub struct PrpInput {
    /// Memory page size in bytes.
    pub page_size: u64,
    /// MDTS in bytes, if given.
    pub max_transfer: Option<u64>,
    /// The extents.
    pub extents: Vec<ExtentJson>,
}

impl From<&PrpRequest> for PrpInput {
    fn from(req: &PrpRequest) -> Self {
        PrpInput {
            page_size: req.page_size.bytes(),
            max_transfer: req.max_transfer,
            extents: req.extents.iter().copied().map(ExtentJson::from).collect(),
        }
    }
}

/// A built PRP layout.
#[derive(Clone, Debug, Serialize)]
pub struct PrpView {
    /// Memory page size in bytes.
    pub page_size: u64,
    /// Bytes the command moves.
    pub length: u64,
    /// Memory pages the transfer touches.
    pub pages: u64,
    /// PRP1.
    pub prp1: Hex,
    /// PRP2.
    pub prp2: Hex,
    /// What PRP2 is.
    pub prp2_role: Prp2Role,
    /// Entries in the PRP list (0 when there is none).
    pub list_entries: u64,
    /// Bytes of list memory the layout writes: the slots it uses in every list page, data
    /// entries and chain pointers (0 when there is no list).
    pub list_bytes: u64,
    /// Where the list pages were placed: given with --list, or chosen by the tool.
    pub list_placement: Placement,
    /// Every data page, in transfer order.
    pub data_pages: Vec<DataPage>,
    /// Every list page written, in chain order.
    pub list_pages: Vec<ListPage>,
    /// What the controller-side walker read back.
    pub walk: WalkCheck,
    /// What is legal but wrong with the layout (list memory overlapping the data, laid out
    /// because --allow-overlap said so).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The list pages' bytes as written, at their bus addresses.
    #[serde(skip)]
    pub memory: Vec<(u64, Vec<u8>)>,
}

/// What PRP2 holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prp2Role {
    /// The transfer stays in PRP1's page.
    Unused,
    /// The second (and last) data page.
    Data,
    /// A pointer to the first PRP list page.
    List,
}

/// Whether descriptor memory was given or placed by the tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// None is needed.
    None,
    /// Given on the command line.
    Given,
    /// Placed by the tool above the data.
    Auto,
}

/// One memory page of the transfer.
#[derive(Clone, Debug, Serialize)]
pub struct DataPage {
    /// Position in the transfer, from 0.
    pub index: u64,
    /// The page's base address.
    pub page: Hex,
    /// First byte used, from the page base.
    pub offset: u64,
    /// Bytes used.
    pub len: u64,
    /// The extent the bytes belong to.
    pub extent: usize,
    /// The PRP entry that names the page: `prp1`, `prp2` or `list`.
    pub entry: EntryRef,
    /// The entry's value (the page base, or PRP1 with its offset).
    pub pointer: Hex,
}

/// Which PRP entry names a data page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryRef {
    /// PRP1 in the command.
    Prp1,
    /// PRP2 in the command.
    Prp2,
    /// A slot of a list page.
    List {
        /// Which list page, from 0.
        page: usize,
        /// Which slot of it, from 0.
        slot: u64,
    },
}

/// One PRP list page, as written.
#[derive(Clone, Debug, Serialize)]
pub struct ListPage {
    /// Position in the chain, from 0 (the page PRP2 points at).
    pub index: usize,
    /// Bus address of its first slot.
    pub addr: Hex,
    /// Slots its buffer provides, up to the end of its memory page.
    pub slots: u64,
    /// Slots from its address to the end of its memory page.
    pub page_slots: u64,
    /// The slots the layout uses, in order.
    pub entries: Vec<ListSlot>,
}

/// One used slot of a list page.
#[derive(Clone, Debug, Serialize)]
pub struct ListSlot {
    /// Slot number in the list page, from 0.
    pub slot: u64,
    /// Bus address of the slot.
    pub addr: Hex,
    /// The 8-byte entry written there.
    pub value: Hex,
    /// A data page, or the pointer to the next list page.
    pub role: SlotRole,
}

/// What a list slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotRole {
    /// The base of a data page.
    Data,
    /// The address of the next list page.
    NextList,
}

/// The controller's view of the layout, from the library's walker.
#[derive(Clone, Debug, Serialize)]
pub struct WalkCheck {
    /// The walker that read the layout back.
    pub walker: &'static str,
    /// Segments it yielded (adjacent pages merged).
    pub segments: Vec<PieceJson>,
    /// Bytes they cover.
    pub bytes: u64,
    /// Whether they are the input, adjacent extents merged.
    pub matches_input: bool,
    /// The walker's error, if it refused the layout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The id of the rule the walker enforced in refusing ([`nvme_dma::rule::Rule::id`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_rule: Option<&'static str>,
}

/// A built layout, or why there is none.
#[derive(Clone, Debug)]
pub enum Outcome<T> {
    /// The layout.
    Built(T),
    /// The library refused the input.
    Refused(Refusal),
}

/// One page of the input, cut at page boundaries.
#[derive(Clone, Copy, Debug)]
struct PageUse {
    extent: usize,
    base: u64,
    offset: u64,
    len: u64,
}

/// Cut the non-empty extents into their memory pages, in order.
fn cut_pages(extents: &[Extent], ps: PageSize) -> Vec<PageUse> {
    let mut pages = Vec::new();
    for (index, e) in extents.iter().enumerate() {
        let mut addr = e.addr;
        let mut left = e.len;
        while left > 0 {
            let offset = ps.offset_of(addr);
            let len = left.min(ps.bytes() - offset);
            pages.push(PageUse {
                extent: index,
                base: ps.page_base(addr),
                offset,
                len,
            });
            addr = addr.wrapping_add(len);
            left -= len;
        }
    }
    pages
}

/// The extents with physically adjacent neighbours merged, empty ones dropped: what a
/// walker yields for a valid layout.
pub fn merged(extents: impl IntoIterator<Item = Extent>) -> Vec<Extent> {
    let mut out: Vec<Extent> = Vec::new();
    for e in extents.into_iter().filter(|e| e.len > 0) {
        match out.last_mut() {
            Some(last) if last.end() == Some(e.addr) => last.len += e.len,
            _ => out.push(e),
        }
    }
    out
}

/// Why the tool found no room above the data for descriptor memory: the data extent that
/// reaches highest, and where the memory would have started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoRoom {
    /// The extent (PRP) or piece (SGL) that reaches highest, counted from 0.
    pub index: usize,
    /// That extent.
    pub extent: Extent,
    /// Where the first piece of descriptor memory would start (possibly 2^64 or beyond).
    pub base: u128,
}

/// 2^64: one past the last bus address.
const ADDRESS_SPACE: u128 = 1 << 64;

/// Bus addresses for `count` pieces of descriptor memory of `bytes` each, page aligned, above
/// every byte of the `(index, extent)` pairs: where the tool puts list pages or segments
/// nobody placed. The arithmetic is in 128 bits, so that data ending at the very top of the
/// address space (its end is 2^64, which `u64` cannot hold) finds no room instead of
/// wrapping round to address 0.
pub fn place_above(
    extents: impl IntoIterator<Item = (usize, Extent)>,
    ps: PageSize,
    count: u64,
    bytes: u64,
) -> Result<Vec<u64>, NoRoom> {
    let page = u128::from(ps.bytes());
    let top = extents
        .into_iter()
        .map(|(index, e)| (u128::from(e.addr) + u128::from(e.len), index, e))
        .max_by_key(|&(end, _, _)| end);
    let end_of_data = top.map_or(0, |(end, _, _)| end);
    // One page of gap, so the descriptor memory is easy to tell apart from the data.
    let base = end_of_data.div_ceil(page) * page + page;
    let stride = u128::from(bytes.max(1)).div_ceil(page) * page;
    let end = base + u128::from(count) * stride;
    let no_room = || {
        let (index, extent) = top.map_or((0, Extent::new(0, 0)), |(_, i, e)| (i, e));
        NoRoom {
            index,
            extent,
            base,
        }
    };
    if end > ADDRESS_SPACE {
        return Err(no_room());
    }
    (0..count)
        .map(|k| u64::try_from(base + u128::from(k) * stride).map_err(|_| no_room()))
        .collect()
}

/// The refusal of automatic placement at the top of the address space: the extent, the
/// address, the rule the tool places by, and how to place the memory instead.
pub fn no_room(arg: &str, what: &str, noun: &str, room: NoRoom, count: u64, bytes: u64) -> Failure {
    let e = room.extent;
    let end = u128::from(e.addr) + u128::from(e.len);
    Failure::Usage {
        arg: arg.into(),
        message: format!(
            "{noun} {} ({e}) ends at {end:#x}, and the tool places {what} one memory page above \
             the highest data byte, from {:#x}: {count} × {bytes} bytes there would run past the \
             end of the 64-bit address space (2^64 = 0x10000000000000000). Fix: give the {what}'s \
             address with {arg} ADDR[+BYTES], below the data or between its extents",
            room.index, room.base
        ),
    }
}

/// Build, read back and walk the layout.
pub fn lay_out(req: &PrpRequest) -> Result<Outcome<PrpView>, Failure> {
    let ps = req.page_size;
    let builder = req.builder();
    let refused = |e| {
        let cx = PrpContext {
            extents: &req.extents,
            builder,
            block_size: req.block_size,
        };
        Ok(Outcome::Refused(explain::prp(&e, &cx)))
    };
    let plan = match builder.plan(&req.extents) {
        Ok(plan) => plan,
        Err(e) => return refused(e),
    };
    let (memory, placement) = if !plan.needs_list() {
        (Vec::new(), Placement::None)
    } else if req.lists.is_empty() {
        let count = plan.list_pages_needed(0);
        // Page-aligned list pages: every page but the last is full, its last slot pointing to
        // the next, so the layout writes its entries and one pointer per extra page.
        let needed = plan
            .list_entries()
            .saturating_add(count.saturating_sub(1))
            .saturating_mul(8);
        check_descriptor_bytes(needed, "<ADDR+LEN>")?;
        // One list page holds just its entries; chained pages run to the end of their page.
        let bytes = match count {
            1 => plan.list_entries().saturating_mul(8),
            _ => ps.bytes(),
        };
        let addrs = place_above(req.extents.iter().copied().enumerate(), ps, count, bytes)
            .map_err(|room| no_room("--list", "PRP list memory", "extent", room, count, bytes))?;
        let memory = addrs
            .into_iter()
            .map(|addr| Memory {
                addr,
                bytes: Some(bytes),
            })
            .collect();
        (memory, Placement::Auto)
    } else {
        (req.lists.clone(), Placement::Given)
    };
    let pages = list_memory(ps, &memory, plan.list_entries())?;
    // Each buffer holds the slots the layout writes there, however much memory was offered:
    // a 128 MiB page holding five entries needs 40 bytes, not 128 MiB. A buffer offered
    // smaller than that keeps its size, and the builder says which page is too small.
    let mut buffers: Vec<Vec<u8>> = pages
        .iter()
        .map(|p| vec![0u8; p.buffer_slots() as usize * 8])
        .collect();
    let layout = {
        let mut lists: Vec<PrpListPage<'_>> = pages
            .iter()
            .zip(buffers.iter_mut())
            .map(|(p, buf)| PrpListPage::new(p.addr, buf))
            .collect();
        match builder.build(&req.extents, &mut lists) {
            Ok(layout) => layout,
            Err(e) => return refused(e),
        }
    };
    let used = &pages[..layout.list_pages_used.min(pages.len())];
    buffers.truncate(used.len());
    let list_pages = read_list(ps, used, &buffers, plan.list_entries());
    let regions: Vec<(usize, Extent)> = list_pages
        .iter()
        .map(|p| (p.index, Extent::new(p.addr.0, p.entries.len() as u64 * 8)))
        .collect();
    let data: Vec<(usize, Extent)> = req.extents.iter().copied().enumerate().collect();
    let mut warnings = Vec::new();
    if let Some(((memory, region), (index, data))) = explain::first_overlap(&regions, &data) {
        let overlap = explain::Overlap {
            what: "PRP list page",
            arg: "--list",
            memory,
            region,
            noun: "extent",
            index,
            data,
        };
        if !req.allow_overlap {
            return Ok(Outcome::Refused(overlap.refusal()));
        }
        warnings.push(overlap.message());
    }
    let cut = cut_pages(&req.extents, ps);
    let prp2_role = match plan.pages() {
        1 => Prp2Role::Unused,
        2 => Prp2Role::Data,
        _ => Prp2Role::List,
    };
    let mut entries = list_pages.iter().flat_map(|page| {
        page.entries
            .iter()
            .filter(|slot| slot.role == SlotRole::Data)
            .map(move |slot| {
                (
                    EntryRef::List {
                        page: page.index,
                        slot: slot.slot,
                    },
                    slot.value.0,
                )
            })
    });
    let data_pages = cut
        .iter()
        .enumerate()
        .map(|(i, page)| {
            let (entry, pointer) = match (i, prp2_role) {
                (0, _) => (EntryRef::Prp1, layout.pair.prp1),
                (1, Prp2Role::Data) => (EntryRef::Prp2, layout.pair.prp2.raw()),
                _ => entries.next().ok_or_else(|| {
                    Failure::Internal(format!("the PRP list holds no entry for data page {i}"))
                })?,
            };
            Ok(DataPage {
                index: i as u64,
                page: Hex(page.base),
                offset: page.offset,
                len: page.len,
                extent: page.extent,
                entry,
                pointer: Hex(pointer),
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let list_bytes = buffers.iter().map(|b| b.len() as u64).sum();
    let memory = written(used.iter().map(|p| p.addr), buffers);
    let walk = walk_back(req, &layout.pair, plan.len(), &memory)?;
    Ok(Outcome::Built(PrpView {
        page_size: ps.bytes(),
        length: plan.len(),
        pages: plan.pages(),
        prp1: Hex(layout.pair.prp1),
        prp2: Hex(layout.pair.prp2.raw()),
        prp2_role,
        list_entries: plan.list_entries(),
        list_bytes,
        list_placement: placement,
        data_pages,
        list_pages,
        walk,
        warnings,
        memory,
    }))
}

/// The descriptor memory a layout uses, at these addresses, with its bytes.
pub fn written(addrs: impl IntoIterator<Item = u64>, buffers: Vec<Vec<u8>>) -> Vec<(u64, Vec<u8>)> {
    addrs.into_iter().zip(buffers).collect()
}

/// One list page the layout may use, from the memory offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListMemory {
    /// Bus address of its first slot.
    pub addr: u64,
    /// Slots the memory offered provides, up to the end of its memory page.
    pub provides: u64,
    /// Slots the layout writes there: its data entries, and when the list goes on, every slot
    /// to the end of the memory page (the last one points to the next list page).
    pub needs: u64,
}

impl ListMemory {
    /// Slots to give the builder: what the layout writes, or less when less was offered.
    pub fn buffer_slots(&self) -> u64 {
        self.provides.min(self.needs)
    }
}

/// The list pages in the memory offered, in chain order, for a list of `entries` entries.
///
/// A list page ends where its memory page does (the slot that chains to the next list page is
/// the last of the memory page), so `ADDR+BYTES` reaching into further memory pages is cut
/// at each page boundary into several list pages, each page aligned after the first, as the
/// chain needs them. `ADDR` alone is the rest of its memory page. Pages past the last one
/// the entries need are left out; so is the rest of a range.
pub fn list_memory(
    ps: PageSize,
    offered: &[Memory],
    entries: u64,
) -> Result<Vec<ListMemory>, Failure> {
    let mut left = entries;
    let mut bytes = 0u64;
    let mut pages = Vec::new();
    for m in offered {
        let mut addr = m.addr;
        let mut rest = m.bytes;
        while left > 0 {
            let page_slots = first_page_slots(ps, addr);
            let to_page_end = ps.bytes() - ps.offset_of(addr);
            let chunk = rest.map_or(to_page_end, |r| r.min(to_page_end));
            // The same count as the builder's: a page that cannot take every entry left
            // chains, and needs every slot to its page's end.
            let (needs, data) = if left > page_slots {
                (page_slots, page_slots.saturating_sub(1))
            } else {
                (left, left)
            };
            let page = ListMemory {
                addr,
                provides: (chunk / 8).min(page_slots),
                needs,
            };
            // Checked page by page, so a huge range never becomes a huge list of pages.
            bytes = bytes.saturating_add(page.buffer_slots().saturating_mul(8));
            check_descriptor_bytes(bytes, "--list")?;
            pages.push(page);
            left = left.saturating_sub(data);
            match rest.map(|r| r - chunk) {
                Some(r) if r > 0 => rest = Some(r),
                _ => break,
            }
            match addr.checked_add(chunk) {
                Some(next) => addr = next,
                None => break,
            }
        }
    }
    Ok(pages)
}

/// Read the list pages the builder wrote, slot by slot. A slot is the pointer to the next list
/// page when it is the last slot of its memory page and more than one entry remains; otherwise
/// it is data (a list that fills its page exactly keeps the last slot for data).
fn read_list(
    ps: PageSize,
    memory: &[ListMemory],
    buffers: &[Vec<u8>],
    entries: u64,
) -> Vec<ListPage> {
    let mut left = entries;
    let mut pages = Vec::new();
    for (index, (m, buf)) in memory.iter().zip(buffers).enumerate() {
        let in_page = first_page_slots(ps, m.addr);
        let slots = m.provides;
        let mut used = Vec::new();
        for (slot, bytes) in (0..slots).zip(buf.chunks_exact(8)) {
            if left == 0 {
                break;
            }
            let value = u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]));
            let role = if slot + 1 == in_page && left > 1 {
                SlotRole::NextList
            } else {
                left -= 1;
                SlotRole::Data
            };
            used.push(ListSlot {
                slot,
                addr: Hex(m.addr.wrapping_add(slot * 8)),
                value: Hex(value),
                role,
            });
        }
        pages.push(ListPage {
            index,
            addr: Hex(m.addr),
            slots,
            page_slots: in_page,
            entries: used,
        });
    }
    pages
}

/// Simulated host memory holding `regions` (bus address, bytes).
pub fn host_memory<'a>(
    regions: impl IntoIterator<Item = (u64, &'a [u8])>,
) -> Result<SimMemory, Failure> {
    let mut mem = SimMemory::new();
    for (addr, bytes) in regions {
        mem.map(addr, bytes.len() as u64)
            .and_then(|()| mem.poke(addr, bytes))
            .map_err(|e| Failure::Internal(format!("simulated memory: {e}")))?;
    }
    Ok(mem)
}

/// The regions of written descriptor memory, for [`host_memory`].
pub fn regions(memory: &[(u64, Vec<u8>)]) -> impl Iterator<Item = (u64, &[u8])> {
    memory.iter().map(|(addr, bytes)| (*addr, bytes.as_slice()))
}

/// Walk PRP1/PRP2 with the list pages in simulated host memory, as a controller does.
fn walk_back(
    req: &PrpRequest,
    pair: &nvme_dma::prp::PrpPair,
    len: u64,
    memory: &[(u64, Vec<u8>)],
) -> Result<WalkCheck, Failure> {
    let mem = host_memory(regions(memory))?;
    let walked: Result<Vec<Extent>, _> =
        PrpWalker::new(pair.prp1, pair.prp2.raw(), len, req.page_size, &mem)
            .extents()
            .collect();
    Ok(check(
        "PrpWalker",
        walked.map_err(|e| (e.to_string(), e.rule())),
        merged(req.extents.iter().copied()),
    ))
}

/// Compare what a walker yielded with what it should have; a refusal comes with its rule.
pub fn check<T: Copy + PartialEq + Into<PieceJson>>(
    walker: &'static str,
    walked: Result<Vec<T>, (String, Rule)>,
    expected: Vec<T>,
) -> WalkCheck {
    match walked {
        Ok(segments) => {
            let pieces: Vec<PieceJson> = segments.iter().map(|&s| s.into()).collect();
            WalkCheck {
                walker,
                matches_input: segments == expected,
                bytes: pieces.iter().map(PieceJson::len).sum(),
                segments: pieces,
                error: None,
                error_rule: None,
            }
        }
        Err((error, rule)) => WalkCheck {
            walker,
            segments: Vec::new(),
            bytes: 0,
            matches_input: false,
            error: Some(error),
            error_rule: Some(rule.id()),
        },
    }
}

/// Refuse to lay out more descriptor memory than the tool draws.
pub fn check_descriptor_bytes(bytes: u64, arg: &str) -> Result<(), Failure> {
    if bytes > MAX_DESCRIPTOR_BYTES {
        return Err(Failure::Usage {
            arg: arg.into(),
            message: format!(
                "the layout needs {bytes} bytes of descriptor memory; this tool lays out at most \
                 {MAX_DESCRIPTOR_BYTES} (use a smaller transfer or a larger page size)"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A walker's refusal reaches the output with the library's rule id beside its message.
    #[test]
    fn a_walk_refusal_carries_its_rule() {
        let mem = SimMemory::new();
        let err = PrpWalker::new(0x1002, 0, 0x10, PageSize::SIZE_4K, &mem)
            .extents()
            .collect::<Result<Vec<Extent>, _>>()
            .unwrap_err();
        let walk = check(
            "PrpWalker",
            Err::<Vec<Extent>, _>((err.to_string(), err.rule())),
            vec![Extent::new(0x1002, 0x10)],
        );
        assert_eq!(walk.error.as_deref(), Some(err.to_string().as_str()));
        assert_eq!(walk.error_rule, Some("prp.start_dword_aligned"));
        let json = serde_json::to_value(&walk).unwrap();
        assert_eq!(json["error_rule"], "prp.start_dword_aligned");
    }
}
