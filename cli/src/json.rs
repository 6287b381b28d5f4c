//! The JSON envelope every subcommand prints with `--json`, and the value types the schema
//! shares (docs/cli-json.md describes them).

use nvme_dma::Extent;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// The schema identifier every document carries. Bump the number when a field changes meaning
/// or disappears; adding fields keeps it.
pub const SCHEMA: &str = "nvme-dma-cli/1";

/// A 64-bit address, written as a `0x` hex string: JSON numbers above 2^53 lose precision in
/// many readers, and addresses are read in hex anyway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hex(pub u64);

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{:#x}", self.0))
    }
}

/// An extent as JSON: `{"addr": "0x...", "len": N}`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ExtentJson {
    /// First bus address.
    pub addr: Hex,
    /// Bytes.
    pub len: u64,
}

impl From<Extent> for ExtentJson {
    fn from(e: Extent) -> Self {
        ExtentJson {
            addr: Hex(e.addr),
            len: e.len,
        }
    }
}

/// `{"schema", "command", "ok", ...body}`, pretty-printed, with a final newline.
pub fn document(command: &str, ok: bool, body: &impl Serialize) -> String {
    let mut map = Map::new();
    map.insert("schema".into(), Value::from(SCHEMA));
    map.insert("command".into(), Value::from(command));
    map.insert("ok".into(), Value::from(ok));
    match serde_json::to_value(body) {
        Ok(Value::Object(fields)) => map.extend(fields),
        Ok(other) => {
            map.insert("result".into(), other);
        }
        Err(e) => {
            map.insert("serialization_error".into(), Value::from(e.to_string()));
        }
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(map)).unwrap_or_default();
    text.push('\n');
    text
}

/// One piece of a transfer as a walker yields it: bytes in memory, or bytes a read discards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PieceJson {
    /// Bytes at a bus address.
    Data {
        /// First bus address.
        addr: Hex,
        /// Bytes.
        len: u64,
    },
    /// Bytes a read discards (an SGL bit bucket).
    Skip {
        /// Bytes.
        len: u64,
    },
    /// Fabrics data (keyed, in-capsule or transport): bytes the transport moves.
    Fabrics {
        /// Bytes.
        len: u64,
    },
}

impl PieceJson {
    /// Bytes of the transfer the piece accounts for.
    pub fn len(&self) -> u64 {
        match *self {
            PieceJson::Data { len, .. } | PieceJson::Skip { len } | PieceJson::Fabrics { len } => {
                len
            }
        }
    }
}

impl From<Extent> for PieceJson {
    fn from(e: Extent) -> Self {
        PieceJson::Data {
            addr: Hex(e.addr),
            len: e.len,
        }
    }
}

impl From<nvme_dma::Piece> for PieceJson {
    fn from(s: nvme_dma::Piece) -> Self {
        use nvme_dma::Piece as S;
        match s {
            S::Data(e) => e.into(),
            S::Skip(len) => PieceJson::Skip { len },
            other => PieceJson::Fabrics { len: other.len() },
        }
    }
}
