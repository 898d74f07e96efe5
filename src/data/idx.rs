//! Reader for the IDX format of MNIST (`magic = 0x0000TTNN`: type `TT = 0x08` for unsigned
//! bytes, `NN` dimensions, then `NN` big-endian u32 sizes, then the data), gzip-compressed or
//! not. Written by hand: the format is a 16-byte header, and the crates that read it also
//! download and hold all of MNIST in their own types.

use crate::error::{Error, Result};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// An unsigned-byte IDX array.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Read a file, decompressing it if it starts with the gzip magic bytes.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decompress_if_gz(raw, &path.display().to_string())
}

/// The largest IDX array read: EMNIST, the largest IDX set, is 0.7 GB of images.
pub const MAX_IDX_BYTES: usize = 4 << 30;

/// Decompress `raw` if it is gzip data; `origin` names it in errors. Decompression stops one
/// byte past the size the IDX header announces (issue #23, case 11: a 1 MB `.gz` must not
/// expand to gigabytes before its header is checked); [`parse`] then reports any mismatch.
pub fn decompress_if_gz(raw: Vec<u8>, origin: &str) -> Result<Vec<u8>> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let corrupt = |e: std::io::Error| {
        Error::data(
            origin,
            format!("corrupt gzip data ({e}); re-download the file"),
        )
    };
    let mut gz = GzDecoder::new(&raw[..]);
    let mut out = Vec::new();
    // The magic number, whose last byte is the number of dimensions, then their sizes.
    (&mut gz).take(4).read_to_end(&mut out).map_err(corrupt)?;
    if out.len() == 4 {
        let ndim = out[3] as u64;
        (&mut gz)
            .take(4 * ndim)
            .read_to_end(&mut out)
            .map_err(corrupt)?;
    }
    let announced = announced_size(&out).filter(|&n| n <= MAX_IDX_BYTES);
    let Some(announced) = announced else {
        if out.len() < 4 || out.len() < 4 + 4 * out[3] as usize {
            return Ok(out); // too short: `parse` says so
        }
        return Err(Error::data(
            origin,
            format!(
                "the IDX header announces more than {} GiB of data; the file is corrupt or not an IDX file",
                MAX_IDX_BYTES >> 30
            ),
        ));
    };
    out.reserve(announced - out.len() + 1);
    gz.take((announced + 1 - out.len()) as u64)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    Ok(out)
}

/// Header plus data bytes of an IDX file whose header (magic and sizes) starts `bytes`.
fn announced_size(bytes: &[u8]) -> Option<usize> {
    let ndim = *bytes.get(3)? as usize;
    let header = 4 + 4 * ndim;
    let sizes = bytes.get(4..header)?;
    sizes
        .chunks(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .try_fold(1usize, |acc, d| acc.checked_mul(d))?
        .checked_add(header)
}

/// Parse an unsigned-byte IDX array with `ndim` dimensions.
pub fn parse(bytes: &[u8], ndim: usize, origin: &str) -> Result<IdxArray> {
    let bad = |m: String| Error::data(origin, m);
    if bytes.len() < 4 {
        return Err(bad(format!(
            "too short for an IDX header ({} bytes)",
            bytes.len()
        )));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let expected = 0x0800 | ndim as u32;
    if magic != expected {
        return Err(bad(format!(
            "not an IDX file of unsigned bytes with {ndim} dimension(s): magic number 0x{magic:08x}, expected 0x{expected:08x}"
        )));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(bad(format!(
            "truncated IDX header ({} bytes, need {header})",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|k| {
            let o = 4 + 4 * k;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("impossible sizes {dims:?}")))?;
    let body = bytes.len() - header;
    if body != count {
        return Err(bad(format!(
            "header announces sizes {dims:?} ({count} bytes of data) but the file holds {body}; the file is truncated or corrupt"
        )));
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Serialize an unsigned-byte IDX array (used by tests to build files in the real format).
    pub fn encode(dims: &[usize], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 0x08, dims.len() as u8];
        for &d in dims {
            out.extend_from_slice(&(d as u32).to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn round_trip() {
        let bytes = encode(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let a = parse(&bytes, 2, "t").unwrap();
        assert_eq!(a.dims, vec![2, 3]);
        assert_eq!(a.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn rejects_bad_magic_truncation_and_wrong_rank() {
        let bytes = encode(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let e = parse(&bytes, 3, "f.idx").unwrap_err().to_string();
        assert!(
            e.starts_with("f.idx: ") && e.contains("magic number 0x00000802"),
            "{e}"
        );
        let e = parse(&bytes[..bytes.len() - 1], 2, "f.idx")
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated or corrupt"), "{e}");
        let e = parse(&bytes[..6], 2, "f.idx").unwrap_err().to_string();
        assert!(e.contains("truncated IDX header"), "{e}");
        let e = parse(&[0x12, 0x34], 1, "f.idx").unwrap_err().to_string();
        assert!(e.contains("too short"), "{e}");
    }

    /// Issue #23, case 11: a small `.gz` whose content is far longer than its header says is
    /// expanded only one byte past the announced size, then refused.
    #[test]
    fn decompression_stops_past_the_announced_size() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&encode(&[2, 3], &[7; 6])).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..32 {
            gz.write_all(&zeros).unwrap();
        }
        let raw = gz.finish().unwrap();
        assert!(raw.len() < 1 << 20, "{}", raw.len());
        let out = decompress_if_gz(raw, "x.gz").unwrap();
        assert_eq!(out.len(), 8 + 4 + 6 + 1);
        let e = parse(&out, 2, "x.gz").unwrap_err().to_string();
        assert!(e.contains("truncated or corrupt"), "{e}");
        // A header announcing terabytes is refused before any data is read.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&encode(&[1 << 30, 1 << 12], &[])).unwrap();
        let e = decompress_if_gz(gz.finish().unwrap(), "x.gz")
            .unwrap_err()
            .to_string();
        assert!(e.contains("announces more than 4 GiB"), "{e}");
        // A good file is read whole.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let file = encode(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        gz.write_all(&file).unwrap();
        assert_eq!(
            decompress_if_gz(gz.finish().unwrap(), "x.gz").unwrap(),
            file
        );
    }

    #[test]
    fn corrupt_gzip_is_an_error_not_a_panic() {
        let e = decompress_if_gz(vec![0x1f, 0x8b, 8, 0, 1, 2, 3], "x.gz")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.gz: corrupt gzip data"), "{e}");
    }
}
