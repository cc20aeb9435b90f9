//! Scanning a process's memory for secrets it must not hold.
//!
//! Used to prove that a client never receives private key bytes: the
//! scanner reads every readable mapping of a process (from
//! `/proc/<pid>/maps`, through `/proc/<pid>/mem`) and looks for needles.
//! A needle is kept only as `needle XOR mask` together with the mask, and
//! windows are compared as `(byte ^ mask[i]) == masked[i]`, so the scanner
//! never puts the needle itself in memory and cannot find its own copy.
//! Always pair a scan with a positive control (a needle planted on purpose
//! must be found) so that "no hits" means something.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::os::unix::fs::FileExt;

/// Bytes read from the target per read call.
const CHUNK: usize = 1 << 20;

/// A needle held only in masked form.
#[derive(Clone)]
pub struct MaskedNeedle {
    label: String,
    masked: Vec<u8>,
    mask: Vec<u8>,
}

impl core::fmt::Debug for MaskedNeedle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "MaskedNeedle({}, {} bytes)",
            self.label,
            self.masked.len()
        )
    }
}

impl MaskedNeedle {
    /// A needle given as `needle XOR mask` and `mask` (equal, non-zero lengths).
    pub fn new(label: impl Into<String>, masked: Vec<u8>, mask: Vec<u8>) -> Self {
        assert_eq!(
            masked.len(),
            mask.len(),
            "mask and masked needle differ in length"
        );
        assert!(!masked.is_empty(), "empty needle");
        Self {
            label: label.into(),
            masked,
            mask,
        }
    }

    /// Masks a needle the caller holds anyway (positive controls).
    pub fn from_plain(label: impl Into<String>, needle: &[u8], mask: Vec<u8>) -> Self {
        let masked = needle.iter().zip(&mask).map(|(n, m)| n ^ m).collect();
        Self::new(label, masked, mask)
    }

    /// The needle's lowercase ASCII hex encoding, masked with `mask` (twice
    /// the length), computed one byte at a time so that neither the needle
    /// nor its hex form is ever assembled.
    pub fn hex_form(&self, label: impl Into<String>, mask: Vec<u8>) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        assert_eq!(
            mask.len(),
            2 * self.masked.len(),
            "hex mask must be twice as long"
        );
        let mut masked = Vec::with_capacity(mask.len());
        for (i, (m, k)) in self.masked.iter().zip(&self.mask).enumerate() {
            let byte = core::hint::black_box(m ^ k);
            masked.push(HEX[usize::from(byte >> 4)] ^ mask[2 * i]);
            masked.push(HEX[usize::from(byte & 15)] ^ mask[2 * i + 1]);
        }
        Self::new(label, masked, mask)
    }

    /// The needle's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.masked.len()
    }

    /// Always false (needles are never empty).
    pub fn is_empty(&self) -> bool {
        self.masked.is_empty()
    }

    /// True when `window` starts with the needle.
    pub fn matches(&self, window: &[u8]) -> bool {
        window.len() >= self.masked.len()
            && window
                .iter()
                .zip(self.mask.iter().zip(&self.masked))
                .all(|(b, (m, x))| (b ^ m) == *x)
    }

    /// Offsets of every occurrence in `haystack`.
    pub fn find_all(&self, haystack: &[u8]) -> Vec<usize> {
        let n = self.masked.len();
        if haystack.len() < n {
            return Vec::new();
        }
        let (m0, x0) = (self.mask[0], self.masked[0]);
        (0..=haystack.len() - n)
            .filter(|&i| (haystack[i] ^ m0) == x0 && self.matches(&haystack[i..]))
            .collect()
    }
}

/// One occurrence of a needle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The needle's label.
    pub needle: String,
    /// Virtual address in the scanned process.
    pub address: u64,
    /// The mapping it was found in (`/proc/<pid>/maps` line).
    pub mapping: String,
}

/// What a scan covered and found.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    /// Readable mappings scanned.
    pub regions_scanned: usize,
    /// Readable mappings that could not be read (e.g. `[vvar]`).
    pub regions_unreadable: usize,
    /// Bytes examined.
    pub bytes_scanned: u64,
    /// Every occurrence found.
    pub hits: Vec<Hit>,
}

impl ScanReport {
    /// The hits of one needle.
    pub fn hits_of<'a>(&'a self, label: &'a str) -> impl Iterator<Item = &'a Hit> + 'a {
        self.hits.iter().filter(move |h| h.needle == label)
    }
}

/// Scans every readable mapping of process `pid` (`None`: this process).
/// Reading another process needs ptrace-read permission on it (same uid and
/// dumpable, or root).
pub fn scan_process(pid: Option<u32>, needles: &[MaskedNeedle]) -> io::Result<ScanReport> {
    let proc_dir = match pid {
        Some(p) => format!("/proc/{p}"),
        None => "/proc/self".to_owned(),
    };
    let maps = BufReader::new(File::open(format!("{proc_dir}/maps"))?);
    let mem = File::open(format!("{proc_dir}/mem"))?;
    let longest = needles.iter().map(MaskedNeedle::len).max().unwrap_or(1);
    let mut report = ScanReport::default();
    let mut buf = vec![0u8; CHUNK + longest];
    for line in maps.lines() {
        let line = line?;
        let Some((start, end, perms)) = parse_maps_line(&line) else {
            continue;
        };
        if !perms.starts_with('r') || line.ends_with("[vvar]") || line.ends_with("[vvar_vclock]") {
            continue;
        }
        match scan_region(
            &mem,
            start,
            end,
            needles,
            longest,
            &mut buf,
            &line,
            &mut report,
        ) {
            Ok(bytes) => {
                report.regions_scanned += 1;
                report.bytes_scanned += bytes;
            }
            Err(_) => report.regions_unreadable += 1,
        }
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn scan_region(
    mem: &File,
    start: u64,
    end: u64,
    needles: &[MaskedNeedle],
    longest: usize,
    buf: &mut [u8],
    mapping: &str,
    report: &mut ScanReport,
) -> io::Result<u64> {
    let mut pos = start;
    let mut scanned = 0u64;
    while pos < end {
        // Read a chunk plus enough overlap to catch needles across chunks.
        let want = usize::try_from((end - pos).min((CHUNK + longest - 1) as u64)).unwrap_or(CHUNK);
        let got = read_fully(mem, &mut buf[..want], pos)?;
        if got == 0 {
            break;
        }
        let window = &buf[..got];
        for needle in needles {
            for offset in needle.find_all(window) {
                let address = pos + offset as u64;
                // Hits that start in the overlap are reported by the next chunk.
                if offset < CHUNK || got < want {
                    report.hits.push(Hit {
                        needle: needle.label.clone(),
                        address,
                        mapping: mapping.to_owned(),
                    });
                }
            }
        }
        let advance = got.min(CHUNK) as u64;
        scanned += advance;
        pos += advance;
        if got < want {
            break;
        }
    }
    Ok(scanned)
}

fn read_fully(mem: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match mem.read_at(&mut buf[got..], at + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if got > 0 => {
                let _ = e;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn parse_maps_line(line: &str) -> Option<(u64, u64, &str)> {
    let mut fields = line.split_ascii_whitespace();
    let (start, end) = fields.next()?.split_once('-')?;
    let perms = fields.next()?;
    Some((
        u64::from_str_radix(start, 16).ok()?,
        u64::from_str_radix(end, 16).ok()?,
        perms,
    ))
}

#[cfg(test)]
mod tests;
