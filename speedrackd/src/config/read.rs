//! Reading a settings or tasks file into text: at most [`MAX_FILE_BYTES`], valid UTF-8 (a
//! refusal says where it is not), and nested no deeper than [`MAX_NESTING`]. What the text
//! means is the parsers' business; who may write the file is `file_security`'s.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::ConfigError;
use super::limits::{MAX_FILE_BYTES, MAX_NESTING, bytes_text};
use super::nesting::too_deep;

/// Opens a file to read, non-blocking so that a FIFO in a file's place cannot hang the daemon.
pub fn open(path: &Path) -> Result<File, ConfigError> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// Reads an opened file with a bounded reader, so a huge or endless file costs at most the limit.
pub fn read_text(file: File, path: &Path) -> Result<String, ConfigError> {
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
            limit: bytes_text(MAX_FILE_BYTES),
        });
    }
    let text = decode(bytes, path)?;
    if let Some(line) = too_deep(&text, MAX_NESTING) {
        return Err(invalid(
            path,
            line,
            format!(
                "collections nest deeper than {MAX_NESTING} levels; \
                 flatten the structure (the limit keeps parsing fast)"
            ),
        ));
    }
    Ok(text)
}

fn decode(bytes: Vec<u8>, path: &Path) -> Result<String, ConfigError> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let bytes = error.as_bytes();
        let before = &bytes[..valid];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        let what = match error.utf8_error().error_len() {
            Some(_) => format!("byte 0x{:02x} is not UTF-8", bytes[valid]),
            None => "the file ends inside a UTF-8 character".to_owned(),
        };
        invalid(
            path,
            line,
            format!(
                "{what} (byte {} of the line, {} of the file); save the file as UTF-8",
                valid - line_start + 1,
                valid + 1
            ),
        )
    })
}

fn invalid(path: &Path, line: usize, message: String) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line: Some(line),
        message,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn read_bytes(bytes: &[u8]) -> Result<String, ConfigError> {
        let mut file = tempfile::tempfile().expect("temp file");
        file.write_all(bytes).expect("write");
        std::io::Seek::rewind(&mut file).expect("rewind");
        read_text(file, Path::new("t.yaml"))
    }

    #[test]
    fn invalid_utf8_is_located_by_line_and_byte() {
        let error = read_bytes(b"tasks:\n  - name: caf\xe9\n").expect_err("latin-1");
        assert_eq!(
            error.to_string(),
            "t.yaml:2: byte 0xe9 is not UTF-8 (byte 14 of the line, 21 of the file); \
             save the file as UTF-8"
        );
        let error = read_bytes(b"a: \xe2\x82").expect_err("cut short");
        assert!(
            error
                .to_string()
                .starts_with("t.yaml:1: the file ends inside"),
            "{error}"
        );
    }

    #[test]
    fn deep_nesting_is_refused_naming_the_limit_and_line() {
        let deep = format!(
            "tasks:\n  - {}{}\n",
            "[".repeat(200_000),
            "]".repeat(200_000)
        );
        let error = read_bytes(deep.as_bytes()).expect_err("too deep");
        assert!(
            error
                .to_string()
                .starts_with("t.yaml:2: collections nest deeper than 64 levels"),
            "{error}"
        );
    }

    #[test]
    fn files_past_the_size_limit_are_refused_without_reading_them_whole() {
        let big = vec![b'#'; usize::try_from(MAX_FILE_BYTES).expect("fits") + 1];
        let error = read_bytes(&big).expect_err("too large");
        assert!(error.to_string().contains("larger than 16 MiB"), "{error}");
        let fits = vec![b'#'; usize::try_from(MAX_FILE_BYTES).expect("fits")];
        assert!(read_bytes(&fits).is_ok());
    }
}
