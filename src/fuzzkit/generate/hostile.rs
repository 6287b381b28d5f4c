//! Hostile layouts: loops, wraps, the register window and the CMB, bytes flipped.

use alloc::vec;
use alloc::vec::Vec;

use arbitrary::{Result, Unstructured};

use super::*;

/// A hostile data pointer of one of the [`Hostile`] kinds, for a transfer of `len` bytes.
pub(in crate::fuzzkit) fn hostile(
    u: &mut Unstructured<'_>,
    target: &Target,
    len: u64,
    direction: Direction,
    seed: u64,
) -> Result<Layout> {
    let sgl = target.sgls.is_supported();
    let page0 = descriptor_page(target, 0);
    let page1 = descriptor_page(target, 1);
    let seg = |addr: u64, n: u32, kind| {
        SglDescriptor::new(addr, n.saturating_mul(16), kind, SglSubtype::Address)
    };
    let data = |addr: u64, n: u64| {
        SglDescriptor::new(
            addr,
            u32::try_from(n).unwrap_or(u32::MAX),
            SglDescriptorType::DataBlock,
            SglSubtype::Address,
        )
    };
    let bytes = |ds: &[SglDescriptor]| ds.iter().flat_map(|d| d.to_bytes()).collect::<Vec<u8>>();
    let base = Layout {
        label: Label::Hostile(Hostile::BytesNearValid),
        psdt: Psdt::Sgl,
        dptr: [0; 16],
        image: MemoryImage::new(),
        intended: Vec::new(),
        descriptors: Vec::new(),
        mptr: 0,
        metadata: Vec::new(),
    };
    let kind = *u.choose(&Hostile::ALL)?;
    let mut layout = match kind {
        Hostile::SelfReferencingSegment if sgl => {
            let mut l = base;
            l.set_sgl1(seg(page0, 1, SglDescriptorType::Segment));
            l.descriptors = vec![(page0, bytes(&[seg(page0, 1, SglDescriptorType::Segment)]))];
            l
        }
        Hostile::MutuallyReferencingSegments if sgl => {
            let mut l = base;
            l.set_sgl1(seg(page0, 2, SglDescriptorType::Segment));
            let a = [
                data(slot(target, 0).addr, 0),
                seg(page1, 2, SglDescriptorType::Segment),
            ];
            let b = [
                data(slot(target, 1).addr, 0),
                seg(page0, 2, SglDescriptorType::Segment),
            ];
            l.descriptors = vec![(page0, bytes(&a)), (page1, bytes(&b))];
            l
        }
        Hostile::SegmentsWithoutData if sgl => {
            // A chain of segments that hold only an empty Data Block and a pointer on,
            // ending in data: valid, and refused by controllers that bound loops by "each
            // segment moves data".
            let mut l = base;
            let hops = u.int_in_range(1usize..=MAX_SEGMENTS)?;
            l.set_sgl1(seg(page0, 2, SglDescriptorType::Segment));
            for h in 0..hops {
                let here = descriptor_page(target, h);
                let next = descriptor_page(target, h.saturating_add(1));
                // Each segment on the way holds two descriptors; the last, one Data Block.
                let (kind, next_len) = if h.saturating_add(1) == hops {
                    (SglDescriptorType::LastSegment, 1)
                } else {
                    (SglDescriptorType::Segment, 2)
                };
                let d = [data(slot(target, h).addr, 0), seg(next, next_len, kind)];
                l.descriptors.push((here, bytes(&d)));
            }
            let last = descriptor_page(target, hops);
            let whole = Extent::new(slot(target, 0).addr, len);
            l.descriptors.push((last, bytes(&[data(whole.addr, len)])));
            l.intended = vec![Piece::Data(whole)];
            l
        }
        Hostile::LengthWrapsAddressSpace if sgl => {
            let mut l = base;
            // Ending past 2^64, not at it (a block that ends exactly at 2^64 is valid).
            let back = u.int_in_range(1..=len.saturating_sub(1).max(1))?;
            l.set_sgl1(data(u64::MAX.wrapping_sub(back).wrapping_add(1), len));
            l
        }
        Hostile::DescriptorsAcrossRegisterWindow => {
            let registers = target
                .space
                .registers
                .ok_or(arbitrary::Error::IncorrectFormat)?;
            let mut l = valid_prp(u, target, len, seed)?;
            // An SGL segment that starts just below the window and runs into it, or a PRP
            // list in it (a list is read only to its page's end, and the window starts a
            // page, so one below it would never reach it).
            if sgl && u.arbitrary()? {
                l = base;
                let at = registers.addr.saturating_sub(8);
                l.set_sgl1(seg(at, 2, SglDescriptorType::LastSegment));
            } else if l.descriptors.is_empty() {
                return Err(arbitrary::Error::IncorrectFormat);
            } else {
                let (prp1, _) = l.prps();
                l.dptr = Layout::prp(prp1, registers.addr);
                l.descriptors.clear();
            }
            l
        }
        Hostile::CmbMixedWithHostMemory => {
            // Data in the CMB, its list or segments in host memory.
            let mixed = data_in_cmb(target).ok_or(arbitrary::Error::IncorrectFormat)?;
            let l = if sgl && u.arbitrary()? {
                valid_sgl(u, &mixed, len, direction, seed)?
            } else {
                valid_prp(u, &mixed, len, seed)?
            };
            if l.descriptors.is_empty() {
                return Err(arbitrary::Error::IncorrectFormat);
            }
            l
        }
        Hostile::DescriptorsAcrossCmbEdge => {
            let cmb = target.space.cmb.ok_or(arbitrary::Error::IncorrectFormat)?;
            let mut l = valid_prp(u, target, len, seed)?;
            if l.descriptors.is_empty() {
                return Err(arbitrary::Error::IncorrectFormat);
            }
            // The list starts in host memory just below the buffer and runs into it.
            let (prp1, _) = l.prps();
            l.dptr = Layout::prp(prp1, cmb.addr.saturating_sub(8));
            l.descriptors.clear();
            l
        }
        Hostile::DataInRegisterWindow => {
            let registers = target
                .space
                .registers
                .ok_or(arbitrary::Error::IncorrectFormat)?;
            let mut l = base;
            l.psdt = Psdt::Prp;
            l.dptr = Layout::prp(registers.addr, 0);
            if len > target.page_size.bytes() {
                return Err(arbitrary::Error::IncorrectFormat);
            }
            l
        }
        Hostile::BytesNearValid
        | Hostile::SelfReferencingSegment
        | Hostile::MutuallyReferencingSegments
        | Hostile::SegmentsWithoutData
        | Hostile::LengthWrapsAddressSpace => {
            let mut l = if sgl && u.arbitrary()? {
                valid_sgl(u, target, len, direction, seed)?
            } else {
                valid_prp(u, target, len, seed)?
            };
            // Flip a few bytes of the data pointer or the descriptors.
            for _ in 0..u.int_in_range(1u8..=4)? {
                let flip = u.arbitrary::<u8>()? | 1;
                let which = u.int_in_range(0..=l.descriptors.len())?;
                match l.descriptors.get_mut(which) {
                    Some((_, bytes)) if !bytes.is_empty() => {
                        let at = u.int_in_range(0..=bytes.len().saturating_sub(1))?;
                        if let Some(b) = bytes.get_mut(at) {
                            *b ^= flip;
                        }
                    }
                    _ => {
                        let at = u.int_in_range(0..=15usize)?;
                        if let Some(b) = l.dptr.get_mut(at) {
                            *b ^= flip;
                        }
                    }
                }
            }
            l.label = Label::Hostile(Hostile::BytesNearValid);
            return Ok(l);
        }
    };
    layout.label = Label::Hostile(kind);
    let mut image = MemoryImage::new();
    fill_buffers(&mut image, &layout.intended, seed);
    layout.image = image;
    Ok(layout)
}
