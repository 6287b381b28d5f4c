//! Linux nvme-pci: the per-command data pointer setup of `drivers/nvme/host/pci.c` in its v5
//! form (a scatterlist walked into PRP list or SGL segment blocks taken from two DMA pools,
//! with single-segment fast paths; later kernels replaced the scatterlist with a DMA
//! iterator).
//!
//! Modelled, not ported: `dma_map_sg`/`dma_map_bvec` are the identity (a scatterlist entry's
//! DMA address is its extent's address), the block layer's scatterlist is the request's extents
//! one entry each (what `blk_rq_map_sg` gives when no segment limit splits them), and a DMA pool
//! is a preallocated array of blocks with bus addresses and a free stack. Peer-to-peer DMA,
//! metadata and the failure prints are left out.

use nvme_dma::Extent;

use super::sgl_words;

/// NVME_CTRL_PAGE_SIZE: the controller page size the driver always uses.
pub const NVME_CTRL_PAGE_SIZE: u32 = 4096;
/// PAGE_SIZE, the CPU page size, which sizes SGL segment blocks (x86-64).
pub const PAGE_SIZE: u32 = 4096;
/// SGES_PER_PAGE: SGL descriptors in one page-pool block.
pub const SGES_PER_PAGE: usize = PAGE_SIZE as usize / 16;
/// The small pool's block size (256 bytes: 32 PRP entries or 16 SGL descriptors).
pub const SMALL_POOL_BLOCK: u32 = 256;
/// NVME_CMD_SGL_METABUF: PSDT 01b in the command's flags byte.
pub const NVME_CMD_SGL_METABUF: u8 = 1 << 6;
/// SGL descriptor formats (`NVME_SGL_FMT_*`), the type nibble.
pub const NVME_SGL_FMT_DATA_DESC: u8 = 0x0;
/// Segment descriptor format.
pub const NVME_SGL_FMT_SEG_DESC: u8 = 0x2;
/// Last Segment descriptor format.
pub const NVME_SGL_FMT_LAST_SEG_DESC: u8 = 0x3;
/// Room in the request's list of pool blocks (`nvme_pci_iod_list`); a 4 MiB request (the
/// driver's NVME_MAX_KB_SZ) needs 3 PRP list pages.
pub const IOD_LIST_MAX: usize = 4;

/// `blk_status_t`, the three values these paths return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlkStatus {
    /// BLK_STS_OK.
    Ok,
    /// BLK_STS_RESOURCE: a pool was empty.
    Resource,
    /// BLK_STS_IOERR: the scatterlist did not cover the payload.
    IoErr,
}

/// A `dma_pool`: fixed-size blocks with bus addresses, taken from and returned to a free stack
/// that never grows past its initial capacity (so alloc and free never allocate).
#[derive(Debug)]
pub struct DmaPool {
    words: usize,
    block_bytes: u64,
    bus_base: u64,
    mem: Vec<u64>,
    free: Vec<u32>,
}

impl DmaPool {
    /// `blocks` blocks of `block_bytes` bytes, the first at bus address `bus_base`.
    pub fn new(bus_base: u64, block_bytes: u32, blocks: u32) -> Self {
        let words = block_bytes as usize / 8;
        DmaPool {
            words,
            block_bytes: u64::from(block_bytes),
            bus_base,
            mem: vec![0; words * blocks as usize],
            free: (0..blocks).rev().collect(),
        }
    }

    /// `dma_pool_alloc`: a block's handle and bus address, or `None` when the pool is empty.
    #[inline(always)]
    fn alloc(&mut self) -> Option<(u32, u64)> {
        let handle = self.free.pop()?;
        Some((handle, self.bus_base + u64::from(handle) * self.block_bytes))
    }

    /// `dma_pool_free`.
    #[inline(always)]
    fn release(&mut self, handle: u32, dma: u64) {
        debug_assert_eq!(dma, self.bus_base + u64::from(handle) * self.block_bytes);
        self.free.push(handle);
    }

    /// The quadwords of block `handle`.
    #[inline(always)]
    pub fn block(&self, handle: u32) -> &[u64] {
        let start = handle as usize * self.words;
        &self.mem[start..start + self.words]
    }

    #[inline(always)]
    fn block_mut(&mut self, handle: u32) -> &mut [u64] {
        let start = handle as usize * self.words;
        &mut self.mem[start..start + self.words]
    }
}

/// What `struct nvme_dev` contributes: the two pools and the SGL decision's inputs.
#[derive(Debug)]
pub struct Dev {
    /// `prp_page_pool`: page-sized blocks.
    pub prp_page_pool: DmaPool,
    /// `prp_small_pool`: 256-byte blocks.
    pub prp_small_pool: DmaPool,
    /// `nvme_ctrl_sgl_supported`.
    pub sgl_supported: bool,
    /// The `sgl_threshold` module parameter (32 KiB by default; 0 disables SGLs).
    pub sgl_threshold: u32,
    /// The queue's id (0 is the admin queue, which never uses SGLs).
    pub qid: u16,
}

impl Dev {
    /// A device with `blocks` blocks in each pool, page blocks from `page_bus` and small blocks
    /// from `small_bus`.
    pub fn new(page_bus: u64, small_bus: u64, blocks: u32) -> Self {
        Dev {
            prp_page_pool: DmaPool::new(page_bus, PAGE_SIZE, blocks),
            prp_small_pool: DmaPool::new(small_bus, SMALL_POOL_BLOCK, blocks),
            sgl_supported: false,
            sgl_threshold: 32 * 1024,
            qid: 1,
        }
    }
}

/// The part of `struct nvme_iod` these paths use.
#[derive(Clone, Copy, Debug)]
pub struct Iod {
    /// Whether the SGL path was taken.
    pub use_sgl: bool,
    /// List pages from the page pool; 0 means one small-pool block; -1 none.
    pub npages: i32,
    /// The bus address of the first list block (or PRP2's data page).
    pub first_dma: u64,
    /// Nonzero when a fast path mapped the one segment directly.
    pub dma_len: u32,
    /// `nvme_pci_iod_list`: the pool blocks, in chain order.
    pub list: [u32; IOD_LIST_MAX],
}

impl Default for Iod {
    /// As `nvme_queue_rq` leaves it before mapping data.
    fn default() -> Self {
        Iod {
            use_sgl: false,
            npages: -1,
            first_dma: 0,
            dma_len: 0,
            list: [0; IOD_LIST_MAX],
        }
    }
}

/// The data pointer fields of `struct nvme_rw_command`: the flags byte (PSDT) and DPTR as two
/// quadwords (PRP1 and PRP2, or the 16-byte SGL descriptor as [`sgl_words`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RwCommand {
    /// Command flags; PSDT is bits 7:6.
    pub flags: u8,
    /// DPTR.
    pub dptr: [u64; 2],
}

/// Ports `nvme_map_data` (drivers/nvme/host/pci.c): a request of one physical segment that
/// fits two controller pages takes `nvme_setup_prp_simple`; one segment on an I/O queue with
/// SGLs enabled takes `nvme_setup_sgl_simple`; anything else is mapped as a scatterlist and
/// set up by `nvme_pci_setup_sgls` or `nvme_pci_setup_prps` as `nvme_pci_use_sgls` decides.
/// `sg` is the request's scatterlist (the extents, identity-mapped) and `payload` its byte
/// count. Simplified: the scatterlist allocation (`mempool_alloc`) and mapping are free, and
/// peer-to-peer pages never occur.
#[inline(never)]
pub fn nvme_map_data(
    dev: &mut Dev,
    iod: &mut Iod,
    cmnd: &mut RwCommand,
    sg: &[Extent],
    payload: u32,
) -> BlkStatus {
    if sg.len() == 1 {
        // req_bvec: the one multi-page bio_vec; its offset is into its first CPU page.
        let bv = sg[0];
        let bv_offset = (bv.addr & u64::from(PAGE_SIZE - 1)) as u32;
        let bv_len = bv.len as u32;
        if bv_offset + bv_len <= NVME_CTRL_PAGE_SIZE * 2 {
            return nvme_setup_prp_simple(iod, cmnd, bv.addr, bv_len);
        }
        if dev.qid != 0 && dev.sgl_threshold != 0 && dev.sgl_supported {
            return nvme_setup_sgl_simple(iod, cmnd, bv.addr, bv_len);
        }
    }
    iod.dma_len = 0;
    let nr_mapped = sg.len();
    if nr_mapped == 0 {
        return BlkStatus::Resource;
    }
    iod.use_sgl = nvme_pci_use_sgls(dev, sg.len(), payload);
    if iod.use_sgl {
        nvme_pci_setup_sgls(dev, iod, cmnd, sg, nr_mapped)
    } else {
        nvme_pci_setup_prps(dev, iod, cmnd, sg, payload)
    }
}

/// Ports `nvme_pci_use_sgls` (drivers/nvme/host/pci.c): SGLs when the controller has them, the
/// queue is an I/O queue, and the average segment (rounded up) reaches `sgl_threshold`.
#[inline(always)]
fn nvme_pci_use_sgls(dev: &Dev, nseg: usize, payload: u32) -> bool {
    let avg_seg_size = payload.div_ceil(nseg as u32);
    if !dev.sgl_supported {
        return false;
    }
    if dev.qid == 0 {
        return false;
    }
    if dev.sgl_threshold == 0 || avg_seg_size < dev.sgl_threshold {
        return false;
    }
    true
}

/// Ports `nvme_setup_prp_simple` (drivers/nvme/host/pci.c): PRP1 is the segment's address,
/// and PRP2 the start of the second controller page when the segment reaches it. PRP2 is left
/// as it was otherwise (the caller starts from a cleared command). Simplified: the mapping
/// (`dma_map_bvec`) is the identity and cannot fail.
#[inline(always)]
pub fn nvme_setup_prp_simple(
    iod: &mut Iod,
    cmnd: &mut RwCommand,
    bv_addr: u64,
    bv_len: u32,
) -> BlkStatus {
    let offset = (bv_addr & u64::from(NVME_CTRL_PAGE_SIZE - 1)) as u32;
    let first_prp_len = NVME_CTRL_PAGE_SIZE - offset;
    iod.first_dma = bv_addr;
    iod.dma_len = bv_len;
    cmnd.dptr[0] = iod.first_dma;
    if bv_len > first_prp_len {
        cmnd.dptr[1] = iod.first_dma + u64::from(first_prp_len);
    }
    BlkStatus::Ok
}

/// Ports `nvme_setup_sgl_simple` (drivers/nvme/host/pci.c): SGL1 is one Data Block for the
/// whole segment. Simplified: the mapping is the identity and cannot fail.
#[inline(always)]
pub fn nvme_setup_sgl_simple(
    iod: &mut Iod,
    cmnd: &mut RwCommand,
    bv_addr: u64,
    bv_len: u32,
) -> BlkStatus {
    iod.first_dma = bv_addr;
    iod.dma_len = bv_len;
    cmnd.flags = NVME_CMD_SGL_METABUF;
    cmnd.dptr = sgl_words(iod.first_dma, iod.dma_len, NVME_SGL_FMT_DATA_DESC, 0);
    BlkStatus::Ok
}

/// Ports `nvme_pci_setup_prps` (drivers/nvme/host/pci.c, scatterlist form): walk the scatterlist
/// a controller page at a time; PRP2 is the second page when two suffice, else a list taken
/// from the small pool (at most 32 entries) or the page pool, chaining a new page when one
/// fills by moving its last entry to the new page and putting the new page's address in its
/// place. A scatterlist that ends mid-page before the payload does is an I/O error.
/// Simplified: the error paths return without the driver's diagnostic print.
#[inline(never)]
pub fn nvme_pci_setup_prps(
    dev: &mut Dev,
    iod: &mut Iod,
    cmnd: &mut RwCommand,
    sg: &[Extent],
    payload: u32,
) -> BlkStatus {
    const PS: i32 = NVME_CTRL_PAGE_SIZE as i32;
    let mut length = payload as i32;
    let mut sgi = 0usize;
    let mut dma_len = sg[sgi].len as i32;
    let mut dma_addr = sg[sgi].addr;
    let offset = (dma_addr & (PS as u64 - 1)) as i32;

    'done: {
        length -= PS - offset;
        if length <= 0 {
            iod.first_dma = 0;
            break 'done;
        }

        dma_len -= PS - offset;
        if dma_len != 0 {
            dma_addr += (PS - offset) as u64;
        } else {
            sgi += 1;
            dma_addr = sg[sgi].addr;
            dma_len = sg[sgi].len as i32;
        }

        if length <= PS {
            iod.first_dma = dma_addr;
            break 'done;
        }

        // DIV_ROUND_UP.
        let nprps = (length + PS - 1) / PS;
        let small = nprps <= 256 / 8;
        let pool = if small {
            iod.npages = 0;
            &mut dev.prp_small_pool
        } else {
            iod.npages = 1;
            &mut dev.prp_page_pool
        };

        let Some((mut prp_list, prp_dma)) = pool.alloc() else {
            iod.first_dma = dma_addr;
            iod.npages = -1;
            return BlkStatus::Resource;
        };
        iod.list[0] = prp_list;
        iod.first_dma = prp_dma;
        let mut i = 0usize;
        loop {
            if i == (PS >> 3) as usize {
                let old_prp_list = prp_list;
                let Some((next, next_dma)) = pool.alloc() else {
                    nvme_free_prps(dev, iod);
                    return BlkStatus::Resource;
                };
                prp_list = next;
                iod.list[iod.npages as usize] = prp_list;
                iod.npages += 1;
                let moved = pool.block(old_prp_list)[i - 1];
                pool.block_mut(prp_list)[0] = moved;
                pool.block_mut(old_prp_list)[i - 1] = next_dma;
                i = 1;
            }
            pool.block_mut(prp_list)[i] = dma_addr;
            i += 1;
            dma_len -= PS;
            dma_addr += PS as u64;
            length -= PS;
            if length <= 0 {
                break;
            }
            if dma_len > 0 {
                continue;
            }
            if dma_len < 0 {
                return BlkStatus::IoErr;
            }
            sgi += 1;
            dma_addr = sg[sgi].addr;
            dma_len = sg[sgi].len as i32;
        }
    }
    cmnd.dptr[0] = sg[0].addr;
    cmnd.dptr[1] = iod.first_dma;
    BlkStatus::Ok
}

/// Ports `nvme_pci_sgl_set_data` (drivers/nvme/host/pci.c).
#[inline(always)]
fn nvme_pci_sgl_set_data(sge: &mut [u64], sg: &Extent) {
    let [a, b] = sgl_words(sg.addr, sg.len as u32, NVME_SGL_FMT_DATA_DESC, 0);
    sge[0] = a;
    sge[1] = b;
}

/// Ports `nvme_pci_sgl_set_seg` (drivers/nvme/host/pci.c): a Last Segment of `entries`
/// descriptors when they fit one page, else a Segment of a whole page.
#[inline(always)]
fn nvme_pci_sgl_set_seg(sge: &mut [u64], dma_addr: u64, entries: usize) {
    let words = if entries < SGES_PER_PAGE {
        sgl_words(
            dma_addr,
            (entries * 16) as u32,
            NVME_SGL_FMT_LAST_SEG_DESC,
            0,
        )
    } else {
        sgl_words(dma_addr, PAGE_SIZE, NVME_SGL_FMT_SEG_DESC, 0)
    };
    sge[0] = words[0];
    sge[1] = words[1];
}

/// Ports `nvme_pci_setup_sgls` (drivers/nvme/host/pci.c, scatterlist form): one entry is SGL1 as a
/// Data Block; more go in a small-pool block (at most 16) or page-pool pages, SGL1 pointing at
/// the first, and a full page chains by moving its last descriptor to the next page and
/// putting a segment descriptor for the rest in its place. The driver never passes more than
/// NVME_MAX_SEGS (127) entries, so two quirks of the code never show, and the port keeps
/// both: at exactly 256 entries SGL1 is a Segment (not a Last Segment) descriptor for a page
/// of data descriptors alone, and a chained Last Segment's length leaves out the descriptor
/// moved into its page (one descriptor short).
#[inline(never)]
pub fn nvme_pci_setup_sgls(
    dev: &mut Dev,
    iod: &mut Iod,
    cmd: &mut RwCommand,
    sg: &[Extent],
    entries: usize,
) -> BlkStatus {
    let mut entries = entries;
    let mut sgi = 0usize;
    let mut i = 0usize;

    cmd.flags = NVME_CMD_SGL_METABUF;

    if entries == 1 {
        nvme_pci_sgl_set_data(&mut cmd.dptr, &sg[sgi]);
        return BlkStatus::Ok;
    }

    let pool = if entries <= 256 / 16 {
        iod.npages = 0;
        &mut dev.prp_small_pool
    } else {
        iod.npages = 1;
        &mut dev.prp_page_pool
    };

    let Some((mut sg_list, mut sgl_dma)) = pool.alloc() else {
        iod.npages = -1;
        return BlkStatus::Resource;
    };

    iod.list[0] = sg_list;
    iod.first_dma = sgl_dma;

    nvme_pci_sgl_set_seg(&mut cmd.dptr, sgl_dma, entries);

    loop {
        if i == SGES_PER_PAGE {
            let old_sg_desc = sg_list;
            let Some((next, next_dma)) = pool.alloc() else {
                nvme_free_sgls(dev, iod);
                return BlkStatus::Resource;
            };
            (sg_list, sgl_dma) = (next, next_dma);
            i = 0;
            iod.list[iod.npages as usize] = sg_list;
            iod.npages += 1;
            let link = 2 * (SGES_PER_PAGE - 1);
            let moved = [
                pool.block(old_sg_desc)[link],
                pool.block(old_sg_desc)[link + 1],
            ];
            pool.block_mut(sg_list)[..2].copy_from_slice(&moved);
            i += 1;
            nvme_pci_sgl_set_seg(
                &mut pool.block_mut(old_sg_desc)[link..link + 2],
                sgl_dma,
                entries,
            );
        }
        nvme_pci_sgl_set_data(&mut pool.block_mut(sg_list)[2 * i..2 * i + 2], &sg[sgi]);
        i += 1;
        sgi += 1;
        entries -= 1;
        if entries == 0 {
            break;
        }
    }
    BlkStatus::Ok
}

/// Ports `nvme_free_prps` (drivers/nvme/host/pci.c): return the page-pool list pages, reading
/// each page's chain slot for the next page's bus address.
fn nvme_free_prps(dev: &mut Dev, iod: &Iod) {
    let last_prp = NVME_CTRL_PAGE_SIZE as usize / 8 - 1;
    let mut dma_addr = iod.first_dma;
    for i in 0..iod.npages.max(0) as usize {
        let prp_list = iod.list[i];
        let next_dma_addr = dev.prp_page_pool.block(prp_list)[last_prp];
        dev.prp_page_pool.release(prp_list, dma_addr);
        dma_addr = next_dma_addr;
    }
}

/// Ports `nvme_free_sgls` (drivers/nvme/host/pci.c).
fn nvme_free_sgls(dev: &mut Dev, iod: &Iod) {
    let last_sg = SGES_PER_PAGE - 1;
    let mut dma_addr = iod.first_dma;
    for i in 0..iod.npages.max(0) as usize {
        let sg_list = iod.list[i];
        let next_dma_addr = dev.prp_page_pool.block(sg_list)[2 * last_sg];
        dev.prp_page_pool.release(sg_list, dma_addr);
        dma_addr = next_dma_addr;
    }
}

/// Ports the pool half of `nvme_unmap_data` (drivers/nvme/host/pci.c), run at completion:
/// nothing after a fast path, else the small-pool block or the list pages go back.
/// Simplified: unmapping the scatterlist and freeing it cost nothing.
#[inline(never)]
pub fn nvme_unmap_data(dev: &mut Dev, iod: &Iod) {
    if iod.dma_len != 0 {
        return;
    }
    if iod.npages == 0 {
        dev.prp_small_pool.release(iod.list[0], iod.first_dma);
    } else if iod.use_sgl {
        nvme_free_sgls(dev, iod);
    } else {
        nvme_free_prps(dev, iod);
    }
}

/// The quadwords a setup wrote into its first list or segment block (`iod.list[0]`), from
/// the pool `iod.npages` names; empty when no block was taken.
pub fn first_block<'d>(dev: &'d Dev, iod: &Iod) -> &'d [u64] {
    match iod.npages {
        0 => dev.prp_small_pool.block(iod.list[0]),
        n if n > 0 => dev.prp_page_pool.block(iod.list[0]),
        _ => &[],
    }
}
