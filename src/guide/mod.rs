//! The guide: chapters that teach the rules of NVMe data pointers with worked examples.
//!
//! The reference ([`prp`](crate::prp), [`sgl`](crate::sgl), [`dptr`](crate::dptr)) says what
//! each type does; these chapters say why the rules are what they are, walk through the cases
//! that drivers and emulators have got wrong, and show each one built and walked back. Every
//! example is a doctest, so each one runs and stays true.
//!
//! | chapter | what it teaches |
//! |---|---|
//! | [`prp_rules`] | PRP alignment rules: offsets, PRP2's three meanings, list pages, exact fill and chaining, the rules a scatter list can break |
//! | [`sgl_chains`] | SGL descriptors and segment chains: inline SGL1, Segment and Last Segment, bit buckets, what a controller refuses |
//! | [`prp_or_sgl`] | PRP or SGL: what each costs for a given buffer shape, and how the Linux, SPDK and smallest-footprint policies choose |
//!
//! The `nvme-dma` command draws the same layouts for any extents you give it, as text, JSON or
//! SVG: `nvme-dma prp 0x10200+0xe00 0x50000+0x2000 --svg prp.svg`, `nvme-dma sgl ...`, and
//! `nvme-dma demo` for a tour.

pub mod prp_or_sgl;
pub mod prp_rules;
pub mod sgl_chains;
