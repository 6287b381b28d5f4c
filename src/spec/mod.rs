//! Wire formats (stand-in until the full module lands).
pub mod status;
pub use status::Status;
