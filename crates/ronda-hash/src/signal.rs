//! Signal types and the newtypes for their values.
//!
//! Signal types are a closed enum inside the code; on the wire they are the
//! names python-threatexchange uses (`pdq`, `md5`, `video_md5`, `url`,
//! `raw_text`, `vpdq`), plus Ronda's own where none exists.

use std::fmt;
use std::str::FromStr;

/// Why a signal string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseSignalError {
    #[error("unknown signal type {0:?}")]
    UnknownType(String),
    #[error("{0} values cannot be given as a single string here")]
    Unsupported(SignalType),
    #[error("empty {0} value")]
    Empty(SignalType),
    #[error("invalid url: {0}")]
    Url(String),
    #[error("missing value after the signal type")]
    MissingValue,
    #[error("expected {expected} hex digits, got {got} characters")]
    Length { expected: usize, got: usize },
    #[error("not a hex digit at position {0}")]
    NotHex(usize),
    #[error(transparent)]
    Vpdq(#[from] crate::vpdq::ParseVpdqError),
}

/// Every signal type Ronda knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SignalType {
    /// PDQ perceptual image hash, 64 hex digits.
    Pdq,
    /// MD5 of an image or other file's bytes.
    Md5,
    /// SHA-256 of a file's bytes.
    Sha256,
    /// MD5 of a video file's bytes (python-threatexchange's `video_md5`).
    VideoMd5,
    /// vPDQ: PDQ of sampled video frames.
    Vpdq,
    /// A canonical URL.
    Url,
    /// Raw text, matched after normalisation.
    RawText,
    /// SHA-256 of normalised text.
    TextSha256,
    /// MinHash signature of normalised text.
    TextMinhash,
}

impl SignalType {
    pub const ALL: [SignalType; 9] = [
        SignalType::Pdq,
        SignalType::Md5,
        SignalType::Sha256,
        SignalType::VideoMd5,
        SignalType::Vpdq,
        SignalType::Url,
        SignalType::RawText,
        SignalType::TextSha256,
        SignalType::TextMinhash,
    ];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalType::Pdq => "pdq",
            SignalType::Md5 => "md5",
            SignalType::Sha256 => "sha256",
            SignalType::VideoMd5 => "video_md5",
            SignalType::Vpdq => "vpdq",
            SignalType::Url => "url",
            SignalType::RawText => "raw_text",
            SignalType::TextSha256 => "text_sha256",
            SignalType::TextMinhash => "text_minhash",
        }
    }
}

impl fmt::Display for SignalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignalType {
    type Err = ParseSignalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SignalType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| ParseSignalError::UnknownType(s.to_owned()))
    }
}

/// One signal value, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Pdq(PdqHash),
    Md5(Md5Digest),
    Sha256(Sha256Digest),
    VideoMd5(Md5Digest),
    /// The frames of a video, in python-threatexchange's text form.
    Vpdq(crate::vpdq::Vpdq),
    Url(crate::url::CanonicalUrl),
    RawText(String),
    TextSha256(Sha256Digest),
}

impl Signal {
    pub fn signal_type(&self) -> SignalType {
        match self {
            Signal::Pdq(_) => SignalType::Pdq,
            Signal::Md5(_) => SignalType::Md5,
            Signal::Sha256(_) => SignalType::Sha256,
            Signal::VideoMd5(_) => SignalType::VideoMd5,
            Signal::Vpdq(_) => SignalType::Vpdq,
            Signal::Url(_) => SignalType::Url,
            Signal::RawText(_) => SignalType::RawText,
            Signal::TextSha256(_) => SignalType::TextSha256,
        }
    }

    /// Parses `value` as a signal of type `signal_type`. URLs are
    /// canonicalised; raw text is kept as given (it is normalised when
    /// hashed).
    pub fn parse(signal_type: SignalType, value: &str) -> Result<Signal, ParseSignalError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(ParseSignalError::Empty(signal_type));
        }
        Ok(match signal_type {
            SignalType::Pdq => Signal::Pdq(value.parse()?),
            SignalType::Md5 => Signal::Md5(value.parse()?),
            SignalType::Sha256 => Signal::Sha256(value.parse()?),
            SignalType::VideoMd5 => Signal::VideoMd5(value.parse()?),
            SignalType::TextSha256 => Signal::TextSha256(value.parse()?),
            SignalType::Url => Signal::Url(
                crate::url::canonicalize(value)
                    .map_err(|e| ParseSignalError::Url(e.to_string()))?,
            ),
            SignalType::RawText => Signal::RawText(value.to_owned()),
            SignalType::Vpdq => Signal::Vpdq(value.parse()?),
            t @ SignalType::TextMinhash => {
                return Err(ParseSignalError::Unsupported(t));
            }
        })
    }

    /// Parses one line of a ThreatExchange `local_file`: `<signal_type> <value>`,
    /// split at the first run of whitespace (raw text keeps its inner spaces).
    pub fn parse_line(line: &str) -> Result<Signal, ParseSignalError> {
        let line = line.trim();
        let (ty, value) = line
            .split_once(char::is_whitespace)
            .ok_or(ParseSignalError::MissingValue)?;
        Signal::parse(ty.parse()?, value)
    }

    /// The value as a string, the form it has on the wire.
    pub fn value(&self) -> String {
        match self {
            Signal::Pdq(h) => h.to_string(),
            Signal::Md5(h) | Signal::VideoMd5(h) => h.to_string(),
            Signal::Sha256(h) | Signal::TextSha256(h) => h.to_string(),
            Signal::Url(u) => u.as_str().to_owned(),
            Signal::RawText(t) => t.clone(),
            Signal::Vpdq(v) => v.to_string(),
        }
    }
}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseSignalError> {
    if s.len() != 2 * N {
        return Err(ParseSignalError::Length {
            expected: 2 * N,
            got: s.chars().count(),
        });
    }
    let mut out = [0u8; N];
    for (i, pair) in s.as_bytes().chunks_exact(2).enumerate() {
        let hi = hex_val(pair[0]).ok_or(ParseSignalError::NotHex(2 * i))?;
        let lo = hex_val(pair[1]).ok_or(ParseSignalError::NotHex(2 * i + 1))?;
        out[i] = hi << 4 | lo;
    }
    Ok(out)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

macro_rules! hex_newtype {
    ($(#[$doc:meta])* $name:ident, $n:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $n]);

        impl $name {
            pub const BYTES: usize = $n;

            pub fn as_bytes(&self) -> &[u8; $n] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = ParseSignalError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex::<$n>(s.trim()).map($name)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_newtype!(
    /// A 256-bit PDQ hash. Byte 0 holds the first two hex digits of the
    /// canonical 64-digit form (the form python-threatexchange, HMA and
    /// `expected.csv` print), so `bytes.fromhex(hex)` gives the same bytes.
    PdqHash,
    32
);
hex_newtype!(
    /// An MD5 digest.
    Md5Digest,
    16
);
hex_newtype!(
    /// A SHA-256 digest.
    Sha256Digest,
    32
);

impl PdqHash {
    /// Hamming distance: the number of differing bits.
    pub fn distance(&self, other: &PdqHash) -> u32 {
        let a = self.words();
        let b = other.words();
        (0..4).map(|i| (a[i] ^ b[i]).count_ones()).sum()
    }

    /// The hash as four 64-bit words (big-endian within each word, so word 0
    /// is the first 16 hex digits).
    pub fn words(&self) -> [u64; 4] {
        let mut w = [0u64; 4];
        for (i, c) in self.0.chunks_exact(8).enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            w[i] = u64::from_be_bytes(b);
        }
        w
    }

    /// Bit `i` in the reference's numbering: bit `i` is bit `i % 16` of the
    /// 16-bit word `i / 16`, and the hex form prints word 15 first.
    pub fn bit(&self, i: usize) -> bool {
        let word = i / 16;
        let byte = 31 - (2 * word + (i % 16) / 8);
        self.0[byte] >> (i % 8) & 1 == 1
    }

    /// The hash whose bits are `bits` in the reference's numbering.
    pub fn from_bits(bits: &[bool; 256]) -> PdqHash {
        let mut out = [0u8; 32];
        for (i, &b) in bits.iter().enumerate() {
            if b {
                let word = i / 16;
                let byte = 31 - (2 * word + (i % 16) / 8);
                out[byte] |= 1 << (i % 8);
            }
        }
        PdqHash(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        let h = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let p: PdqHash = h.parse().unwrap();
        assert_eq!(p.to_string(), h);
        assert_eq!(p.0[0], 0xf8);
        assert_eq!(
            "abc".parse::<PdqHash>(),
            Err(ParseSignalError::Length {
                expected: 64,
                got: 3
            })
        );
        let bad = format!("{}g", &h[..63]);
        assert_eq!(bad.parse::<PdqHash>(), Err(ParseSignalError::NotHex(63)));
        // A multi-byte character must not panic on slicing.
        let uni = format!("{}é", &h[..62]);
        assert!(uni.parse::<PdqHash>().is_err());
    }

    #[test]
    fn bit_numbering_matches_reference_hex() {
        // Bit 0 is the lowest bit of the last hex digit.
        let mut bits = [false; 256];
        bits[0] = true;
        bits[255] = true;
        let h = PdqHash::from_bits(&bits);
        assert_eq!(
            h.to_string(),
            "8000000000000000000000000000000000000000000000000000000000000001"
        );
        assert!(h.bit(0) && h.bit(255) && !h.bit(1));
    }

    #[test]
    fn distance() {
        let a: PdqHash = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
            .parse()
            .unwrap();
        let b: PdqHash = "f8f8f0cee0f4a84f06370a2a038f63f0b36e26d596621e1d33e6b39c4e9c9b22"
            .parse()
            .unwrap();
        assert_eq!(a.distance(&a), 0);
        assert_eq!(a.distance(&b), 2);
        assert_eq!(b.distance(&a), 2);
    }

    #[test]
    fn parses_local_file_lines() {
        let pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        assert_eq!(
            Signal::parse_line(&format!("pdq {pdq}")),
            Ok(Signal::Pdq(pdq.parse().unwrap()))
        );
        let text = Signal::parse_line("raw_text  two words\t").unwrap();
        assert_eq!(text, Signal::RawText("two words".into()));
        let url = Signal::parse_line("url HTTP://Example.com/a/").unwrap();
        assert_eq!(url.value(), "https://example.com/a");
        assert_eq!(
            Signal::parse_line("pdq"),
            Err(ParseSignalError::MissingValue)
        );
        assert_eq!(
            Signal::parse_line("photo abc"),
            Err(ParseSignalError::UnknownType("photo".into()))
        );
        assert!(matches!(
            Signal::parse_line("md5 xyz"),
            Err(ParseSignalError::Length { .. })
        ));
        assert!(matches!(
            Signal::parse_line("url mailto:a@b.example"),
            Err(ParseSignalError::Url(_))
        ));
        assert!(matches!(
            Signal::parse_line("vpdq 1,2,3"),
            Err(ParseSignalError::Vpdq(_))
        ));
        let vpdq = format!("[\"{pdq},100,0.0\", \"{pdq},87,1.0\"]");
        let line = Signal::parse_line(&format!("vpdq {vpdq}")).unwrap();
        assert_eq!(line.signal_type(), SignalType::Vpdq);
        assert_eq!(line.value(), vpdq);
    }

    #[test]
    fn signal_type_names_round_trip() {
        for t in SignalType::ALL {
            assert_eq!(t.as_str().parse::<SignalType>(), Ok(t));
        }
        assert!("photo".parse::<SignalType>().is_err());
    }
}
