//! Cutting the input into pieces of whole lines for the parser threads.

use std::io::Read;

use super::report::ImportError;

/// A piece of input for a parser: the last `# TYPE` line before it (so that
/// `le` and `quantile` values read as they would in one pass), then whole lines.
pub(super) struct Piece {
    pub(super) buf: Vec<u8>,
    /// Bytes of `buf` that are the repeated `# TYPE` line (0 if none yet).
    pub(super) prefix: usize,
}

/// Cuts the input into pieces of whole lines.
pub(super) struct Pieces<'a, R> {
    reader: R,
    input: &'a str,
    piece_bytes: usize,
    /// Bytes read after the last newline of the previous piece.
    tail: Vec<u8>,
    /// The last `# TYPE` line so far, with its newline.
    type_line: Vec<u8>,
    /// Bytes of input read so far.
    offset: u64,
    /// The input has ended: the last piece has been cut.
    pub(super) done: bool,
}

impl<'a, R: Read> Pieces<'a, R> {
    pub(super) fn new(reader: R, input: &'a str, piece_bytes: usize) -> Self {
        Pieces {
            reader,
            input,
            piece_bytes,
            tail: Vec::new(),
            type_line: Vec::new(),
            offset: 0,
            done: false,
        }
    }

    /// The next piece, in `buf` (a recycled buffer). At the end of the input the
    /// piece holds the rest, which may not end with a newline.
    pub(super) fn next(&mut self, mut buf: Vec<u8>) -> Result<Piece, ImportError> {
        buf.clear();
        buf.extend_from_slice(&self.type_line);
        let prefix = buf.len();
        buf.append(&mut self.tail);
        let mut want = prefix + self.piece_bytes;
        loop {
            if buf.len() < want {
                // `read_to_end` through `take` reads into the spare capacity
                // without zeroing it first (a file reads straight into it):
                // zeroing every piece cost 5 % of an import.
                let limit = (want - buf.len()) as u64;
                let n = (&mut self.reader)
                    .take(limit)
                    .read_to_end(&mut buf)
                    .map_err(|source| ImportError::Read {
                        input: self.input.to_owned(),
                        offset: self.offset,
                        source,
                    })?;
                self.offset += n as u64;
                if n == 0 {
                    self.done = true;
                    return Ok(Piece { buf, prefix });
                }
                if buf.len() < want {
                    continue;
                }
            }
            match memchr::memrchr(b'\n', &buf[prefix..]) {
                Some(i) => {
                    let cut = prefix + i + 1;
                    self.tail.extend_from_slice(&buf[cut..]);
                    buf.truncate(cut);
                    if let Some(line) = last_type_line(&buf[prefix..]) {
                        self.type_line.clear();
                        self.type_line.extend_from_slice(line);
                    }
                    return Ok(Piece { buf, prefix });
                }
                // One line longer than a piece: read on until it ends.
                None => want += self.piece_bytes,
            }
        }
    }
}

/// The last line of `lines` (whole lines) that starts with `# TYPE `.
fn last_type_line(lines: &[u8]) -> Option<&[u8]> {
    let mut end = lines.len();
    while let Some(hash) = memchr::memrchr(b'#', &lines[..end]) {
        end = hash;
        if (hash == 0 || lines[hash - 1] == b'\n') && lines[hash..].starts_with(b"# TYPE ") {
            let stop = memchr::memchr(b'\n', &lines[hash..]).map_or(lines.len(), |i| hash + i + 1);
            return Some(&lines[hash..stop]);
        }
    }
    None
}
