//! The inputs every pair is measured and checked on: command sizes, buffer shapes, and where
//! data and descriptor memory sit.

use nvme_dma::Extent;

/// The page size throughout (CC.MPS = 4 KiB).
pub const PAGE: u64 = 4096;
/// Where data buffers start.
pub const DATA_BASE: u64 = 0x1_0000_0000;
/// Where the crate's PRP list pages and SGL segments sit, and the guest byte array the walks
/// read starts.
pub const LIST_BASE: u64 = 0x8000_0000;
/// Linux's page pool blocks.
pub const LINUX_PAGE_POOL: u64 = 0x8100_0000;
/// Linux's small pool blocks.
pub const LINUX_SMALL_POOL: u64 = 0x8200_0000;
/// SPDK's tracker (4 KiB aligned, its list 72 bytes in).
pub const SPDK_TRACKER: u64 = 0x8300_0000;

/// The command sizes, with their labels.
pub const SIZES: [(&str, u64); 6] = [
    ("4KiB", 4 << 10),
    ("8KiB", 8 << 10),
    ("16KiB", 16 << 10),
    ("64KiB", 64 << 10),
    ("128KiB", 128 << 10),
    ("1MiB", 1 << 20),
];

/// How the buffer lies in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One contiguous buffer, page aligned.
    Aligned,
    /// One contiguous buffer starting 0x200 into a page.
    Offset,
    /// Page-sized extents on every other page.
    Scattered,
}

impl Shape {
    /// All shapes, in table order.
    pub const ALL: [Shape; 3] = [Shape::Aligned, Shape::Offset, Shape::Scattered];

    /// The label in benchmark names and tables.
    pub fn label(self) -> &'static str {
        match self {
            Shape::Aligned => "aligned",
            Shape::Offset => "offset_0x200",
            Shape::Scattered => "scattered",
        }
    }
}

/// One command's data: `len` bytes in `extents`.
#[derive(Clone)]
pub struct Case {
    /// The buffer's shape.
    pub shape: Shape,
    /// The size label.
    pub size: &'static str,
    /// Total bytes.
    pub len: u64,
    /// The buffer, in transfer order.
    pub extents: Vec<Extent>,
}

/// Shape and size: enough to name a case in a failure, where the extents would be hundreds.
impl core::fmt::Debug for Case {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}/{}", self.shape.label(), self.size)
    }
}

impl Case {
    /// The case for `shape` and a size from [`SIZES`].
    pub fn new(shape: Shape, (size, len): (&'static str, u64)) -> Self {
        let extents = match shape {
            Shape::Aligned => vec![Extent::new(DATA_BASE, len)],
            Shape::Offset => vec![Extent::new(DATA_BASE + 0x200, len)],
            Shape::Scattered => (0..len / PAGE)
                .map(|i| Extent::new(DATA_BASE + 2 * i * PAGE, PAGE))
                .collect(),
        };
        Case {
            shape,
            size,
            len,
            extents,
        }
    }

    /// Every case: shapes in order, sizes within each.
    pub fn all() -> Vec<Case> {
        Shape::ALL
            .iter()
            .flat_map(|&shape| SIZES.iter().map(move |&size| Case::new(shape, size)))
            .collect()
    }

    /// Whether the buffer is one extent (SPDK's contiguous payload type).
    pub fn contiguous(&self) -> bool {
        self.shape != Shape::Scattered
    }
}
