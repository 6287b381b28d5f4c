//! QEMU's emulated NVMe controller: the device-side walks of `hw/nvme/ctrl.c` that turn a
//! command's PRPs or SGL into a scatter-gather list (`nvme_map_prp`, `nvme_map_sgl`,
//! `nvme_map_sgl_data`, `nvme_map_addr`), collecting into a `QEMUSGList` whose
//! `qemu_sglist_add` (`system/dma-helpers.c`) appends one entry per call and never merges.
//!
//! Modelled, not ported: guest memory is a byte array at a base address (`nvme_addr_read`
//! is a bounds-checked copy; QEMU's `pci_dma_read` goes through the address space), the
//! controller has no CMB or PMR unless given one, the scatter-gather list is cleared and
//! reused rather than allocated per command, and the PRP list buffer QEMU allocates per
//! command (`g_new`) and the 256-descriptor segment chunk it keeps on the stack are a
//! preallocated [`Scratch`]. Trace points are left out.

/// NVME_SUCCESS.
pub const NVME_SUCCESS: u16 = 0x0000;
/// NVME_DATA_TRAS_ERROR.
pub const NVME_DATA_TRAS_ERROR: u16 = 0x0004;
/// NVME_INTERNAL_DEV_ERROR.
pub const NVME_INTERNAL_DEV_ERROR: u16 = 0x0006;
/// NVME_INVALID_FIELD.
pub const NVME_INVALID_FIELD: u16 = 0x0002;
/// NVME_INVALID_SGL_SEG_DESCR.
pub const NVME_INVALID_SGL_SEG_DESCR: u16 = 0x000d;
/// NVME_INVALID_NUM_SGL_DESCRS.
pub const NVME_INVALID_NUM_SGL_DESCRS: u16 = 0x000e;
/// NVME_DATA_SGL_LEN_INVALID.
pub const NVME_DATA_SGL_LEN_INVALID: u16 = 0x000f;
/// NVME_SGL_DESCR_TYPE_INVALID.
pub const NVME_SGL_DESCR_TYPE_INVALID: u16 = 0x0011;
/// NVME_INVALID_USE_OF_CMB.
pub const NVME_INVALID_USE_OF_CMB: u16 = 0x0012;
/// NVME_INVALID_PRP_OFFSET.
pub const NVME_INVALID_PRP_OFFSET: u16 = 0x0013;
/// NVME_DNR: Do Not Retry.
pub const NVME_DNR: u16 = 0x4000;

/// NVME_SGL_DESCR_TYPE_DATA_BLOCK.
pub const NVME_SGL_DESCR_TYPE_DATA_BLOCK: u8 = 0x0;
/// NVME_SGL_DESCR_TYPE_SEGMENT.
pub const NVME_SGL_DESCR_TYPE_SEGMENT: u8 = 0x2;
/// NVME_SGL_DESCR_TYPE_LAST_SEGMENT.
pub const NVME_SGL_DESCR_TYPE_LAST_SEGMENT: u8 = 0x3;
/// NVME_CTRL_SGLS_EXCESS_LENGTH (SGLS bit 18).
pub const NVME_CTRL_SGLS_EXCESS_LENGTH: u32 = 1 << 18;

/// IOV_MAX: the most entries one mapping may have.
pub const IOV_MAX: usize = 1024;
/// SEG_CHUNK_SIZE: descriptors `nvme_map_sgl` reads at a time.
pub const SEG_CHUNK_SIZE: usize = 256;

/// NVME_SG_ALLOC.
const NVME_SG_ALLOC: u8 = 1 << 0;
/// NVME_SG_DMA.
const NVME_SG_DMA: u8 = 1 << 1;

/// `NvmeSglDescriptor`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NvmeSglDescriptor {
    /// `addr`.
    pub addr: u64,
    /// `len`.
    pub len: u32,
    /// `rsvd`.
    pub rsvd: [u8; 3],
    /// `type`: descriptor type in bits 7:4, subtype in bits 3:0.
    pub type_: u8,
}

impl NvmeSglDescriptor {
    /// The descriptor in its 16 wire bytes.
    #[inline(always)]
    pub fn from_bytes(b: &[u8; 16]) -> Self {
        let mut addr = [0u8; 8];
        addr.copy_from_slice(&b[..8]);
        let mut len = [0u8; 4];
        len.copy_from_slice(&b[8..12]);
        NvmeSglDescriptor {
            addr: u64::from_le_bytes(addr),
            len: u32::from_le_bytes(len),
            rsvd: [b[12], b[13], b[14]],
            type_: b[15],
        }
    }
}

/// NVME_SGL_TYPE.
#[inline(always)]
fn nvme_sgl_type(type_: u8) -> u8 {
    type_ >> 4
}

/// What the walks read from `NvmeCtrl`.
#[derive(Clone, Copy, Debug)]
pub struct NvmeCtrl {
    /// `page_size` (CC.MPS).
    pub page_size: u32,
    /// `page_bits`.
    pub page_bits: u32,
    /// `max_prp_ents`: list entries in one page.
    pub max_prp_ents: u32,
    /// `id_ctrl.sgls`.
    pub sgls: u32,
    /// BAR0's address and size (`nvme_addr_is_iomem`).
    pub bar0: (u64, u64),
    /// The CMB's address and size, when enabled.
    pub cmb: Option<(u64, u64)>,
    /// The PMR's address and size, when enabled.
    pub pmr: Option<(u64, u64)>,
}

impl NvmeCtrl {
    /// A controller with 4 KiB pages, BAR0 at a typical MMIO address, no CMB or PMR, and SGLS
    /// as QEMU has long reported it (SGLs without alignment needs, bit buckets; the walks read
    /// only the excess-length bit, which is clear).
    pub fn new() -> Self {
        NvmeCtrl {
            page_size: 4096,
            page_bits: 12,
            max_prp_ents: 4096 / 8,
            sgls: 0x1 | (1 << 16),
            bar0: (0xfebf_0000, 0x4000),
            cmb: None,
            pmr: None,
        }
    }
}

impl Default for NvmeCtrl {
    fn default() -> Self {
        Self::new()
    }
}

#[inline(always)]
fn in_range(range: Option<(u64, u64)>, addr: u64) -> bool {
    match range {
        Some((lo, size)) => addr >= lo && addr < lo + size,
        None => false,
    }
}

/// Guest memory: `bytes` at guest physical address `base`.
#[derive(Clone, Copy, Debug)]
pub struct Guest<'a> {
    /// Guest physical address of `bytes[0]`.
    pub base: u64,
    /// The memory.
    pub bytes: &'a [u8],
}

impl Guest<'_> {
    /// The `len` bytes at `addr`, or `None` when any is outside guest memory.
    #[inline(always)]
    fn slice(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(addr.checked_sub(self.base)?).ok()?;
        self.bytes.get(start..start.checked_add(len)?)
    }
}

/// Ports `nvme_addr_read` (hw/nvme/ctrl.c) for quadwords: a wrapping range fails, else the
/// bytes are copied (here converted from little endian on the way, which QEMU does at each
/// use). Returns nonzero on failure, as QEMU does.
#[inline(always)]
fn nvme_addr_read_u64s(mem: &Guest<'_>, addr: u64, out: &mut [u64]) -> i32 {
    let size = out.len() * 8;
    if addr.checked_add(size as u64 - 1).is_none() {
        return 1;
    }
    let Some(src) = mem.slice(addr, size) else {
        return 1;
    };
    for (o, chunk) in out.iter_mut().zip(src.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *o = u64::from_le_bytes(b);
    }
    0
}

/// Ports `nvme_addr_read` (hw/nvme/ctrl.c) for SGL descriptors.
#[inline(always)]
fn nvme_addr_read_descs(mem: &Guest<'_>, addr: u64, out: &mut [NvmeSglDescriptor]) -> i32 {
    let size = out.len() * 16;
    if addr.checked_add(size as u64 - 1).is_none() {
        return 1;
    }
    let Some(src) = mem.slice(addr, size) else {
        return 1;
    };
    for (o, chunk) in out.iter_mut().zip(src.chunks_exact(16)) {
        let mut b = [0u8; 16];
        b.copy_from_slice(chunk);
        *o = NvmeSglDescriptor::from_bytes(&b);
    }
    0
}

/// A `ScatterGatherEntry`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScatterGatherEntry {
    /// `base`.
    pub base: u64,
    /// `len`.
    pub len: u64,
}

/// `NvmeSg` in its DMA form: flags and the `QEMUSGList`. The list's storage is reserved for
/// IOV_MAX entries once, which `nvme_map_addr`'s limit keeps it within.
#[derive(Clone, Debug)]
pub struct NvmeSg {
    /// NVME_SG_ALLOC | NVME_SG_DMA once initialised.
    pub flags: u8,
    /// `qsg.sg`, `qsg.nsg` being its length.
    pub sg: Vec<ScatterGatherEntry>,
    /// `qsg.size`.
    pub size: u64,
}

impl NvmeSg {
    /// An unmapped list with room for IOV_MAX entries.
    pub fn new() -> Self {
        NvmeSg {
            flags: 0,
            sg: Vec::with_capacity(IOV_MAX),
            size: 0,
        }
    }
}

impl Default for NvmeSg {
    fn default() -> Self {
        Self::new()
    }
}

/// The per-command buffers QEMU allocates or keeps on its stack: the PRP list (`max_prp_ents`
/// entries) and one chunk of SGL segment.
#[derive(Clone, Debug)]
pub struct Scratch {
    prp_list: Vec<u64>,
    segment: Vec<NvmeSglDescriptor>,
}

impl Scratch {
    /// Buffers for `n`'s page size.
    pub fn new(n: &NvmeCtrl) -> Self {
        Scratch {
            prp_list: vec![0; n.max_prp_ents as usize],
            segment: vec![NvmeSglDescriptor::default(); SEG_CHUNK_SIZE],
        }
    }
}

/// Ports `nvme_sg_init` (hw/nvme/ctrl.c), DMA form: an empty list.
#[inline(always)]
fn nvme_sg_init(sg: &mut NvmeSg, dma: bool) {
    sg.sg.clear();
    sg.size = 0;
    sg.flags = if dma { NVME_SG_DMA } else { 0 };
    sg.flags |= NVME_SG_ALLOC;
}

/// Ports `nvme_sg_unmap` (hw/nvme/ctrl.c).
#[inline(always)]
fn nvme_sg_unmap(sg: &mut NvmeSg) {
    if sg.flags & NVME_SG_ALLOC == 0 {
        return;
    }
    sg.sg.clear();
    sg.size = 0;
    sg.flags = 0;
}

/// Ports `nvme_addr_is_dma` (hw/nvme/ctrl.c).
#[inline(always)]
fn nvme_addr_is_dma(n: &NvmeCtrl, addr: u64) -> bool {
    !(in_range(n.cmb, addr) || in_range(n.pmr, addr))
}

/// Ports `nvme_map_addr` (hw/nvme/ctrl.c): an address in BAR0 is a transfer error; CMB or PMR
/// memory is Invalid Use of CMB in a DMA list (QEMU maps it into an I/O vector otherwise,
/// which is not modelled: it fails here); plain memory is appended to the list unless that
/// would pass IOV_MAX.
#[inline(always)]
fn nvme_map_addr(n: &NvmeCtrl, sg: &mut NvmeSg, addr: u64, len: u64) -> u16 {
    if len == 0 {
        return NVME_SUCCESS;
    }

    if addr >= n.bar0.0 && addr < n.bar0.0 + n.bar0.1 {
        return NVME_DATA_TRAS_ERROR;
    }

    if in_range(n.cmb, addr) || in_range(n.pmr, addr) {
        if sg.flags & NVME_SG_DMA != 0 {
            return NVME_INVALID_USE_OF_CMB | NVME_DNR;
        }
        return NVME_DATA_TRAS_ERROR;
    }

    if sg.flags & NVME_SG_DMA == 0 {
        return NVME_INVALID_USE_OF_CMB | NVME_DNR;
    }

    if sg.sg.len() + 1 > IOV_MAX {
        return NVME_INTERNAL_DEV_ERROR | NVME_DNR;
    }

    // qemu_sglist_add: append, never merge.
    sg.sg.push(ScatterGatherEntry { base: addr, len });
    sg.size += len;
    NVME_SUCCESS
}

/// Ports `nvme_map_prp` (hw/nvme/ctrl.c): PRP1 up to its page end; then PRP2 as the second
/// page when the rest fits one page (it must be page aligned), else as a list pointer that
/// may carry an offset. The first list read runs to the end of PRP2's page; when the last
/// entry of a list read is reached with more than a page left it is the next list's address
/// (page aligned), read for as many entries as remain, up to a page. Every list entry must be
/// page aligned. Returns the status, the list unmapped on failure.
#[inline(never)]
pub fn nvme_map_prp(
    n: &NvmeCtrl,
    mem: &Guest<'_>,
    scratch: &mut Scratch,
    sg: &mut NvmeSg,
    prp1: u64,
    prp2: u64,
    len: u32,
) -> u16 {
    let page_size = u64::from(n.page_size);
    let mut len = u64::from(len);
    let mut trans_len = page_size - (prp1 % page_size);
    trans_len = len.min(trans_len);

    nvme_sg_init(sg, nvme_addr_is_dma(n, prp1));

    let status = 'unmap: {
        let status = nvme_map_addr(n, sg, prp1, trans_len);
        if status != 0 {
            break 'unmap status;
        }

        len -= trans_len;
        if len != 0 {
            if len > page_size {
                let prp_list = &mut scratch.prp_list[..];
                let mut i = 0usize;

                // The first list, where PRP2 points, may start at an offset: it holds the
                // entries up to its page end.
                let mut nents = ((page_size - (prp2 & (page_size - 1))) >> 3) as u32;
                let prp_trans = n.max_prp_ents.min(nents) as usize;
                if nvme_addr_read_u64s(mem, prp2, &mut prp_list[..prp_trans]) != 0 {
                    break 'unmap NVME_DATA_TRAS_ERROR;
                }
                while len != 0 {
                    let mut prp_ent = prp_list[i];

                    if i == nents as usize - 1 && len > page_size {
                        if prp_ent & (page_size - 1) != 0 {
                            break 'unmap NVME_INVALID_PRP_OFFSET | NVME_DNR;
                        }

                        i = 0;
                        nents = ((len + page_size - 1) >> n.page_bits) as u32;
                        nents = nents.min(n.max_prp_ents);
                        let prp_trans = nents as usize;
                        if nvme_addr_read_u64s(mem, prp_ent, &mut prp_list[..prp_trans]) != 0 {
                            break 'unmap NVME_DATA_TRAS_ERROR;
                        }
                        prp_ent = prp_list[i];
                    }

                    if prp_ent & (page_size - 1) != 0 {
                        break 'unmap NVME_INVALID_PRP_OFFSET | NVME_DNR;
                    }

                    trans_len = len.min(page_size);
                    let status = nvme_map_addr(n, sg, prp_ent, trans_len);
                    if status != 0 {
                        break 'unmap status;
                    }

                    len -= trans_len;
                    i += 1;
                }
            } else {
                if prp2 & (page_size - 1) != 0 {
                    break 'unmap NVME_INVALID_PRP_OFFSET | NVME_DNR;
                }
                let status = nvme_map_addr(n, sg, prp2, len);
                if status != 0 {
                    break 'unmap status;
                }
            }
        }
        return NVME_SUCCESS;
    };
    nvme_sg_unmap(sg);
    status
}

/// Ports `nvme_map_sgl_data` (hw/nvme/ctrl.c): map `segment`'s descriptors, which must all be
/// Data Blocks (a segment descriptor here is Invalid Number of SGL Descriptors, any other
/// type SGL Descriptor Type Invalid: the revision ported maps no Bit Bucket, older ones
/// skipped its bytes), skipping empty ones; data past
/// the transfer is an error unless SGLS allows excess length; a block ending past 2^64 is
/// Data SGL Length Invalid.
#[inline(always)]
fn nvme_map_sgl_data(
    n: &NvmeCtrl,
    sg: &mut NvmeSg,
    segment: &[NvmeSglDescriptor],
    len: &mut u64,
) -> u16 {
    for d in segment {
        match nvme_sgl_type(d.type_) {
            NVME_SGL_DESCR_TYPE_DATA_BLOCK => {}
            NVME_SGL_DESCR_TYPE_SEGMENT | NVME_SGL_DESCR_TYPE_LAST_SEGMENT => {
                return NVME_INVALID_NUM_SGL_DESCRS | NVME_DNR;
            }
            _ => return NVME_SGL_DESCR_TYPE_INVALID | NVME_DNR,
        }

        let dlen = d.len;
        if dlen == 0 {
            continue;
        }

        if *len == 0 {
            // All data is mapped but descriptors remain: acceptable only with excess length.
            if n.sgls & NVME_CTRL_SGLS_EXCESS_LENGTH != 0 {
                break;
            }
            return NVME_DATA_SGL_LEN_INVALID | NVME_DNR;
        }

        let trans_len = (*len).min(u64::from(dlen));
        let addr = d.addr;

        if u64::MAX - addr < u64::from(dlen) {
            return NVME_DATA_SGL_LEN_INVALID | NVME_DNR;
        }

        let status = nvme_map_addr(n, sg, addr, trans_len);
        if status != 0 {
            return status;
        }

        *len -= trans_len;
    }
    NVME_SUCCESS
}

/// Ports `nvme_map_sgl` (hw/nvme/ctrl.c): SGL1 as a Data Block is mapped directly; otherwise
/// follow the chain of (Last) Segment descriptors, each non-empty and a multiple of 16 bytes
/// and not wrapping, reading 256 descriptors at a time. A segment that ends in a Data Block
/// ends the SGL; one that does not must not be a Last Segment, its last descriptor is the
/// next segment's, and it must have mapped some data. Data left unmapped at the end is Data
/// SGL Length Invalid. As in QEMU, the descriptor checks in the loop return without
/// unmapping.
#[inline(never)]
pub fn nvme_map_sgl(
    n: &NvmeCtrl,
    mem: &Guest<'_>,
    scratch: &mut Scratch,
    sg: &mut NvmeSg,
    sgl: NvmeSglDescriptor,
    len: u64,
) -> u16 {
    let mut len = len;
    let segment = &mut scratch.segment[..];
    let mut sgld = sgl;
    let mut addr = sgl.addr;

    nvme_sg_init(sg, nvme_addr_is_dma(n, addr));

    let status = 'unmap: {
        // A transfer one Data Block describes is mapped directly.
        if nvme_sgl_type(sgl.type_) == NVME_SGL_DESCR_TYPE_DATA_BLOCK {
            let status = nvme_map_sgl_data(n, sg, core::slice::from_ref(&sgld), &mut len);
            if status != 0 {
                break 'unmap status;
            }
        } else {
            loop {
                let prev_len = len;

                match nvme_sgl_type(sgld.type_) {
                    NVME_SGL_DESCR_TYPE_SEGMENT | NVME_SGL_DESCR_TYPE_LAST_SEGMENT => {}
                    _ => return NVME_INVALID_SGL_SEG_DESCR | NVME_DNR,
                }

                let seg_len = sgld.len;

                // The (Last) Segment descriptor's length.
                if seg_len == 0 || seg_len & 0xf != 0 {
                    return NVME_INVALID_SGL_SEG_DESCR | NVME_DNR;
                }

                if u64::MAX - addr < u64::from(seg_len) {
                    return NVME_DATA_SGL_LEN_INVALID | NVME_DNR;
                }

                let mut nsgld = (seg_len / 16) as usize;

                while nsgld > SEG_CHUNK_SIZE {
                    if nvme_addr_read_descs(mem, addr, segment) != 0 {
                        break 'unmap NVME_DATA_TRAS_ERROR;
                    }
                    let status = nvme_map_sgl_data(n, sg, segment, &mut len);
                    if status != 0 {
                        break 'unmap status;
                    }
                    nsgld -= SEG_CHUNK_SIZE;
                    addr += (SEG_CHUNK_SIZE * 16) as u64;
                }

                if nvme_addr_read_descs(mem, addr, &mut segment[..nsgld]) != 0 {
                    break 'unmap NVME_DATA_TRAS_ERROR;
                }

                let last_sgld = segment[nsgld - 1];

                // A segment that ends with a Data Block ends the SGL.
                if nvme_sgl_type(last_sgld.type_) == NVME_SGL_DESCR_TYPE_DATA_BLOCK {
                    let status = nvme_map_sgl_data(n, sg, &segment[..nsgld], &mut len);
                    if status != 0 {
                        break 'unmap status;
                    }
                    break;
                }

                // Otherwise the segment must not have been a Last Segment.
                if nvme_sgl_type(sgld.type_) == NVME_SGL_DESCR_TYPE_LAST_SEGMENT {
                    break 'unmap NVME_INVALID_SGL_SEG_DESCR | NVME_DNR;
                }

                sgld = last_sgld;
                addr = sgld.addr;

                // The last descriptor is the next segment's, handled on the next turn.
                let status = nvme_map_sgl_data(n, sg, &segment[..nsgld - 1], &mut len);
                if status != 0 {
                    break 'unmap status;
                }

                // A segment that mapped nothing would let a host loop the controller forever.
                if len == prev_len {
                    break 'unmap NVME_INVALID_SGL_SEG_DESCR | NVME_DNR;
                }
            }
        }

        // Anything left unmapped: the SGL was too short.
        if len != 0 {
            break 'unmap NVME_DATA_SGL_LEN_INVALID | NVME_DNR;
        }
        return NVME_SUCCESS;
    };
    nvme_sg_unmap(sg);
    status
}

/// PSDT values `nvme_map_dptr` dispatches on.
pub const NVME_PSDT_PRP: u8 = 0;
/// PSDT 01b.
pub const NVME_PSDT_SGL_MPTR_CONTIGUOUS: u8 = 1;
/// PSDT 10b.
pub const NVME_PSDT_SGL_MPTR_SGL: u8 = 2;

/// Ports `nvme_map_dptr` (hw/nvme/ctrl.c): PRPs or an SGL by PSDT; reserved PSDT is Invalid
/// Field. `dptr` is the command's bytes 24 to 39.
pub fn nvme_map_dptr(
    n: &NvmeCtrl,
    mem: &Guest<'_>,
    scratch: &mut Scratch,
    sg: &mut NvmeSg,
    len: u64,
    psdt: u8,
    dptr: &[u8; 16],
) -> u16 {
    match psdt {
        NVME_PSDT_PRP => {
            let (mut prp1, mut prp2) = ([0u8; 8], [0u8; 8]);
            prp1.copy_from_slice(&dptr[..8]);
            prp2.copy_from_slice(&dptr[8..]);
            let (prp1, prp2) = (u64::from_le_bytes(prp1), u64::from_le_bytes(prp2));
            nvme_map_prp(n, mem, scratch, sg, prp1, prp2, len as u32)
        }
        NVME_PSDT_SGL_MPTR_CONTIGUOUS | NVME_PSDT_SGL_MPTR_SGL => nvme_map_sgl(
            n,
            mem,
            scratch,
            sg,
            NvmeSglDescriptor::from_bytes(dptr),
            len,
        ),
        _ => NVME_INVALID_FIELD,
    }
}
