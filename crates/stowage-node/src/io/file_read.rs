//! Positioned reads of local files, one implementation per platform.
//!
//! A positioned read leaves the file's cursor alone, so reads of one open file never
//! disturb each other. Unix has `pread` (`read_exact_at`); Windows has `seek_read`, which
//! may return fewer bytes than asked and moves the cursor (harmless here: every read
//! names its offset).

use std::fs::File;

use crate::error::{StorageFailure, StorageResult};

/// Fill `buf` from `offset` of `file`.
pub fn read_file_range(file: &File, offset: u64, buf: &mut [u8]) -> StorageResult<()> {
    read_exact_at(file, offset, buf)
        .map_err(|err| StorageFailure::generic(format!("reading local file: {err}")))
}

#[cfg(unix)]
fn read_exact_at(file: &File, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut offset: u64, mut buf: &mut [u8]) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file ended before the range did",
                ))
            }
            Ok(read) => {
                buf = &mut buf[read..];
                offset += read as u64;
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_the_range_asked_for_and_fails_past_the_end() {
        let path = std::env::temp_dir().join(format!("stowage-file-read-{}", std::process::id()));
        File::create(&path)
            .unwrap()
            .write_all(b"0123456789")
            .unwrap();
        let file = File::open(&path).unwrap();
        let mut buf = [0u8; 4];
        read_file_range(&file, 3, &mut buf).unwrap();
        assert_eq!(&buf, b"3456");
        read_file_range(&file, 0, &mut buf).unwrap();
        assert_eq!(&buf, b"0123");
        assert!(read_file_range(&file, 8, &mut buf).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
