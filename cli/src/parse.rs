//! Reading the command line's values: numbers (hex or decimal), extents, page sizes, pieces of
//! an SGL and descriptor memory. Each parser returns a message that says what was expected, so
//! clap can print it after the argument's name.

use nvme_dma::controller::Profile;
use nvme_dma::{Extent, PageSize, Piece};

/// A number in decimal (`4096`, with an optional binary suffix: `4K`, `4KiB`, `2M`, `1G`) or
/// hex (`0x1000`). Underscores may group digits.
pub fn number(text: &str) -> Result<u64, String> {
    let cleaned: String = text.trim().chars().filter(|&c| c != '_').collect();
    let bad =
        || format!("`{text}` is not a number: write it in decimal (4096, 4K) or hex (0x1000)");
    let too_big = || format!("`{text}` does not fit in 64 bits");
    if let Some(hex) = cleaned
        .strip_prefix("0x")
        .or_else(|| cleaned.strip_prefix("0X"))
    {
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        return u64::from_str_radix(hex, 16).map_err(|_| too_big());
    }
    let digits_end = cleaned
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(cleaned.len());
    let (digits, suffix) = cleaned.split_at(digits_end);
    if digits.is_empty() {
        return Err(bad());
    }
    let shift = match suffix {
        "" => 0,
        "K" | "k" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        _ => return Err(bad()),
    };
    let value: u64 = digits.parse().map_err(|_| too_big())?;
    value.checked_mul(1u64 << shift).ok_or_else(too_big)
}

/// A behaviour profile of the mock controller: `strict`, `qemu`, or either with `+SWITCH` /
/// `-SWITCH` after it.
pub fn profile(text: &str) -> Result<Profile, String> {
    text.parse()
        .map_err(|e| format!("`{text}` is not a profile: {e}"))
}

/// A number that fits 32 bits (a register or Identify field).
pub fn dword(text: &str) -> Result<u32, String> {
    let value = number(text)?;
    u32::try_from(value).map_err(|_| format!("{value:#x} does not fit in 32 bits"))
}

/// A number that fits 8 bits.
pub fn byte(text: &str) -> Result<u8, String> {
    let value = number(text)?;
    u8::try_from(value).map_err(|_| format!("{value} does not fit in 8 bits (0..=255)"))
}

/// `ADDR+LEN`: a run of bus addresses, both numbers in hex or decimal.
pub fn extent(text: &str) -> Result<Extent, String> {
    let Some((addr, len)) = text.split_once('+') else {
        return Err(format!(
            "`{text}` is not an extent: write ADDR+LEN, e.g. 0x10200+0xe00 or 66048+3584"
        ));
    };
    let extent = Extent::new(number(addr)?, number(len)?);
    if !extent.fits_address_space() {
        return Err(format!(
            "`{text}` runs past the end of the 64-bit address space (ADDR + LEN > 2^64)"
        ));
    }
    Ok(extent)
}

/// A memory page size (CC.MPS): a power of two from 4 KiB to 128 MiB.
pub fn page_size(text: &str) -> Result<PageSize, String> {
    let bytes = number(text)?;
    PageSize::new(bytes).ok_or_else(|| {
        format!(
            "{bytes} bytes is not a memory page size: CC.MPS allows powers of two from 4 KiB \
             (4096) to 128 MiB"
        )
    })
}

/// One piece of an SGL: `ADDR+LEN` for data, `skip:LEN` for bytes a read discards.
pub fn piece(text: &str) -> Result<Piece, String> {
    if let Some(len) = text.strip_prefix("skip:") {
        return Ok(Piece::Skip(number(len)?));
    }
    extent(text)
        .map(Piece::Data)
        .map_err(|e| format!("{e} (or skip:LEN for a bit bucket)"))
}

/// Descriptor memory the caller offers: a bus address and, optionally, how many bytes it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Bus address of the first byte.
    pub addr: u64,
    /// Bytes available; `None` means "the natural size" (the rest of the memory page for a
    /// PRP list, one memory page for an SGL segment).
    pub bytes: Option<u64>,
}

/// `ADDR` or `ADDR+BYTES`.
pub fn memory(text: &str) -> Result<Memory, String> {
    match text.split_once('+') {
        Some((addr, bytes)) => Ok(Memory {
            addr: number(addr)?,
            bytes: Some(number(bytes)?),
        }),
        None => Ok(Memory {
            addr: number(text)?,
            bytes: None,
        }),
    }
}

/// Hex bytes as they sit in memory, byte 0 first: pairs of hex digits, optionally separated
/// by spaces, colons, dashes or underscores, with an optional `0x` in front of each argument.
pub fn hex_bytes(parts: &[String]) -> Result<Vec<u8>, String> {
    let mut digits = String::new();
    for part in parts {
        let part = part.trim();
        let part = part
            .strip_prefix("0x")
            .or_else(|| part.strip_prefix("0X"))
            .unwrap_or(part);
        for c in part.chars() {
            match c {
                ' ' | ':' | '-' | '_' | '\t' | '\n' => {}
                c if c.is_ascii_hexdigit() => digits.push(c),
                c => return Err(format!("`{c}` is not a hex digit")),
            }
        }
    }
    if digits.len() % 2 != 0 {
        return Err(format!(
            "{} hex digits do not make whole bytes: give two digits per byte",
            digits.len()
        ));
    }
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            u8::from_str_radix(pair, 16).map_err(|e| e.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_every_spelling() {
        assert_eq!(number("4096"), Ok(4096));
        assert_eq!(number("0x1000"), Ok(4096));
        assert_eq!(number("0X1_000"), Ok(4096));
        assert_eq!(number("4K"), Ok(4096));
        assert_eq!(number("4KiB"), Ok(4096));
        assert_eq!(number("2M"), Ok(2 << 20));
        assert_eq!(number("1G"), Ok(1 << 30));
        assert!(number("").is_err());
        assert!(number("0x").is_err());
        assert!(number("0xg").is_err());
        assert!(number("4X").is_err());
        assert!(number("-1").is_err());
        assert!(number("0x1_0000_0000_0000_0000").is_err());
        assert!(number("17179869184G").is_err());
    }

    #[test]
    fn extents_and_pieces() {
        assert_eq!(extent("0x10200+0xe00"), Ok(Extent::new(0x10200, 0xe00)));
        assert_eq!(extent("66048+3584"), Ok(Extent::new(0x10200, 0xe00)));
        assert!(extent("0x10200").is_err());
        assert!(extent("0xffffffffffffffff+2").is_err());
        assert_eq!(piece("skip:0x200"), Ok(Piece::Skip(0x200)));
        assert_eq!(piece("0x1000+16"), Ok(Piece::Data(Extent::new(0x1000, 16))));
    }

    #[test]
    fn page_sizes_are_powers_of_two_in_range() {
        assert_eq!(page_size("4K"), Ok(PageSize::SIZE_4K));
        assert!(page_size("2048").is_err());
        assert!(page_size("12K").is_err());
    }

    #[test]
    fn hex_bytes_accept_separators() {
        assert_eq!(
            hex_bytes(&["0x0102".into(), "03:04".into()]),
            Ok(vec![1, 2, 3, 4])
        );
        assert!(hex_bytes(&["123".into()]).is_err());
        assert!(hex_bytes(&["zz".into()]).is_err());
    }
}
