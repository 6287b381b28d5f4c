//! A command's data path: decode and walk its whole data (and metadata) pointer, check every
//! buffer, and only then move bytes.
//!
//! [`Gathered`] is the proof that the walk finished: every descriptor was fetched and
//! validated, every data buffer probed, and the controller memory buffer rule held. Nothing
//! moves before a command holds one, so a command that fails changes neither host memory nor
//! the namespace.

use alloc::vec::Vec;

use super::config::ControllerConfig;
use super::dma::{DmaPort, Touched};
use super::lenient::{Mapper, Stop};
use super::namespace::{Namespace, Stream};
use super::profile::{Deviation, Profile};
use super::trace::DmaPurpose;
use crate::dptr::{self, DataPointer, MetadataPointer};
use crate::extent::{Extent, PageSize};
use crate::memory::{DataMover, DmaMemory};
use crate::sgl::{Capability, SglCaps};
use crate::spec::{mdts_bytes, MaxTransfer, Opcode, Psdt, Status, SubmissionEntry};
use crate::QueueKind;
use crate::{Direction, Piece};

/// What the device needs to know to walk a pointer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PointerRules {
    pub page_size: PageSize,
    pub sgl: SglCaps,
    /// MDTS in bytes: the longest transfer a command may ask for.
    pub max_transfer: MaxTransfer,
    /// Where the controller answers otherwise than the specification.
    pub profile: Profile,
    /// The register window, which data must not start in.
    pub registers: Extent,
}

impl PointerRules {
    pub fn new(config: &ControllerConfig, page_size: PageSize) -> Self {
        let max_transfer = if config.profile.has(Deviation::MdtsInCcPageUnits) {
            mdts_bytes(config.mdts, page_size.bytes())
        } else {
            config.max_transfer()
        };
        PointerRules {
            page_size,
            sgl: SglCaps::new(config.sgls).with_limits(config.walk_limits),
            max_transfer,
            profile: config.profile,
            registers: Extent::new(config.bar0, config.bar0_size()),
        }
    }

    /// The mapper that applies the profile's PRP and SGL leniencies.
    fn mapper(&self) -> Mapper {
        Mapper {
            profile: self.profile,
            page_size: self.page_size,
            sgls: self.sgl.sgls(),
            limits: self.sgl.limits(),
            registers: self.registers,
        }
    }
}

/// The statuses this module returns; all with DNR, as retrying cannot help.
pub(crate) fn fail(status: Status) -> Status {
    status.with_dnr(true)
}

/// A command's buffers, walked and checked: data pieces, then metadata pieces.
#[derive(Debug, Default)]
pub(crate) struct Gathered {
    pub data: Vec<Piece>,
    pub metadata: Vec<Piece>,
    /// The profile's SGL mapper found a chain that never ends
    /// ([`Deviation::SglEmptySegmentLoops`]): the controller it models hangs here.
    pub hung: bool,
}

impl Gathered {
    fn clear(&mut self) {
        self.data.clear();
        self.metadata.clear();
        self.hung = false;
    }
}

/// `sqe` with its PSDT as the profile reads it: 10b without SGLS bit 19 taken for 01b under
/// [`Deviation::Psdt10bAs01b`], anything else as it is.
fn with_psdt_as_read(sqe: &SubmissionEntry, rules: &PointerRules) -> SubmissionEntry {
    let mut sqe = *sqe;
    if sqe.psdt() == Psdt::SglMetadataSgl
        && rules.profile.has(Deviation::Psdt10bAs01b)
        && !rules.sgl.has(Capability::MetadataSgl)
    {
        sqe.set_psdt(Psdt::Sgl);
    }
    sqe
}

/// Check `sqe`'s PSDT before the command runs, whether or not it moves data: PSDT is a
/// field of CDW0, common to every command (Base 2.2, 4.1.1, Figure 91), so a Flush or a
/// Get Features is held to it as much as a Read.
///
/// * 11b is reserved, and Invalid Field in Command is "a reserved coded value or an
///   unsupported value in a defined field" (Generic Command Status Values).
/// * On the admin queue, 01b and 10b: "PRPs shall be used for all Admin commands for NVMe
///   over PCIe implementations" (Figure 91, PSDT) and "SGLs shall not be used for Admin
///   commands in NVMe over PCIe implementations" (4.1.1).
/// * An SGL the controller does not advertise (SGLS) is an unsupported value.
pub(crate) fn check_psdt(
    sqe: &SubmissionEntry,
    queue: QueueKind,
    rules: &PointerRules,
) -> Result<(), Status> {
    dptr::decode(&with_psdt_as_read(sqe, rules), queue, &rules.sgl)
        .map(|_| ())
        .map_err(|e| e.status())
}

/// Walk `sqe`'s data pointer for `data_len` bytes and its metadata pointer for `meta_len`
/// bytes into `out`, and check everything before a byte moves.
pub(crate) fn gather<M: DmaMemory + ?Sized>(
    port: &DmaPort<'_, M>,
    sqe: &SubmissionEntry,
    queue: QueueKind,
    direction: Direction,
    (data_len, meta_len): (u64, u64),
    rules: &PointerRules,
    out: &mut Gathered,
) -> Result<(), Status> {
    out.clear();
    let profile = rules.profile;
    let sqe = with_psdt_as_read(sqe, rules);
    let pointers = dptr::decode(&sqe, queue, &rules.sgl).map_err(|e| e.status())?;
    port.reset_touched();
    let lenient = match pointers.data {
        DataPointer::Prp { .. } => profile.maps_prps_leniently(),
        DataPointer::Sgl(_) => profile.maps_sgls_leniently(),
    };
    if data_len > 0 && lenient {
        let write = queue == QueueKind::Io && sqe.opcode() == Opcode::NVM_WRITE;
        let mapped = match pointers.data {
            DataPointer::Prp { prp1, prp2 } => {
                let fetch = port.fetcher(DmaPurpose::PrpListFetch);
                rules
                    .mapper()
                    .map_prp(&fetch, (prp1, prp2), data_len, &mut out.data)
            }
            DataPointer::Sgl(sgl1) => {
                let fetch = port.fetcher(DmaPurpose::SglSegmentFetch);
                rules
                    .mapper()
                    .map_sgl(&fetch, sgl1, data_len, write, &mut out.data)
            }
        };
        match mapped {
            Ok(()) => {}
            // QEMU's Read and Write paths set DNR on every mapping failure; its admin
            // commands, Compare and Dataset Management return the mapper's status as it is.
            Err(Stop::Status(status))
                if matches!(sqe.opcode(), Opcode::NVM_READ | Opcode::NVM_WRITE)
                    && queue == QueueKind::Io =>
            {
                return Err(fail(status))
            }
            Err(Stop::Status(status)) => return Err(status),
            Err(Stop::Hang) => {
                out.hung = true;
                return Err(fail(Status::INTERNAL_ERROR));
            }
        }
    } else if data_len > 0 {
        let purpose = match pointers.data {
            DataPointer::Prp { .. } => DmaPurpose::PrpListFetch,
            DataPointer::Sgl(_) => DmaPurpose::SglSegmentFetch,
        };
        let fetch = port.fetcher(purpose);
        let walk = pointers.walk_data(direction, data_len, rules.page_size, &rules.sgl, &fetch);
        for piece in walk {
            out.data.push(piece.map_err(|e| e.status())?);
        }
    }
    if meta_len > 0 {
        let purpose = match pointers.metadata {
            MetadataPointer::Contiguous { .. } => DmaPurpose::MetadataRead,
            MetadataPointer::Sgl(_) => DmaPurpose::SglSegmentFetch,
        };
        let fetch = port.fetcher(purpose);
        for piece in pointers.walk_metadata(direction, meta_len, &rules.sgl, &fetch) {
            out.metadata.push(piece.map_err(|e| e.status())?);
        }
    }
    check_buffers(port, direction, out)
}

/// Probe every data buffer, and apply the controller memory buffer rule: a command's
/// descriptors and data are all in host memory or all in the CMB, and the CMB holds only what
/// CMBSZ says it may.
fn check_buffers<M: DmaMemory + ?Sized>(
    port: &DmaPort<'_, M>,
    direction: Direction,
    gathered: &Gathered,
) -> Result<(), Status> {
    let descriptors = port.touched();
    let mut data = Touched::default();
    let (data_purpose, metadata_purpose) = match direction {
        Direction::Read => (DmaPurpose::DataWrite, DmaPurpose::MetadataWrite),
        Direction::Write => (DmaPurpose::DataRead, DmaPurpose::MetadataRead),
    };
    let pieces = gathered
        .data
        .iter()
        .map(|p| (p, data_purpose))
        .chain(gathered.metadata.iter().map(|p| (p, metadata_purpose)));
    for (piece, purpose) in pieces {
        match piece {
            Piece::Data(extent) => {
                // Walkers merge physically adjacent pages into one extent, so the last page
                // of the CMB and the host page right after it arrive as one piece. Probed
                // whole it would be unreachable (Data Transfer Error), though it is what a
                // PRP list naming those two pages apart is: a buffer partly in host memory
                // and partly in the CMB. Base 2.1, 8.2.1 (Controller Memory Buffer): data
                // "shall be either entirely located in the Controller Memory Buffer or
                // entirely located outside", and "if the requirements for the Controller
                // Memory Buffer use are violated by the host, the controller shall abort the
                // associated command with a status code of Invalid Use of Controller Memory
                // Buffer". So each side of the CMB's edges is judged alone.
                for part in split_at_edges(*extent, port.cmb_window())
                    .into_iter()
                    .flatten()
                {
                    let in_cmb = port
                        .probe(purpose, part.addr, part.len)
                        .map_err(|_| fail(Status::DATA_TRANSFER_ERROR))?;
                    if in_cmb {
                        data.cmb = true;
                    } else {
                        data.host = true;
                    }
                }
            }
            Piece::Skip(_) => {}
            // Fabrics-only pieces mean nothing to a PCIe controller.
            Piece::Keyed { .. } | Piece::Capsule { .. } | Piece::Transport(_) => {
                return Err(fail(Status::SGL_DESCRIPTOR_TYPE_INVALID));
            }
        }
    }
    let any_cmb = descriptors.cmb || data.cmb;
    if !any_cmb {
        return Ok(());
    }
    let caps = port.cmb_caps().unwrap_or_default();
    let mixed = descriptors.host || data.host;
    let data_allowed = match direction {
        Direction::Read => caps.rds(),
        Direction::Write => caps.wds(),
    };
    if mixed || (descriptors.cmb && !caps.lists()) || (data.cmb && !data_allowed) {
        return Err(fail(Status::INVALID_USE_OF_CMB));
    }
    Ok(())
}

/// `extent` cut at the edges of `window` that fall strictly inside it: the part below the
/// window, the part in it and the part above it, each present only when not empty. An extent
/// that crosses no edge (an empty one included) comes back whole.
fn split_at_edges(extent: Extent, window: Option<Extent>) -> [Option<Extent>; 3] {
    let whole = [Some(extent), None, None];
    let Some(window) = window else {
        return whole;
    };
    // u128 so that an extent or window ending at (or past) 2^64 needs no special case.
    let start = u128::from(extent.addr);
    let end = start.saturating_add(u128::from(extent.len));
    let inside = |edge: u128| start < edge && edge < end;
    let (low, high) = (
        u128::from(window.addr),
        u128::from(window.addr).saturating_add(u128::from(window.len)),
    );
    if !inside(low) && !inside(high) {
        return whole;
    }
    let cuts = [start, low.clamp(start, end), high.clamp(start, end), end];
    let part = |from: u128, to: u128| {
        let addr = u64::try_from(from).ok()?;
        let len = u64::try_from(to.checked_sub(from)?).ok()?;
        (len > 0).then(|| Extent::new(addr, len))
    };
    [
        part(cuts[0], cuts[1]),
        part(cuts[1], cuts[2]),
        part(cuts[2], cuts[3]),
    ]
}

/// Move a stream of blocks between host pieces and the namespace. `to_host` is a Read (the
/// controller writes host memory); otherwise the host's bytes are stored.
pub(crate) fn transfer<M: DmaMemory + ?Sized>(
    port: &mut DmaPort<'_, M>,
    ns: &mut Namespace,
    (stream, slba, nlb): (Stream, u64, u64),
    host: &[Piece],
    to_host: bool,
) -> Result<(), Status> {
    let purpose = match (stream, to_host) {
        (Stream::Data, true) => DmaPurpose::DataWrite,
        (Stream::Data, false) => DmaPurpose::DataRead,
        (Stream::Metadata, true) => DmaPurpose::MetadataWrite,
        (Stream::Metadata, false) => DmaPurpose::MetadataRead,
    };
    let error = || fail(Status::DATA_TRANSFER_ERROR);
    let pieces = ns.pieces(stream, slba, nlb);
    let mut cursor = DataMover::checked(host);
    for (store, mut offset, mut left) in pieces {
        while left > 0 {
            let (addr, n) = cursor.next_run(left).ok_or_else(error)?;
            if let Some(mut addr) = addr {
                if to_host {
                    ns.store(store).read_to(offset, n, |bytes| {
                        port.write(purpose, addr, bytes).map_err(|_| error())?;
                        addr = addr.saturating_add(bytes.len() as u64);
                        Ok(())
                    })?;
                } else {
                    ns.store_mut(store).write_from(offset, n, |bytes| {
                        port.read(purpose, addr, bytes).map_err(|_| error())?;
                        addr = addr.saturating_add(bytes.len() as u64);
                        Ok(())
                    })?;
                }
            }
            offset = offset.saturating_add(n);
            left = left.saturating_sub(n);
        }
    }
    Ok(())
}

/// Whether the host pieces hold the same bytes as a stream of blocks (Compare), read through
/// a small buffer so that no allocation grows with the transfer.
pub(crate) fn matches<M: DmaMemory + ?Sized>(
    port: &DmaPort<'_, M>,
    ns: &Namespace,
    (stream, slba, nlb): (Stream, u64, u64),
    host: &[Piece],
) -> Result<bool, Status> {
    let error = || fail(Status::DATA_TRANSFER_ERROR);
    let mut cursor = DataMover::checked(host);
    let mut equal = true;
    let mut buf = [0u8; 512];
    for (store, offset, len) in ns.pieces(stream, slba, nlb) {
        ns.store(store).read_to(offset, len, |ours| {
            let mut at = 0usize;
            while at < ours.len() {
                let want = ours.len().saturating_sub(at).min(buf.len());
                let (addr, n) = cursor.next_run(want as u64).ok_or_else(error)?;
                let n = usize::try_from(n).unwrap_or(0);
                let (Some(theirs), Some(mine)) =
                    (buf.get_mut(..n), ours.get(at..at.saturating_add(n)))
                else {
                    return Err(error());
                };
                if let Some(addr) = addr {
                    port.read(DmaPurpose::DataRead, addr, theirs)
                        .map_err(|_| error())?;
                    equal &= theirs == mine;
                }
                at = at.saturating_add(n);
            }
            Ok(())
        })?;
    }
    Ok(equal)
}

/// Send `total` bytes to the host pieces, honouring bit buckets: `bytes` first, then zeros
/// (a log page read past its end).
pub(crate) fn send<M: DmaMemory + ?Sized>(
    port: &mut DmaPort<'_, M>,
    bytes: &[u8],
    total: u64,
    host: &[Piece],
) -> Result<(), Status> {
    static ZEROS: [u8; 512] = [0; 512];
    let error = || fail(Status::DATA_TRANSFER_ERROR);
    let mut cursor = DataMover::checked(host);
    let mut at = 0u64;
    while at < total {
        let from = usize::try_from(at).unwrap_or(usize::MAX);
        // The next run: the rest of `bytes`, or up to 512 zeros past its end.
        let chunk = match bytes.get(from..) {
            Some(rest) if !rest.is_empty() => rest,
            _ => ZEROS
                .get(
                    ..usize::try_from(total.saturating_sub(at))
                        .unwrap_or(512)
                        .min(512),
                )
                .unwrap_or_default(),
        };
        let (addr, n) = cursor.next_run(chunk.len() as u64).ok_or_else(error)?;
        let piece = chunk
            .get(..usize::try_from(n).unwrap_or(0))
            .unwrap_or_default();
        if let Some(addr) = addr {
            port.write(DmaPurpose::DataWrite, addr, piece)
                .map_err(|_| error())?;
        }
        at = at.saturating_add(n);
    }
    Ok(())
}

/// Read `out.len()` bytes from the host pieces (a Dataset Management range list, Compare
/// data).
pub(crate) fn receive<M: DmaMemory + ?Sized>(
    port: &DmaPort<'_, M>,
    out: &mut [u8],
    host: &[Piece],
) -> Result<(), Status> {
    let mut cursor = DataMover::checked(host);
    let mut at = 0usize;
    while at < out.len() {
        let left = out.len().saturating_sub(at) as u64;
        let (addr, n) = cursor
            .next_run(left)
            .ok_or(fail(Status::DATA_TRANSFER_ERROR))?;
        let end = at.saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
        if let (Some(addr), Some(chunk)) = (addr, out.get_mut(at..end)) {
            port.read(DmaPurpose::DataRead, addr, chunk)
                .map_err(|_| fail(Status::DATA_TRANSFER_ERROR))?;
        }
        at = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extent_is_cut_only_at_window_edges_inside_it() {
        let window = Some(Extent::new(0x1000, 0x1000));
        let e = |addr, len| Some(Extent::new(addr, len));
        // Wholly inside, wholly outside, touching an edge from outside: whole.
        assert_eq!(
            split_at_edges(Extent::new(0x1800, 0x100), window),
            [e(0x1800, 0x100), None, None]
        );
        assert_eq!(
            split_at_edges(Extent::new(0x2000, 0x1000), window),
            [e(0x2000, 0x1000), None, None]
        );
        assert_eq!(
            split_at_edges(Extent::new(0x1000, 0), window),
            [e(0x1000, 0), None, None]
        );
        // Over the top edge, over the bottom edge, over both.
        assert_eq!(
            split_at_edges(Extent::new(0x1800, 0x1000), window),
            [None, e(0x1800, 0x800), e(0x2000, 0x800)]
        );
        assert_eq!(
            split_at_edges(Extent::new(0x800, 0x1000), window),
            [e(0x800, 0x800), e(0x1000, 0x800), None]
        );
        assert_eq!(
            split_at_edges(Extent::new(0, 0x4000), window),
            [e(0, 0x1000), e(0x1000, 0x1000), e(0x2000, 0x2000)]
        );
        // A window at the top of the address space, an extent ending at 2^64.
        let top = Some(Extent::new(u64::MAX - 0xfff, 0x1000));
        assert_eq!(
            split_at_edges(Extent::new(u64::MAX - 0x1fff, 0x2000), top),
            [
                e(u64::MAX - 0x1fff, 0x1000),
                e(u64::MAX - 0xfff, 0x1000),
                None
            ]
        );
        assert_eq!(
            split_at_edges(Extent::new(5, 5), None),
            [e(5, 5), None, None]
        );
    }
}
