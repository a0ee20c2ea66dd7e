//! Block identifiers: ULIDs (a 48-bit millisecond timestamp, then 80 random bits,
//! written as 26 characters of Crockford's base 32), as Prometheus names its block
//! directories, so that directory names sort by creation time.

use std::fmt;
use std::str::FromStr;

/// A block's identity and directory name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockId(u128);

/// Crockford's base 32: no I, L, O, U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid block id {text:?}: {why}")]
pub struct BlockIdError {
    text: String,
    why: &'static str,
}

impl BlockId {
    /// A new id for a block made at `millis` (since the Unix epoch), with random bits
    /// from `rng`.
    pub fn new(millis: u64, rng: &mut fastrand::Rng) -> BlockId {
        let time = u128::from(millis & ((1 << 48) - 1)) << 80;
        let random = u128::from(rng.u64(..)) << 16 | u128::from(rng.u16(..));
        BlockId(time | random)
    }

    /// A new id for a block made now.
    pub fn now() -> BlockId {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        BlockId::new(millis, &mut fastrand::Rng::new())
    }

    /// The creation time it records, in milliseconds since the Unix epoch.
    pub fn millis(&self) -> u64 {
        (self.0 >> 80) as u64
    }
}

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 26 characters of 5 bits: the first holds the top 3 bits of 128.
        let mut out = [0u8; 26];
        for (i, c) in out.iter_mut().enumerate() {
            let shift = 5 * (25 - i);
            *c = ALPHABET[((self.0 >> shift) & 0x1f) as usize];
        }
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl FromStr for BlockId {
    type Err = BlockIdError;

    fn from_str(text: &str) -> Result<BlockId, BlockIdError> {
        let err = |why| BlockIdError {
            text: text.to_owned(),
            why,
        };
        if text.len() != 26 {
            return Err(err("not 26 characters"));
        }
        let mut v: u128 = 0;
        for (i, b) in text.bytes().enumerate() {
            let digit = ALPHABET
                .iter()
                .position(|&a| a == b.to_ascii_uppercase())
                .ok_or_else(|| err("not Crockford base 32"))?;
            if i == 0 && digit > 7 {
                return Err(err("larger than 128 bits"));
            }
            v = v << 5 | digit as u128;
        }
        Ok(BlockId(v))
    }
}

impl serde::Serialize for BlockId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for BlockId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<BlockId, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_order() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut previous: Option<BlockId> = None;
        for millis in [0u64, 1, 1_700_000_000_000, (1 << 48) - 1] {
            let id = BlockId::new(millis, &mut rng);
            let text = id.to_string();
            assert_eq!(text.len(), 26);
            assert_eq!(text.parse::<BlockId>(), Ok(id));
            assert_eq!(id.millis(), millis);
            if let Some(p) = previous {
                // Later creation sorts later, as ids and as directory names.
                assert!(p < id);
                assert!(p.to_string() < text);
            }
            previous = Some(id);
        }
    }

    #[test]
    fn known_ulid() {
        // The ULID specification's example layout: time 1469918176385 ms.
        let id: BlockId = "01ARYZ6S41TSV4RRFFQ69G5FAV".parse().expect("valid");
        assert_eq!(id.millis(), 1_469_918_176_385);
        assert_eq!(id.to_string(), "01ARYZ6S41TSV4RRFFQ69G5FAV");
        assert_eq!("01aryz6s41tsv4rrffq69g5fav".parse::<BlockId>(), Ok(id));
    }

    #[test]
    fn refuses_bad_text() {
        for bad in [
            "",
            "01ARYZ6S41TSV4RRFFQ69G5FA",
            "01ARYZ6S41TSV4RRFFQ69G5FAVX",
            "01ARYZ6S41TSV4RRFFQ69G5FAU",
            "81ARYZ6S41TSV4RRFFQ69G5FAV",
        ] {
            assert!(bad.parse::<BlockId>().is_err(), "{bad}");
        }
    }
}
