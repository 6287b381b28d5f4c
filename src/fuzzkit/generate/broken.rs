//! Near-valid layouts: a valid one with exactly one named rule broken.

use alloc::vec::Vec;

use arbitrary::{Result, Unstructured};

use super::*;

/// The descriptors of `layout`'s segments, as (segment index, descriptor index, descriptor).
fn sgl_descriptors(layout: &Layout) -> Vec<(usize, usize, SglDescriptor)> {
    let mut out = Vec::new();
    for (s, (_, bytes)) in layout.descriptors.iter().enumerate() {
        for (d, chunk) in bytes.chunks_exact(16).enumerate() {
            if let Ok(raw) = <[u8; 16]>::try_from(chunk) {
                out.push((s, d, SglDescriptor::from_bytes(raw)));
            }
        }
    }
    out
}

fn replace_descriptor(layout: &mut Layout, s: usize, d: usize, new: SglDescriptor) {
    let at = d.saturating_mul(16);
    if let Some(bytes) = layout
        .descriptors
        .get_mut(s)
        .and_then(|(_, b)| b.get_mut(at..at.saturating_add(16)))
    {
        bytes.copy_from_slice(&new.to_bytes());
    }
}

fn set_pointer(layout: &mut Layout, at: Option<(usize, usize)>, d: SglDescriptor) {
    match at {
        None => layout.set_sgl1(d),
        Some((s, i)) => replace_descriptor(layout, s, i, d),
    }
}

/// Break exactly one rule of a valid layout, naming it. `Err` when this layout has no place
/// for the rule drawn (a one-page PRP has no list to break): the caller keeps the valid
/// layout.
pub(in crate::fuzzkit) fn break_one_rule(
    u: &mut Unstructured<'_>,
    target: &Target,
    mut layout: Layout,
) -> Result<Layout> {
    let page = target.page_size.bytes();
    let no_place = arbitrary::Error::IncorrectFormat;
    let rule = if layout.psdt == Psdt::Prp {
        let (prp1, prp2) = layout.prps();
        let shape = match layout.label {
            Label::Valid(shape) => shape,
            _ => return Err(no_place),
        };
        match u.int_in_range(0u8..=3)? {
            0 => {
                layout.dptr = Layout::prp(prp1 | u.int_in_range(1..=3)?, prp2);
                Rule::PrpStartDwordAligned
            }
            1 if shape == Shape::PrpTwoPages => {
                let offset = u
                    .int_in_range(1..=(page / 8).saturating_sub(1))?
                    .saturating_mul(8);
                layout.dptr = Layout::prp(prp1, prp2 | offset);
                Rule::PrpStartOnPageBoundary
            }
            2 if !layout.descriptors.is_empty() => {
                // A list entry with an offset (any entry: a chain pointer must be page
                // aligned too).
                let (_, bytes) = layout.descriptors.first_mut().ok_or(no_place)?;
                // Only the slots the list uses: entries are never 0 (the data space is not
                // at address 0), unused slots are.
                let used: Vec<usize> = bytes
                    .chunks_exact(8)
                    .enumerate()
                    .filter(|(_, slot)| slot.iter().any(|b| *b != 0))
                    .map(|(i, _)| i)
                    .collect();
                let pick = u.int_in_range(0..=used.len().saturating_sub(1))?;
                let e = *used.get(pick).ok_or(no_place)?;
                let at = e.saturating_mul(8);
                let slot = bytes.get_mut(at..at.saturating_add(8)).ok_or(no_place)?;
                let value = u64::from_le_bytes(<[u8; 8]>::try_from(&*slot).map_err(|_| no_place)?);
                slot.copy_from_slice(&(value | 0x200).to_le_bytes());
                Rule::PrpStartOnPageBoundary
            }
            3 if !layout.descriptors.is_empty() => {
                layout.dptr = Layout::prp(prp1, prp2 | 4);
                Rule::PrpListPageAlignment
            }
            _ => return Err(no_place),
        }
    } else {
        let descriptors = sgl_descriptors(&layout);
        let data: Vec<(usize, usize, SglDescriptor)> = descriptors
            .iter()
            .copied()
            .filter(|(_, _, d)| d.descriptor_type() == SglDescriptorType::DataBlock)
            .collect();
        let pick_data =
            |u: &mut Unstructured<'_>| -> Result<Option<(usize, usize, SglDescriptor)>> {
                if data.is_empty() {
                    return Ok(None);
                }
                let i = u.int_in_range(0..=data.len().saturating_sub(1))?;
                Ok(data.get(i).copied())
            };
        let lldts = target.sgls.contains(Sgls::LLDTS);
        match u.int_in_range(0u8..=7)? {
            // A granule short, or (without LLDTS) some too many, in the last Data Block.
            kind @ (0 | 1) => {
                let (s, i, mut d) = match data.last() {
                    Some(found) => *found,
                    None => (usize::MAX, 0, layout.sgl1()),
                };
                if d.descriptor_type() != SglDescriptorType::DataBlock || d.length() == 0 {
                    return Err(no_place);
                }
                // By the granularity the target asks for, so that only the length is wrong.
                let grain = u32::try_from(sgl_grain(target)).unwrap_or(4);
                if d.length() <= grain {
                    return Err(no_place);
                }
                let rule = if kind == 0 {
                    d.set_length(d.length().saturating_sub(grain));
                    Rule::SglCoversTransfer
                } else if !lldts {
                    let more = u.int_in_range(1..=128u32)?.saturating_mul(grain);
                    d.set_length(d.length().saturating_add(more));
                    Rule::SglLongerThanTransfer
                } else {
                    return Err(no_place);
                };
                if s == usize::MAX {
                    layout.set_sgl1(d);
                } else {
                    replace_descriptor(&mut layout, s, i, d);
                }
                rule
            }
            // A segment whose length is not a whole number of descriptors.
            2 if !layout.descriptors.is_empty() => {
                let s = u.int_in_range(0..=layout.descriptors.len().saturating_sub(1))?;
                let (at, mut d) = pointer_to(&layout, s).ok_or(no_place)?;
                d.set_length(d.length().saturating_add(u.int_in_range(1..=15)?));
                set_pointer(&mut layout, at, d);
                Rule::SglSegmentLength
            }
            // A segment, and the pointer to it, moved off a qword.
            3 if !layout.descriptors.is_empty() => {
                let s = u.int_in_range(0..=layout.descriptors.len().saturating_sub(1))?;
                let (at, mut d) = pointer_to(&layout, s).ok_or(no_place)?;
                let shift = u.int_in_range(1u64..=7)?;
                d.set_address(d.address().saturating_add(shift));
                set_pointer(&mut layout, at, d);
                if let Some((addr, _)) = layout.descriptors.get_mut(s) {
                    *addr = addr.saturating_add(shift);
                }
                Rule::SglSegmentAlignment
            }
            // A reserved type, a Keyed Data Block, or a Bit Bucket the target lacks.
            4 => {
                let (s, i, mut d) = pick_data(u)?.ok_or(no_place)?;
                let (kind, rule) = match u.int_in_range(0u8..=2)? {
                    0 => (
                        SglDescriptorType::Reserved(u.int_in_range(6..=0xe)?),
                        Rule::SglDescriptorType,
                    ),
                    1 => (SglDescriptorType::KeyedDataBlock, Rule::SglCapability),
                    _ if !target.sgls.contains(Sgls::BIT_BUCKET) => {
                        (SglDescriptorType::BitBucket, Rule::SglCapability)
                    }
                    _ => return Err(no_place),
                };
                d.set_descriptor_type(kind);
                replace_descriptor(&mut layout, s, i, d);
                rule
            }
            // The Offset subtype, which needs SGLS bit 20 (and is not for PCIe).
            5 => {
                let (s, i, mut d) = pick_data(u)?.ok_or(no_place)?;
                d.set_subtype(SglSubtype::Offset);
                replace_descriptor(&mut layout, s, i, d);
                Rule::SglCapability
            }
            // A segment reached through a Last Segment descriptor that ends with a pointer.
            6 if !layout.descriptors.is_empty() => {
                let last = layout.descriptors.len().saturating_sub(1);
                let (_, bytes) = layout.descriptors.get(last).ok_or(no_place)?;
                let d = (bytes.len() / 16).checked_sub(1).ok_or(no_place)?;
                let (addr, _) = *layout.descriptors.get(last).ok_or(no_place)?;
                let pointer =
                    SglDescriptor::new(addr, 16, SglDescriptorType::Segment, SglSubtype::Address);
                replace_descriptor(&mut layout, last, d, pointer);
                Rule::SglSegmentChain
            }
            // A data buffer with no memory behind it.
            7 => {
                let (s, i, mut d) = pick_data(u)?.ok_or(no_place)?;
                if d.length() == 0 {
                    return Err(no_place);
                }
                d.set_address(target.space.unmapped.addr);
                replace_descriptor(&mut layout, s, i, d);
                Rule::MemoryReachable
            }
            _ => return Err(no_place),
        }
    };
    layout.label = Label::NearValid(rule);
    Ok(layout)
}
