//! Why a layout was refused, and what would fix it.
//!
//! The library says everything about the rule: its error's `Display` text is the message (the
//! extent, the address, why), and the error's [`Rule`] gives the stable name for scripts, the
//! section of the specification and the explanation. This module adds only what depends on
//! the input: which extent or list page to mark, and fixes worked out for these very extents:
//! where a split would go, whether the other kind of data pointer carries them as they are,
//! which address would be aligned.

use nvme_dma::prp::{self, PrpBuilder};
use nvme_dma::rule::Rule;
use nvme_dma::sgl::{self, Capability, SglBuilder, SglCaps};
use nvme_dma::spec::{SglSupport, Sgls};
use nvme_dma::Direction;
use nvme_dma::{Extent, PageSize, Piece};
use serde::Serialize;

use crate::json::ExtentJson;

/// A refused layout, explained. The rule's fields are the library's [`Rule`], as it gives them.
#[derive(Clone, Debug, Serialize)]
pub struct Refusal {
    /// The rule's stable name, e.g. `prp.end_on_page_boundary` ([`Rule::id`]).
    pub rule: &'static str,
    /// The rule in one sentence ([`Rule::summary`]).
    pub summary: &'static str,
    /// The library's explanation: the extent, the address, why, and its own fix.
    pub message: String,
    /// The extent (PRP) or piece (SGL) that broke the rule, counted from 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extent: Option<usize>,
    /// The list page (PRP) or segment buffer (SGL) that broke the rule, counted from 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<usize>,
    /// Where the specification states the rule ([`Rule::section`]).
    pub spec: &'static str,
    /// What the rule says and why ([`Rule::text`]).
    pub text: &'static str,
    /// Fixes worked out for this input, most direct first.
    pub fixes: Vec<Fix>,
}

impl Refusal {
    /// A refusal of `rule`, with the library's message and what this input adds.
    fn new(
        rule: Rule,
        message: String,
        extent: Option<usize>,
        memory: Option<usize>,
        fixes: Vec<Fix>,
    ) -> Self {
        Refusal {
            rule: rule.id(),
            summary: rule.summary(),
            message,
            extent,
            memory,
            spec: rule.section(),
            text: rule.text(),
            fixes,
        }
    }
}

/// One way to make the layout valid.
#[derive(Clone, Debug, Serialize)]
pub struct Fix {
    /// What kind of change.
    pub kind: FixKind,
    /// The change, in words, with the numbers filled in.
    pub text: String,
    /// For a split: the commands, in transfer order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<SplitCommand>,
}

/// The kinds of fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FixKind {
    /// Move an address to a boundary.
    Align,
    /// Make an extent longer, to end on a boundary.
    Extend,
    /// Make the transfer or a piece shorter.
    Trim,
    /// Split the transfer into several commands.
    Split,
    /// Use an SGL instead of PRPs.
    UseSgl,
    /// Use PRPs instead of an SGL.
    UsePrp,
    /// Give more or bigger descriptor memory.
    Resize,
    /// Remove a piece.
    Remove,
    /// Change the controller's capabilities (another controller, or other options).
    Capability,
    /// Put descriptor memory somewhere else.
    Move,
}

impl FixKind {
    /// The kind in a few words, for text output.
    pub fn label(self) -> &'static str {
        match self {
            FixKind::Align => "align",
            FixKind::Extend => "extend",
            FixKind::Trim => "trim",
            FixKind::Split => "split",
            FixKind::UseSgl => "use an SGL",
            FixKind::UsePrp => "use PRPs",
            FixKind::Resize => "resize",
            FixKind::Remove => "remove",
            FixKind::Capability => "capability",
            FixKind::Move => "move",
        }
    }
}

/// One command of a split.
#[derive(Clone, Debug, Serialize)]
pub struct SplitCommand {
    /// Byte position of the command's data in the whole transfer.
    pub offset: u64,
    /// Bytes the command moves.
    pub len: u64,
    /// Its extents, trimmed from the input.
    pub extents: Vec<ExtentJson>,
}

fn fix(kind: FixKind, text: String) -> Fix {
    Fix {
        kind,
        text,
        commands: Vec::new(),
    }
}

/// What the PRP explanation needs to know about the request.
pub struct PrpContext<'a> {
    /// The extents, as given.
    pub extents: &'a [Extent],
    /// The builder that refused them.
    pub builder: PrpBuilder,
    /// Logical block size for split suggestions.
    pub block_size: u64,
}

/// Explain a refused PRP layout.
pub fn prp(err: &prp::BuildError, cx: &PrpContext<'_>) -> Refusal {
    use prp::BuildError as E;
    let ps = cx.builder.page_size();
    let mut fixes = Vec::new();
    // For a rule whose library message offers a split: the fix that applies instead, and why
    // no split does, when none of whole blocks exists.
    let mut no_split: Option<(String, String)> = None;
    let (extent, memory) = match *err {
        E::EmptyTransfer => {
            fixes.push(fix(
                FixKind::Extend,
                "give at least one extent with a non-zero length".into(),
            ));
            (None, None)
        }
        E::StartNotDwordAligned { index, extent } => {
            fixes.push(fix(
                FixKind::Align,
                format!(
                    "start extent {index} on a 4-byte boundary, e.g. at {:#x} (or copy it through \
                     an aligned bounce buffer)",
                    extent.addr & !3
                ),
            ));
            fixes.extend(sgl_instead(cx.extents));
            (Some(index), None)
        }
        E::StartInsidePage { index, extent, .. } => {
            match split(cx) {
                Ok(fix) => fixes.push(fix),
                Err(why_not) => {
                    no_split = Some((
                        format!(
                            "start it at {:#x}, or use an SGL",
                            ps.page_base(extent.addr)
                        ),
                        why_not,
                    ));
                }
            }
            fixes.extend(sgl_instead(cx.extents));
            fixes.push(fix(
                FixKind::Align,
                format!(
                    "start extent {index} on a page boundary, at {:#x} instead of {:#x}",
                    ps.page_base(extent.addr),
                    extent.addr
                ),
            ));
            (Some(index), None)
        }
        E::EndInsidePage { index, extent, .. } => {
            let end = extent.addr.saturating_add(extent.len);
            let boundary = ps.page_base(end).saturating_add(ps.bytes());
            match split(cx) {
                Ok(fix) => fixes.push(fix),
                Err(why_not) => {
                    no_split = Some((
                        format!("extend it to {boundary:#x}, or use an SGL"),
                        why_not,
                    ));
                }
            }
            fixes.extend(sgl_instead(cx.extents));
            fixes.push(fix(
                FixKind::Extend,
                format!(
                    "make extent {index} end on a page boundary: length {:#x} (ending at {boundary:#x}) \
                     instead of {:#x}, and pad the transfer to match",
                    boundary.saturating_sub(extent.addr),
                    extent.len
                ),
            ));
            (Some(index), None)
        }
        E::AddressOverflow { index, .. } | E::BoundaryInsideBlock { index, .. } => {
            (Some(index), None)
        }
        E::TransferTooLong { max, .. } => {
            match split(cx) {
                Ok(fix) => fixes.push(fix),
                Err(why_not) => {
                    no_split = Some((format!("move at most {max} bytes in one command"), why_not));
                }
            }
            fixes.push(fix(
                FixKind::Trim,
                format!("move at most {max} bytes in one command"),
            ));
            (None, None)
        }
        E::ListMemoryTooSmall { needed, given } => {
            fixes.push(fix(
                FixKind::Resize,
                format!(
                    "give memory for {needed} list pages instead of {given}: more --list \
                     addresses, or an ADDR+BYTES range over more memory pages (or no --list, and \
                     let the tool place the list pages)"
                ),
            ));
            (None, None)
        }
        E::ListPageTooSmall {
            page,
            slots,
            required,
        } => {
            fixes.push(fix(
                FixKind::Resize,
                format!(
                    "give list page {page} {:#x} bytes ({required} slots) instead of {:#x} ({slots} \
                     slots): drop its +BYTES, and it runs to the end of its memory page",
                    required.saturating_mul(8),
                    slots.saturating_mul(8)
                ),
            ));
            (None, Some(page))
        }
        E::ListPageMisaligned { page, addr, .. } => {
            let (aligned, what) = if page == 0 {
                (align_up(addr, 8), "8-byte (qword) boundary")
            } else {
                (align_up(addr, ps.bytes()), "memory page boundary")
            };
            fixes.push(fix(
                FixKind::Align,
                match aligned {
                    Some(a) => {
                        format!(
                            "put list page {page} on a {what}, e.g. at {a:#x} instead of {addr:#x}"
                        )
                    }
                    None => format!("put list page {page} on a {what}"),
                },
            ));
            (None, Some(page))
        }
        _ => (None, None),
    };
    let message = match no_split {
        // The library offers a split for this rule, not knowing the block size; with this one
        // no split exists, so its fix gives way to the ones that apply, and why.
        Some((instead, why_not)) => {
            let message = err.to_string();
            let why = message
                .split_once(". Fix: ")
                .map_or(message.as_str(), |(why, _)| why);
            format!("{why}. Fix: {instead}; no split helps: {why_not}")
        }
        None => err.to_string(),
    };
    Refusal::new(err.rule(), message, extent, memory, fixes)
}

/// Why no split of whole blocks carries the extents, from the split's refusal.
fn no_split_reason(err: &prp::BuildError) -> String {
    use prp::BuildError as E;
    match *err {
        E::BoundaryInsideBlock {
            index,
            extent,
            at,
            block_size,
        } => format!(
            "a command must end after extent {index} ({extent}), at byte {at:#x} of the \
             transfer, which is not a multiple of the {block_size}-byte block size (--block-size)"
        ),
        E::NotBlockMultiple { len, block_size } => format!(
            "the extents describe {len:#x} bytes, not a whole number of {block_size}-byte blocks \
             (--block-size)"
        ),
        E::StartNotDwordAligned { index, extent } => format!(
            "extent {index} ({extent}) would start a command at {:#x}, which is not dword aligned",
            extent.addr
        ),
        E::InvalidBlockSize { block_size, max } => match max {
            Some(max) => format!(
                "a block size of {block_size} bytes cannot split a transfer: --block-size must \
                 be a non-zero multiple of 4, at most the maximum transfer ({max} bytes)"
            ),
            None => format!(
                "a block size of {block_size} bytes cannot split a transfer: --block-size must \
                 be a non-zero multiple of 4"
            ),
        },
        ref other => other.to_string(),
    }
}

/// Most commands a split fix lists one by one.
const MAX_SPLIT_LISTED: u64 = 256;

/// The fewest PRP commands that carry the extents, or why there are none.
fn split(cx: &PrpContext<'_>) -> Result<Fix, String> {
    // Splitting walks every command; past a few hundred, say how many and stop there.
    if let Some(max) = cx.builder.max_transfer() {
        let total = cx
            .extents
            .iter()
            .fold(0u64, |sum, e| sum.saturating_add(e.len));
        let at_least = total / max.max(1);
        if at_least > MAX_SPLIT_LISTED {
            // What the split would check, without walking every command: a usable block size
            // and whole blocks. Extents that break no page rule (only MDTS) can then be cut at
            // any block boundary, each cut dword aligned, so the split exists.
            let bs = cx.block_size;
            if bs == 0 || bs % 4 != 0 || bs > max {
                return Err(no_split_reason(&prp::BuildError::InvalidBlockSize {
                    block_size: bs,
                    max: Some(max),
                }));
            }
            if total % bs != 0 {
                return Err(no_split_reason(&prp::BuildError::NotBlockMultiple {
                    len: total,
                    block_size: bs,
                }));
            }
            if let Err(e) = PrpBuilder::new(cx.builder.page_size()).plan(cx.extents) {
                return Err(format!("the extents break a page rule too: {e}"));
            }
            return Ok(fix(
                FixKind::Split,
                format!(
                    "split the request into at least {at_least} commands of at most {max} bytes \
                     (PrpBuilder::split)"
                ),
            ));
        }
    }
    let split = cx
        .builder
        .split(cx.extents, cx.block_size)
        .map_err(|e| no_split_reason(&e))?;
    let count = split.commands();
    let commands: Vec<SplitCommand> = split
        .map(|chunk| SplitCommand {
            offset: chunk.offset,
            len: chunk.len,
            extents: chunk.extents(cx.extents).map(ExtentJson::from).collect(),
        })
        .collect();
    let cuts: Vec<String> = commands
        .iter()
        .skip(1)
        .map(|c| format!("{:#x}", c.offset))
        .collect();
    Ok(Fix {
        kind: FixKind::Split,
        text: format!(
            "{count} PRP commands of whole {}-byte blocks carry these extents, cutting the \
             transfer at byte {} (PrpBuilder::split)",
            cx.block_size,
            cuts.join(", ")
        ),
        commands,
    })
}

/// An SGL, when one carries the extents as they are; says which SGL support it needs.
fn sgl_instead(extents: &[Extent]) -> Option<Fix> {
    let with = |support| {
        SglBuilder::new(SglCaps::new(Sgls::from_support(support)), Direction::Read)
            .plan(extents)
            .ok()
    };
    let (plan, needs) = match with(SglSupport::DwordAligned) {
        Some(plan) => (plan, "any controller with SGL support will do"),
        None => (
            with(SglSupport::ByteAligned)?,
            "needs byte-aligned SGL support, SGLS bits 1:0 = 01b",
        ),
    };
    Some(fix(
        FixKind::UseSgl,
        format!(
            "{} Data Block descriptor(s) carry these extents as they are, in one command; {needs}",
            plan.descriptors()
        ),
    ))
}

/// What the SGL explanation needs to know about the request.
pub struct SglContext<'a> {
    /// The pieces, as given.
    pub pieces: &'a [Piece],
    /// The builder that refused them.
    pub builder: SglBuilder,
    /// The memory page size, for the PRP alternative.
    pub page_size: PageSize,
    /// The capacity of each segment buffer offered, in descriptors.
    pub segment_capacity: u64,
}

/// Explain a refused SGL layout.
pub fn sgl(err: &sgl::BuildError, cx: &SglContext<'_>) -> Refusal {
    use sgl::BuildError as E;
    let mut fixes = Vec::new();
    let (extent, memory) = match *err {
        E::EmptyTransfer => {
            fixes.push(fix(
                FixKind::Extend,
                "give at least one piece with a non-zero length".into(),
            ));
            (None, None)
        }
        E::NotSupported { capability } => {
            fixes.extend(prp_instead(cx));
            fixes.push(fix(
                FixKind::Capability,
                format!("use a controller that reports {capability} (--sgls)"),
            ));
            (None, None)
        }
        E::PieceNotSupported {
            index, capability, ..
        } => {
            if capability == Capability::BitBucket {
                fixes.push(fix(
                    FixKind::Remove,
                    format!(
                        "replace the skip of piece {index} with a Data Block into a scratch buffer \
                         the host then ignores"
                    ),
                ));
            }
            fixes.push(fix(
                FixKind::Capability,
                format!("use a controller that reports {capability}"),
            ));
            (Some(index), None)
        }
        E::SkipInWrite { index, .. } => {
            fixes.push(fix(
                FixKind::Remove,
                format!("remove piece {index}: a write sends exactly the bytes of its data pieces"),
            ));
            (Some(index), None)
        }
        E::AddressOverflow { index, .. } => (Some(index), None),
        E::Granularity { index, run } => {
            let start = run.addr & !3;
            let end = run.addr.saturating_add(run.len);
            let padded = align_up(end, 4).unwrap_or(end).saturating_sub(start);
            fixes.push(fix(
                FixKind::Align,
                format!(
                    "make the run at piece {index} dword aligned and granular: start at {start:#x} \
                     with length {padded:#x} (bounce through an aligned buffer if the bytes around \
                     it are not yours)"
                ),
            ));
            fixes.extend(prp_instead(cx));
            fixes.push(fix(
                FixKind::Capability,
                "use a controller with byte-aligned SGL support (SGLS bits 1:0 = 01b)".into(),
            ));
            (Some(index), None)
        }
        E::OutsideCapsule { index, .. } => (Some(index), None),
        E::TransferTooLong { max, .. } => {
            fixes.push(fix(
                FixKind::Split,
                format!("split the request into commands of at most {max} bytes"),
            ));
            (None, None)
        }
        E::ShorterThanTransfer {
            described,
            transfer,
        } => {
            fixes.push(fix(
                FixKind::Extend,
                format!(
                    "add {} bytes of buffer, or make the transfer {described} bytes (--transfer-len)",
                    transfer.saturating_sub(described)
                ),
            ));
            (None, None)
        }
        E::LongerThanTransfer {
            described,
            transfer,
        } => {
            fixes.push(fix(
                FixKind::Trim,
                format!(
                    "trim the pieces by {} bytes",
                    described.saturating_sub(transfer)
                ),
            ));
            fixes.push(fix(
                FixKind::Capability,
                "use a controller that reports LLDTS (SGLS bit 18, --lldts)".into(),
            ));
            (None, None)
        }
        E::TooManyDataBlocks { msdbd, .. } => {
            fixes.push(fix(
                FixKind::Split,
                format!(
                    "split the request into commands of at most {msdbd} data blocks each, or copy \
                     scattered pieces into fewer buffers"
                ),
            ));
            fixes.extend(prp_instead(cx));
            (None, None)
        }
        E::SegmentMemoryTooSmall { .. } => {
            fixes.extend(segments_needed(cx));
            (None, None)
        }
        E::SegmentTooSmall { segment, .. } => {
            fixes.push(fix(
                FixKind::Resize,
                format!(
                    "give segment buffer {segment} at least 32 bytes (one data descriptor and the \
                     pointer onward)"
                ),
            ));
            (None, Some(segment))
        }
        E::SegmentMisaligned { segment, addr } => {
            fixes.push(fix(
                FixKind::Align,
                match align_up(addr, 16) {
                    Some(a) => format!(
                        "put segment buffer {segment} on a 16-byte boundary, e.g. at {a:#x} \
                         instead of {addr:#x}"
                    ),
                    None => format!("put segment buffer {segment} on a 16-byte boundary"),
                },
            ));
            (None, Some(segment))
        }
        E::SegmentOverflow { segment, .. } => (None, Some(segment)),
        E::MetadataMisaligned { .. } => (None, None),
        _ => (None, None),
    };
    Refusal::new(err.rule(), err.to_string(), extent, memory, fixes)
}

/// PRPs, when the pieces are plain extents that one PRP command carries.
fn prp_instead(cx: &SglContext<'_>) -> Option<Fix> {
    let extents: Vec<Extent> = cx
        .pieces
        .iter()
        .map(|p| match *p {
            Piece::Data(e) => Some(e),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let plan = PrpBuilder::new(cx.page_size).plan(&extents).ok()?;
    Some(fix(
        FixKind::UsePrp,
        format!(
            "the extents touch {} memory page(s) of {}, and one PRP command carries them ({} list \
             entries)",
            plan.pages(),
            cx.page_size,
            plan.list_entries()
        ),
    ))
}

/// How many segment buffers of the offered size the pieces need.
fn segments_needed(cx: &SglContext<'_>) -> Option<Fix> {
    let plan = cx.builder.plan(cx.pieces).ok()?;
    let needed = plan.segments_needed(cx.segment_capacity);
    Some(fix(
        FixKind::Resize,
        format!(
            "pass {needed} --segment buffers of {} descriptors each (or none, and let the tool \
             place them)",
            cx.segment_capacity
        ),
    ))
}

/// The id of the tool's own rule that descriptor memory and data do not share bytes. It is
/// not the library's (the library cannot know where the caller's buffers are), so it has a
/// family of its own.
pub const OVERLAP_RULE: &str = "tool.descriptor_outside_data";

/// Descriptor memory (a PRP list page or an SGL segment) that shares bytes with the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overlap {
    /// `"PRP list page"` or `"SGL segment"`.
    pub what: &'static str,
    /// The option that places that memory: `--list` or `--segment`.
    pub arg: &'static str,
    /// Which list page or segment, in chain order.
    pub memory: usize,
    /// The bytes of it the layout uses (what the controller reads).
    pub region: Extent,
    /// `"extent"` or `"piece"`.
    pub noun: &'static str,
    /// Which extent or piece.
    pub index: usize,
    /// Its bytes.
    pub data: Extent,
}

impl Overlap {
    /// The shared bytes, from the first to one past the last (128 bits: the end may be 2^64).
    fn shared(&self) -> (u128, u128) {
        let end = |e: Extent| u128::from(e.addr) + u128::from(e.len);
        (
            u128::from(self.region.addr.max(self.data.addr)),
            end(self.region).min(end(self.data)),
        )
    }

    /// Both extents, the shared bytes, and what goes wrong, in one sentence.
    pub fn message(&self) -> String {
        let (from, to) = self.shared();
        format!(
            "{} {} at {} overlaps {} {} ({}) at bytes {from:#x}..{to:#x}: a read would \
             overwrite the {} while the controller walks it, and a write would send its bytes \
             as data",
            self.what, self.memory, self.region, self.noun, self.index, self.data, self.what
        )
    }

    /// The refusal: the message with its fix, the extent and the memory marked.
    pub fn refusal(&self) -> Refusal {
        let message = format!(
            "{}. Fix: put the {} outside every data buffer (another {} address, or no {} and \
             the tool places it above the data), or pass --allow-overlap to lay it out anyway",
            self.message(),
            self.what,
            self.arg,
            self.arg
        );
        Refusal {
            rule: OVERLAP_RULE,
            summary: "descriptor memory (PRP list pages, SGL segments) shares no byte with the \
                      data buffers",
            message,
            extent: Some(self.index),
            memory: Some(self.memory),
            spec: "a check of this tool, not a rule of the NVMe specification: the host's \
                   memory plan",
            text: "A controller fetches PRP list pages and SGL segments from host memory while \
                   it moves the data, and may fetch them late, one list page or segment at a \
                   time. Memory that is both a list (or segment) and a data buffer breaks the \
                   transfer: a read, the controller writing host memory, can overwrite entries \
                   it has not fetched yet, and a write sends the descriptors as data. Keep \
                   descriptor memory apart from every data buffer.",
            fixes: vec![fix(
                FixKind::Move,
                format!(
                    "put {} {} outside {} {} ({}): give another {} address, or drop {} and let \
                     the tool place it above the data",
                    self.what, self.memory, self.noun, self.index, self.data, self.arg, self.arg
                ),
            )],
        }
    }
}

/// The first descriptor memory region that shares bytes with a data extent: regions are
/// `(list page or segment, bytes used)`, data `(extent or piece, extent)`, both in order.
pub fn first_overlap(
    regions: &[(usize, Extent)],
    data: &[(usize, Extent)],
) -> Option<((usize, Extent), (usize, Extent))> {
    let end = |e: Extent| u128::from(e.addr) + u128::from(e.len);
    regions.iter().find_map(|&(m, r)| {
        data.iter()
            .find(|&&(_, d)| {
                r.len > 0 && d.len > 0 && u128::from(r.addr) < end(d) && u128::from(d.addr) < end(r)
            })
            .map(|&(i, d)| ((m, r), (i, d)))
    })
}

/// `addr` rounded up to a multiple of `align` (a power of two), if that fits 64 bits.
pub fn align_up(addr: u64, align: u64) -> Option<u64> {
    let mask = align.checked_sub(1)?;
    addr.checked_add(mask).map(|a| a & !mask)
}

#[cfg(test)]
mod tests {
    use nvme_dma::rule::Rule;

    /// Every rule a refusal can name (the library's PRP and SGL rules) is listed in the JSON
    /// schema's documentation, and the documentation lists no other.
    #[test]
    fn every_rule_name_is_documented() {
        let doc = include_str!("../../docs/cli-json.md");
        let printable: Vec<&str> = Rule::all()
            .iter()
            .map(|r| r.id())
            .filter(|id| id.starts_with("prp.") || id.starts_with("sgl."))
            .collect();
        for id in &printable {
            assert!(
                doc.contains(&format!("`{id}`")),
                "{id} is not in docs/cli-json.md"
            );
        }
        for quoted in doc.split('`').skip(1).step_by(2) {
            let is_rule = ["prp.", "sgl."].iter().any(|p| quoted.starts_with(p))
                && quoted[4..]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_');
            if is_rule {
                assert!(
                    printable.contains(&quoted),
                    "docs/cli-json.md names {quoted}, which the library does not have"
                );
            }
        }
        assert!(printable.len() > 20, "found {} rule names", printable.len());
    }
}
