//! Which IP addresses a fetch may connect to.
//!
//! [`classify`] is deny-by-range: it names the reason an address is not a
//! public unicast address, or returns `None` for one that is. IPv6 is
//! treated as public only inside the global unicast block `2000::/3`, so
//! ranges that IANA adds later outside it are refused without a code change.
//! IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4) are
//! judged by the IPv4 address they carry, since that is where a connection
//! to them ends up.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlockReason {
    /// `0.0.0.0` or `::`; on Linux a connection to it reaches the local host.
    Unspecified,
    /// `0.0.0.0/8`, "this network".
    ThisNetwork,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918: `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `100.64.0.0/10` (RFC 6598), carrier-grade NAT.
    SharedAddressSpace,
    /// `169.254.0.0/16`, `fe80::/10`; home of cloud metadata services
    /// (`169.254.169.254`).
    LinkLocal,
    /// `192.0.0.0/24`, `2001::/23`: IETF protocol assignments (Teredo among them).
    ProtocolAssignments,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `fc00::/7`, IPv6 unique local addresses.
    UniqueLocal,
    /// Anything else outside public unicast: `240/4`, the deprecated 6to4
    /// relay anycast `192.88.99/24`, IPv4-compatible IPv6, local-use NAT64
    /// `64:ff9b:1::/48`, the discard prefix `100::/64`, site-local
    /// `fec0::/10`, and IPv6 outside `2000::/3`.
    Reserved,
    /// An IPv6 address that carries a refused IPv4 address.
    Embedded(Embedding, Ipv4Addr),
}

/// How an IPv6 address carries an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Embedding {
    /// `::ffff:a.b.c.d`.
    Mapped,
    /// `64:ff9b::a.b.c.d` (RFC 6052 well-known NAT64 prefix).
    Nat64,
    /// `2002:aabb:ccdd::/48` (6to4).
    SixToFour,
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            BlockReason::Unspecified => "the unspecified address",
            BlockReason::ThisNetwork => "in \"this network\" (0.0.0.0/8)",
            BlockReason::Loopback => "a loopback address",
            BlockReason::Private => "a private address (RFC 1918)",
            BlockReason::SharedAddressSpace => {
                "in the shared address space (100.64.0.0/10, carrier-grade NAT)"
            }
            BlockReason::LinkLocal => "a link-local address (where cloud metadata services live)",
            BlockReason::ProtocolAssignments => "reserved for IETF protocol assignments",
            BlockReason::Documentation => "reserved for documentation",
            BlockReason::Benchmarking => "reserved for benchmarking",
            BlockReason::Multicast => "a multicast address",
            BlockReason::Broadcast => "the broadcast address",
            BlockReason::UniqueLocal => "a unique local address (fc00::/7)",
            BlockReason::Reserved => "a reserved address, not public unicast",
            BlockReason::Embedded(how, v4) => {
                let how = match how {
                    Embedding::Mapped => "an IPv4-mapped",
                    Embedding::Nat64 => "a NAT64",
                    Embedding::SixToFour => "a 6to4",
                };
                // An embedded address is only reported when its IPv4 part is refused.
                let inner = classify_v4(*v4).unwrap_or(BlockReason::Reserved);
                return write!(f, "{how} form of {v4}, which is {inner}");
            }
        };
        f.write_str(text)
    }
}

/// Why `ip` may not be fetched from by default, or `None` for a public
/// unicast address.
pub fn classify(ip: IpAddr) -> Option<BlockReason> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> Option<BlockReason> {
    use BlockReason::*;
    const TABLE: &[([u8; 4], u32, BlockReason)] = &[
        ([0, 0, 0, 0], 32, Unspecified),
        ([0, 0, 0, 0], 8, ThisNetwork),
        ([10, 0, 0, 0], 8, Private),
        ([100, 64, 0, 0], 10, SharedAddressSpace),
        ([127, 0, 0, 0], 8, Loopback),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([172, 16, 0, 0], 12, Private),
        ([192, 0, 0, 0], 24, ProtocolAssignments),
        ([192, 0, 2, 0], 24, Documentation),
        ([192, 88, 99, 0], 24, Reserved),
        ([192, 168, 0, 0], 16, Private),
        ([198, 18, 0, 0], 15, Benchmarking),
        ([198, 51, 100, 0], 24, Documentation),
        ([203, 0, 113, 0], 24, Documentation),
        ([224, 0, 0, 0], 4, Multicast),
        ([255, 255, 255, 255], 32, Broadcast),
        ([240, 0, 0, 0], 4, Reserved),
    ];
    TABLE
        .iter()
        .find(|(net, prefix, _)| in_v4(ip, *net, *prefix))
        .map(|&(_, _, reason)| reason)
}

fn classify_v6(ip: Ipv6Addr) -> Option<BlockReason> {
    use BlockReason::*;
    if ip.is_unspecified() {
        return Some(Unspecified);
    }
    if ip.is_loopback() {
        return Some(Loopback);
    }
    let embedded = |how: Embedding, v4: Ipv4Addr| classify_v4(v4).map(|_| Embedded(how, v4));
    let seg = ip.segments();
    if in_v6(ip, [0, 0, 0, 0, 0, 0xffff, 0, 0], 96) {
        return embedded(Embedding::Mapped, v4_from_low_bits(ip));
    }
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return embedded(Embedding::Nat64, v4_from_low_bits(ip));
    }
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        let v4 = Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        );
        return embedded(Embedding::SixToFour, v4);
    }
    const TABLE: &[([u16; 8], u32, BlockReason)] = &[
        ([0, 0, 0, 0, 0, 0, 0, 0], 96, Reserved), // IPv4-compatible, deprecated
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, Reserved),
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, Reserved),
        ([0x2001, 0x2, 0, 0, 0, 0, 0, 0], 48, Benchmarking),
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, Documentation),
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, ProtocolAssignments),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, Documentation),
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, UniqueLocal),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, LinkLocal),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, Reserved),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, Multicast),
    ];
    if let Some(&(_, _, reason)) = TABLE
        .iter()
        .find(|(net, prefix, _)| in_v6(ip, *net, *prefix))
    {
        return Some(reason);
    }
    if !in_v6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        return Some(Reserved);
    }
    None
}

fn v4_from_low_bits(ip: Ipv6Addr) -> Ipv4Addr {
    let o = ip.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

/// An address block on the allow-list: `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`.
///
/// An IPv4 block also matches the IPv4-mapped IPv6 form of its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpCidr {
    addr: IpAddr,
    prefix: u8,
}

impl IpCidr {
    /// The block of `prefix` leading bits of `addr`; `None` if `prefix` is
    /// longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpCidr> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(IpCidr { addr, prefix })
    }

    /// The first address of the block as given.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` lies in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let prefix = u32::from(self.prefix);
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => in_v4(ip, net.octets(), prefix),
            (IpAddr::V6(net), _) => match ip {
                IpAddr::V6(ip) => in_v6(ip, net.segments(), prefix),
                IpAddr::V4(_) => false,
            },
            (IpAddr::V4(_), IpAddr::V6(_)) => false,
        }
    }
}

impl From<IpAddr> for IpCidr {
    fn from(addr: IpAddr) -> IpCidr {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        IpCidr { addr, prefix }
    }
}

impl From<Ipv4Addr> for IpCidr {
    fn from(addr: Ipv4Addr) -> IpCidr {
        IpCidr::from(IpAddr::V4(addr))
    }
}

impl From<Ipv6Addr> for IpCidr {
    fn from(addr: Ipv6Addr) -> IpCidr {
        IpCidr::from(IpAddr::V6(addr))
    }
}

impl fmt::Display for IpCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A string that is not an address or an address block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address block {input:?}: expected an IP address, optionally with /prefix")]
pub struct ParseCidrError {
    input: String,
}

impl FromStr for IpCidr {
    type Err = ParseCidrError;

    fn from_str(s: &str) -> Result<IpCidr, ParseCidrError> {
        let err = || ParseCidrError {
            input: s.to_owned(),
        };
        match s.split_once('/') {
            None => s.parse::<IpAddr>().map(IpCidr::from).map_err(|_| err()),
            Some((addr, prefix)) => {
                let addr: IpAddr = addr.parse().map_err(|_| err())?;
                // Only plain decimal digits: no sign, no whitespace.
                if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err());
                }
                let prefix: u8 = prefix.parse().map_err(|_| err())?;
                IpCidr::new(addr, prefix).ok_or_else(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<BlockReason> {
        classify(s.parse().expect("test addresses parse"))
    }

    #[test]
    fn classifies_the_table() {
        use BlockReason::*;
        let table: &[(&str, Option<BlockReason>)] = &[
            // IPv4 public
            ("1.1.1.1", None),
            ("8.8.8.8", None),
            ("93.184.215.14", None),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("172.15.255.255", None),
            ("172.32.0.0", None),
            ("192.0.1.255", None),
            ("192.169.0.1", None),
            ("198.17.255.255", None),
            ("198.20.0.0", None),
            ("223.255.255.255", None),
            // IPv4 refused
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(ThisNetwork)),
            ("10.0.0.1", Some(Private)),
            ("10.255.255.255", Some(Private)),
            ("100.64.0.1", Some(SharedAddressSpace)),
            ("100.127.255.255", Some(SharedAddressSpace)),
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.254", Some(Loopback)),
            ("169.254.169.254", Some(LinkLocal)),
            ("169.254.0.1", Some(LinkLocal)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.0.0.170", Some(ProtocolAssignments)),
            ("192.0.2.1", Some(Documentation)),
            ("192.88.99.1", Some(Reserved)),
            ("192.168.1.1", Some(Private)),
            ("198.18.0.1", Some(Benchmarking)),
            ("198.19.255.255", Some(Benchmarking)),
            ("198.51.100.7", Some(Documentation)),
            ("203.0.113.9", Some(Documentation)),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.250", Some(Multicast)),
            ("240.0.0.1", Some(Reserved)),
            ("255.255.255.254", Some(Reserved)),
            ("255.255.255.255", Some(Broadcast)),
            // IPv6 public
            ("2606:4700:4700::1111", None),
            ("2a00:1450:4001:82a::200e", None),
            ("2001:4860:4860::8888", None),
            // IPv6 refused
            ("::", Some(Unspecified)),
            ("::1", Some(Loopback)),
            ("::2", Some(Reserved)),
            ("::7f00:1", Some(Reserved)),
            ("100::1", Some(Reserved)),
            ("2001::1", Some(ProtocolAssignments)),
            (
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                Some(ProtocolAssignments),
            ),
            ("2001:2::1", Some(Benchmarking)),
            ("2001:db8::1", Some(Documentation)),
            ("3fff::1", Some(Documentation)),
            ("64:ff9b:1::1", Some(Reserved)),
            ("fc00::1", Some(UniqueLocal)),
            ("fd12:3456:789a::1", Some(UniqueLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("febf::1", Some(LinkLocal)),
            ("fec0::1", Some(Reserved)),
            ("ff02::1", Some(Multicast)),
            ("4000::1", Some(Reserved)),
            ("1::1", Some(Reserved)),
            // IPv6 carrying IPv4
            (
                "::ffff:127.0.0.1",
                Some(Embedded(Embedding::Mapped, Ipv4Addr::LOCALHOST)),
            ),
            (
                "::ffff:169.254.169.254",
                Some(Embedded(
                    Embedding::Mapped,
                    Ipv4Addr::new(169, 254, 169, 254),
                )),
            ),
            (
                "::ffff:10.1.2.3",
                Some(Embedded(Embedding::Mapped, Ipv4Addr::new(10, 1, 2, 3))),
            ),
            ("::ffff:8.8.8.8", None),
            (
                "64:ff9b::7f00:1",
                Some(Embedded(Embedding::Nat64, Ipv4Addr::LOCALHOST)),
            ),
            ("64:ff9b::808:808", None),
            (
                "2002:7f00:1::1",
                Some(Embedded(Embedding::SixToFour, Ipv4Addr::LOCALHOST)),
            ),
            (
                "2002:c0a8:101::1",
                Some(Embedded(
                    Embedding::SixToFour,
                    Ipv4Addr::new(192, 168, 1, 1),
                )),
            ),
            ("2002:808:808::1", None),
        ];
        for (addr, want) in table {
            assert_eq!(reason(addr), *want, "{addr}");
        }
    }

    #[test]
    fn std_agrees_where_it_has_an_opinion() {
        // Every address std calls loopback, private, link-local, multicast or
        // unspecified must be refused here too.
        let samples = [
            "127.0.0.1",
            "10.9.8.7",
            "172.20.0.1",
            "192.168.0.1",
            "169.254.1.1",
            "224.1.1.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "ff05::2",
        ];
        for s in samples {
            let ip: IpAddr = s.parse().expect("test addresses parse");
            assert!(classify(ip).is_some(), "{s}");
        }
    }

    #[test]
    fn reasons_read_well() {
        assert_eq!(
            reason("::ffff:127.0.0.1").map(|r| r.to_string()).as_deref(),
            Some("an IPv4-mapped form of 127.0.0.1, which is a loopback address")
        );
        assert_eq!(
            reason("169.254.169.254").map(|r| r.to_string()).as_deref(),
            Some("a link-local address (where cloud metadata services live)")
        );
    }

    #[test]
    fn cidr_parses_and_matches() {
        let c: IpCidr = "10.0.0.0/8".parse().expect("valid");
        assert!(c.contains("10.200.3.4".parse().expect("valid")));
        assert!(!c.contains("11.0.0.1".parse().expect("valid")));
        assert!(c.contains("::ffff:10.0.0.1".parse().expect("valid")));
        let one: IpCidr = "127.0.0.1".parse().expect("valid");
        assert_eq!(one.prefix(), 32);
        assert!(one.contains("127.0.0.1".parse().expect("valid")));
        assert!(!one.contains("127.0.0.2".parse().expect("valid")));
        let v6: IpCidr = "fd00::/8".parse().expect("valid");
        assert!(v6.contains("fd12::1".parse().expect("valid")));
        assert!(!v6.contains("10.0.0.1".parse().expect("valid")));
        let all: IpCidr = "0.0.0.0/0".parse().expect("valid");
        assert!(all.contains("8.8.8.8".parse().expect("valid")));
        assert_eq!(all.to_string(), "0.0.0.0/0");
        for bad in [
            "",
            "/8",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/+8",
            "10.0.0.0/ 8",
            "x",
            "10.0.0.0/8/8",
        ] {
            assert!(bad.parse::<IpCidr>().is_err(), "{bad:?}");
        }
    }
}
