//! A tiny PNG encoder for the emulator's generated images: 8-bit RGB, one colour per image, so
//! that any requested size (up to 4096 pixels a side) deflates to a few kilobytes. Valid PNG
//! (signature, IHDR, IDAT with zlib data, IEND, each chunk with its CRC-32), readable by any
//! decoder; deterministic, so tests can compare answers.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A `width` x `height` PNG filled with `rgb`.
pub fn solid_png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace.
    header.extend_from_slice(&[8, 2, 0, 0, 0]);

    let mut row = Vec::with_capacity(1 + 3 * width as usize);
    row.push(0); // filter type None
    for _ in 0..width {
        row.extend_from_slice(&rgb);
    }
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
    for _ in 0..height {
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(&row);
    }
    let data = encoder.finish().unwrap_or_default();

    let mut png = SIGNATURE.to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// One chunk: length, type, data, CRC-32 of type and data.
fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_valid_small_png_of_the_asked_size() {
        let png = solid_png(1024, 768, [10, 20, 30]);
        assert!(png.starts_with(SIGNATURE));
        assert!(png.len() < 10_000, "{} bytes", png.len());
        let size = imagesize::blob_size(&png).unwrap();
        assert_eq!((size.width, size.height), (1024, 768));
        // The IHDR chunk's CRC is the standard one (checked against a known value).
        let ihdr_crc = u32::from_be_bytes(png[29..33].try_into().unwrap());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&png[12..29]);
        assert_eq!(ihdr_crc, crc.finalize());
        // The pixel data inflates back to height rows of 1 + 3 * width bytes.
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&png[41..41 + idat_len])
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw.len(), 768 * (1 + 3 * 1024));
        assert_eq!(&raw[..4], &[0, 10, 20, 30]);
        assert_eq!(png, solid_png(1024, 768, [10, 20, 30]));
        assert!(png.ends_with(b"IEND\xaeB`\x82"));
    }
}
