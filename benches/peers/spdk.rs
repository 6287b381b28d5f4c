//! SPDK's NVMe PCIe transport: the per-request PRP and SGL builds of
//! `lib/nvme/nvme_pcie_common.c`, writing into the request's tracker (`struct nvme_tracker`,
//! `lib/nvme/nvme_pcie_internal.h`), whose one 4 KiB block holds either a PRP list of at most
//! 503 entries or at most 250 SGL descriptors: SPDK never chains list pages or segments.
//!
//! Modelled, not ported: `spdk_vtophys` is the identity and maps the whole remaining length
//! (as it does within one registered region), a scattered payload's `reset_sgl_fn` and
//! `next_sge_fn` callbacks walk a slice of extents, and a failed build returns its error
//! without completing the request (`nvme_pcie_fail_request_bad_vtophys`). Metadata and bit
//! bucket elements are left out.

use nvme_dma::Extent;

use super::sgl_words;

/// NVME_MAX_SGL_DESCRIPTORS: descriptors the tracker holds.
pub const NVME_MAX_SGL_DESCRIPTORS: usize = 250;
/// NVME_MAX_PRP_LIST_ENTRIES: PRP list entries the tracker holds.
pub const NVME_MAX_PRP_LIST_ENTRIES: usize = 503;
/// offsetof(struct nvme_tracker, u.prp) on a 64-bit build: the list follows 72 bytes of
/// tracker header, so that the tracker is exactly 4 KiB.
pub const TRACKER_LIST_OFFSET: u64 = 72;
/// SPDK_NVME_PSDT_PRP.
pub const PSDT_PRP: u8 = 0;
/// SPDK_NVME_PSDT_SGL_MPTR_CONTIG.
pub const PSDT_SGL_MPTR_CONTIG: u8 = 1;
/// SPDK_NVME_SGL_TYPE_DATA_BLOCK.
pub const SGL_TYPE_DATA_BLOCK: u8 = 0x0;
/// SPDK_NVME_SGL_TYPE_LAST_SEGMENT.
pub const SGL_TYPE_LAST_SEGMENT: u8 = 0x3;
/// -EFAULT, what the builds return on any failure.
pub const EFAULT: i32 = 14;

/// The PRP list / SGL union of a tracker and its bus address. The SGL view is descriptor `i`
/// at quadwords `2i` and `2i + 1` (as [`sgl_words`]).
#[derive(Clone, Debug)]
pub struct Tracker {
    /// `prp_sgl_bus_addr`: the bus address of `u`.
    pub prp_sgl_bus_addr: u64,
    /// `u.prp` / `u.sgl`.
    pub u: [u64; NVME_MAX_PRP_LIST_ENTRIES],
}

impl Tracker {
    /// `nvme_qpair_construct_tracker` for a tracker at bus address `phys_addr`.
    pub fn new(phys_addr: u64) -> Self {
        Tracker {
            prp_sgl_bus_addr: phys_addr + TRACKER_LIST_OFFSET,
            u: [0; NVME_MAX_PRP_LIST_ENTRIES],
        }
    }
}

/// The fields of `struct spdk_nvme_cmd` the builds write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cmd {
    /// `psdt`.
    pub psdt: u8,
    /// DPTR: `prp1`, `prp2`, or `sgl1` as [`sgl_words`].
    pub dptr: [u64; 2],
}

/// Where a request's payload is (`enum nvme_payload_type` with its data).
#[derive(Clone, Copy, Debug)]
pub enum Payload<'a> {
    /// NVME_PAYLOAD_TYPE_CONTIG: one virtually contiguous buffer.
    Contig {
        /// The buffer's address (`contig_or_cb_arg`).
        addr: u64,
    },
    /// NVME_PAYLOAD_TYPE_SGL: elements the caller's callbacks hand out one at a time.
    Sgl(&'a [Extent]),
}

/// The state behind a scattered payload's callbacks: the next element and the offset into
/// it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SgeCursor {
    index: usize,
    offset: u64,
}

/// `reset_sgl_fn`: start over, `offset` bytes into the payload.
type ResetSglFn = fn(&mut SgeCursor, &[Extent], u32);
/// `next_sge_fn`: the next element's address and length, or an error past the end.
type NextSgeFn = fn(&mut SgeCursor, &[Extent]) -> Result<(u64, u32), i32>;

fn reset_sgl(cursor: &mut SgeCursor, sges: &[Extent], offset: u32) {
    let mut offset = u64::from(offset);
    cursor.index = 0;
    while cursor.index < sges.len() && offset >= sges[cursor.index].len {
        offset -= sges[cursor.index].len;
        cursor.index += 1;
    }
    cursor.offset = offset;
}

fn next_sge(cursor: &mut SgeCursor, sges: &[Extent]) -> Result<(u64, u32), i32> {
    let sge = sges.get(cursor.index).ok_or(-EFAULT)?;
    let out = (sge.addr + cursor.offset, (sge.len - cursor.offset) as u32);
    cursor.index += 1;
    cursor.offset = 0;
    Ok(out)
}

/// The parts of `struct nvme_request` the builds read and write.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// `cmd`.
    pub cmd: Cmd,
    /// `payload`.
    pub payload: Payload<'a>,
    /// `payload_offset`.
    pub payload_offset: u32,
    /// `payload_size`.
    pub payload_size: u32,
    cursor: SgeCursor,
    reset_sgl_fn: ResetSglFn,
    next_sge_fn: NextSgeFn,
}

impl<'a> Request<'a> {
    /// A request for `payload_size` bytes of `payload`.
    pub fn new(payload: Payload<'a>, payload_size: u32) -> Self {
        Request {
            cmd: Cmd::default(),
            payload,
            payload_offset: 0,
            payload_size,
            cursor: SgeCursor::default(),
            reset_sgl_fn: reset_sgl,
            next_sge_fn: next_sge,
        }
    }

    fn sges(&self) -> &'a [Extent] {
        match self.payload {
            Payload::Sgl(sges) => sges,
            Payload::Contig { .. } => &[],
        }
    }

    fn reset_sgl(&mut self) {
        let sges = self.sges();
        (self.reset_sgl_fn)(&mut self.cursor, sges, self.payload_offset);
    }

    fn next_sge(&mut self) -> Result<(u64, u32), i32> {
        let sges = self.sges();
        (self.next_sge_fn)(&mut self.cursor, sges)
    }
}

/// What the builds read from the queue pair and controller.
#[derive(Clone, Copy, Debug)]
pub struct Qpair {
    /// `ctrlr->page_size`.
    pub page_size: u32,
    /// SGLs supported and this is an I/O queue (`nvme_pcie_qpair_submit_request`'s
    /// `sgl_supported`).
    pub sgl_supported: bool,
    /// SPDK_NVME_CTRLR_SGL_REQUIRES_DWORD_ALIGNMENT.
    pub dword_aligned: bool,
}

/// `spdk_vtophys(buf, &size)`: the identity, the whole asked-for length mapped.
#[inline(always)]
fn vtophys(virt: u64, _size: &mut u64) -> u64 {
    virt
}

/// Ports `nvme_pcie_prp_list_append` (lib/nvme/nvme_pcie_common.c): append the PRP entries
/// of a virtually contiguous buffer, one per page, PRP1 first and the rest in the tracker's
/// list; every entry after PRP1 must be page aligned, the buffer dword aligned, and the list
/// must not overflow the tracker. PRP2 is then none, the second entry, or the list.
#[inline(always)]
pub fn nvme_pcie_prp_list_append(
    cmd: &mut Cmd,
    tr: &mut Tracker,
    prp_index: &mut u32,
    mut virt_addr: u64,
    mut len: usize,
    page_size: u32,
) -> Result<(), i32> {
    let page_mask = u64::from(page_size) - 1;

    if virt_addr & 3 != 0 {
        return Err(-EFAULT);
    }

    let mut i = *prp_index;
    while len != 0 {
        // Index 0 is PRP1 and the rest go to prp[], so i == the array's length is valid.
        if i as usize > tr.u.len() {
            return Err(-EFAULT);
        }

        let phys_addr = vtophys(virt_addr, &mut 0);

        let mut seg_len;
        if i == 0 {
            cmd.dptr[0] = phys_addr;
            seg_len = u64::from(page_size) - (virt_addr & page_mask);
        } else {
            if phys_addr & page_mask != 0 {
                return Err(-EFAULT);
            }
            tr.u[i as usize - 1] = phys_addr;
            seg_len = u64::from(page_size);
        }

        seg_len = seg_len.min(len as u64);
        virt_addr += seg_len;
        len -= seg_len as usize;
        i += 1;
    }

    cmd.psdt = PSDT_PRP;
    if i <= 1 {
        cmd.dptr[1] = 0;
    } else if i == 2 {
        cmd.dptr[1] = tr.u[0];
    } else {
        cmd.dptr[1] = tr.prp_sgl_bus_addr;
    }

    *prp_index = i;
    Ok(())
}

/// Ports `nvme_pcie_qpair_build_contig_request` (lib/nvme/nvme_pcie_common.c): one append for
/// the whole buffer.
#[inline(never)]
pub fn nvme_pcie_qpair_build_contig_request(
    qpair: &Qpair,
    req: &mut Request<'_>,
    tr: &mut Tracker,
    _dword_aligned: bool,
) -> i32 {
    let mut prp_index = 0;
    let Payload::Contig { addr } = req.payload else {
        return -EFAULT;
    };
    match nvme_pcie_prp_list_append(
        &mut req.cmd,
        tr,
        &mut prp_index,
        addr + u64::from(req.payload_offset),
        req.payload_size as usize,
        qpair.page_size,
    ) {
        Ok(()) => 0,
        Err(rc) => rc,
    }
}

/// Ports `nvme_pcie_qpair_build_prps_sgl_request` (lib/nvme/nvme_pcie_common.c): one append per
/// element the payload's callbacks hand out, until the payload is covered.
#[inline(never)]
pub fn nvme_pcie_qpair_build_prps_sgl_request(
    qpair: &Qpair,
    req: &mut Request<'_>,
    tr: &mut Tracker,
    _dword_aligned: bool,
) -> i32 {
    let mut prp_index = 0;
    let page_size = qpair.page_size;

    req.reset_sgl();

    let mut remaining_transfer_len = req.payload_size;
    while remaining_transfer_len > 0 {
        let (virt_addr, length) = match req.next_sge() {
            Ok(sge) => sge,
            Err(_) => return -EFAULT,
        };
        let length = remaining_transfer_len.min(length);

        // Every element but the last ends on a page boundary (the splitting code upstream
        // sees to it; SPDK asserts it here).
        debug_assert!(
            length == remaining_transfer_len
                || (virt_addr + u64::from(length)) % u64::from(page_size) == 0
        );

        if let Err(rc) = nvme_pcie_prp_list_append(
            &mut req.cmd,
            tr,
            &mut prp_index,
            virt_addr,
            length as usize,
            page_size,
        ) {
            return rc;
        }

        remaining_transfer_len -= length;
    }
    0
}

/// Ports `nvme_pcie_qpair_build_contig_hw_sgl_request` (lib/nvme/nvme_pcie_common.c): one Data
/// Block per physically contiguous run of the buffer (one here, translation being the
/// identity) in the tracker; SGL1 is that block when there is one, else a Last Segment
/// pointing at the tracker's descriptors.
#[inline(never)]
pub fn nvme_pcie_qpair_build_contig_hw_sgl_request(
    _qpair: &Qpair,
    req: &mut Request<'_>,
    tr: &mut Tracker,
    dword_aligned: bool,
) -> i32 {
    let Payload::Contig { addr } = req.payload else {
        return -EFAULT;
    };
    let mut sgl = 0usize;
    let mut nseg = 0u32;

    req.cmd.psdt = PSDT_SGL_MPTR_CONTIG;

    let mut length = req.payload_size;
    let mut virt_addr = addr + u64::from(req.payload_offset);

    while length > 0 {
        if nseg as usize >= NVME_MAX_SGL_DESCRIPTORS {
            return -EFAULT;
        }
        if dword_aligned && virt_addr & 3 != 0 {
            return -EFAULT;
        }

        let mut mapping_length = u64::from(length);
        let phys_addr = vtophys(virt_addr, &mut mapping_length);
        let mapping_length = u64::from(length).min(mapping_length) as u32;

        length -= mapping_length;
        virt_addr += u64::from(mapping_length);

        let [a, b] = sgl_words(phys_addr, mapping_length, SGL_TYPE_DATA_BLOCK, 0);
        tr.u[2 * sgl] = a;
        tr.u[2 * sgl + 1] = b;

        sgl += 1;
        nseg += 1;
    }

    finish_sgl1(req, tr, nseg);
    0
}

/// The tail both hardware-SGL builds share: SGL1 is the one Data Block, or a Last Segment of
/// `nseg` descriptors at the tracker (SPDK builds one segment only).
#[inline(always)]
fn finish_sgl1(req: &mut Request<'_>, tr: &Tracker, nseg: u32) {
    if nseg == 1 {
        req.cmd.dptr = [tr.u[0], tr.u[1]];
    } else {
        req.cmd.dptr = sgl_words(tr.prp_sgl_bus_addr, nseg * 16, SGL_TYPE_LAST_SEGMENT, 0);
    }
}

/// Ports `nvme_pcie_qpair_build_hw_sgl_request` (lib/nvme/nvme_pcie_common.c): for each
/// element the payload's callbacks hand out, Data Blocks for its physically contiguous runs,
/// a run that continues the previous descriptor extending it; at most 250 descriptors; SGL1
/// as in the contiguous build. Simplified: no bit bucket elements.
#[inline(never)]
pub fn nvme_pcie_qpair_build_hw_sgl_request(
    _qpair: &Qpair,
    req: &mut Request<'_>,
    tr: &mut Tracker,
    dword_aligned: bool,
) -> i32 {
    req.reset_sgl();

    let mut sgl = 0usize;
    let mut nseg = 0u32;
    req.cmd.psdt = PSDT_SGL_MPTR_CONTIG;

    let mut remaining_transfer_len = req.payload_size;

    while remaining_transfer_len > 0 {
        let (mut virt_addr, mut remaining_user_sge_len) = match req.next_sge() {
            Ok(sge) => sge,
            Err(_) => return -EFAULT,
        };

        remaining_user_sge_len = remaining_user_sge_len.min(remaining_transfer_len);
        remaining_transfer_len -= remaining_user_sge_len;
        while remaining_user_sge_len > 0 {
            if nseg as usize >= NVME_MAX_SGL_DESCRIPTORS {
                return -EFAULT;
            }
            if dword_aligned && virt_addr & 3 != 0 {
                return -EFAULT;
            }

            let mut mapping_length = u64::from(remaining_user_sge_len);
            let phys_addr = vtophys(virt_addr, &mut mapping_length);

            let length = u64::from(remaining_user_sge_len).min(mapping_length) as u32;
            remaining_user_sge_len -= length;
            virt_addr += u64::from(length);

            if nseg > 0 {
                let prev_addr = tr.u[2 * sgl - 2];
                let prev_len = tr.u[2 * sgl - 1] & 0xffff_ffff;
                if phys_addr == prev_addr + prev_len {
                    // Extend the previous descriptor.
                    tr.u[2 * sgl - 1] += u64::from(length);
                    continue;
                }
            }

            let [a, b] = sgl_words(phys_addr, length, SGL_TYPE_DATA_BLOCK, 0);
            tr.u[2 * sgl] = a;
            tr.u[2 * sgl + 1] = b;

            sgl += 1;
            nseg += 1;
        }
    }

    finish_sgl1(req, tr, nseg);
    0
}

/// `build_req_fn`.
type BuildReqFn = fn(&Qpair, &mut Request<'_>, &mut Tracker, bool) -> i32;

/// Ports `g_nvme_pcie_build_req_table` (lib/nvme/nvme_pcie_common.c), by payload type (contig,
/// SGL) and by whether SGLs are used.
const BUILD_REQ_TABLE: [[BuildReqFn; 2]; 2] = [
    [
        nvme_pcie_qpair_build_contig_request,
        nvme_pcie_qpair_build_contig_hw_sgl_request,
    ],
    [
        nvme_pcie_qpair_build_prps_sgl_request,
        nvme_pcie_qpair_build_hw_sgl_request,
    ],
];

/// Ports the data pointer part of `nvme_pcie_qpair_submit_request`
/// (lib/nvme/nvme_pcie_common.c): pick the build through the table by payload type and SGL
/// support, and run it on the request's tracker. Simplified: taking the tracker from the free
/// list, metadata and the submission itself are left out.
#[inline(never)]
pub fn nvme_pcie_qpair_build_request(
    qpair: &Qpair,
    req: &mut Request<'_>,
    tr: &mut Tracker,
) -> i32 {
    let payload_type = match req.payload {
        Payload::Contig { .. } => 0,
        Payload::Sgl(_) => 1,
    };
    BUILD_REQ_TABLE[payload_type][usize::from(qpair.sgl_supported)](
        qpair,
        req,
        tr,
        qpair.dword_aligned,
    )
}
