//! Which IP addresses an image download may connect to.
//!
//! Fetching a client's `image_url` is a request the gateway makes on the client's behalf from
//! inside the VPC or Lambda sandbox, so an address that is not on the public internet is refused:
//! loopback (the Lambda runtime API listens there), private and CGNAT networks, link-local
//! (the instance metadata service at 169.254.169.254 hands out the function's credentials) and
//! every other special-purpose range. IPv4 is refused by range; IPv6 is refused unless it is
//! global unicast (2000::/3) outside its special-purpose blocks, and IPv6 forms that carry an
//! IPv4 address (mapped, NAT64) are judged by that IPv4 address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused. The names appear in client-facing error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockedRange {
    /// 169.254.169.254 and fd00:ec2::254: the instance metadata service.
    CloudMetadata,
    /// 0.0.0.0/8 and `::`.
    Unspecified,
    /// 127.0.0.0/8 and `::1`.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16.
    Private,
    /// 100.64.0.0/10 (carrier-grade NAT; Alibaba's metadata service lives here).
    SharedAddressSpace,
    /// 169.254.0.0/16 and fe80::/10.
    LinkLocal,
    /// 224.0.0.0/4 and ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 198.18.0.0/15 and 2001:2::/48.
    Benchmarking,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// fc00::/7 (IPv6 unique local addresses).
    UniqueLocal,
    /// Everything else that is not public: IETF protocol blocks, 240/4, 6to4, Teredo,
    /// IPv4-compatible IPv6, site-local, discard-only, unassigned IPv6 space.
    Reserved,
}

impl fmt::Display for BlockedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockedRange::CloudMetadata => "a cloud metadata service address",
            BlockedRange::Unspecified => "an unspecified address",
            BlockedRange::Loopback => "a loopback address",
            BlockedRange::Private => "a private network address",
            BlockedRange::SharedAddressSpace => "a carrier-grade NAT address (100.64.0.0/10)",
            BlockedRange::LinkLocal => "a link-local address",
            BlockedRange::Multicast => "a multicast address",
            BlockedRange::Broadcast => "the broadcast address",
            BlockedRange::Benchmarking => "a benchmarking address",
            BlockedRange::Documentation => "a documentation address",
            BlockedRange::UniqueLocal => "an IPv6 unique local address",
            BlockedRange::Reserved => "a reserved or special-purpose address",
        })
    }
}

/// IPv4 ranges refused, most specific first (the metadata address sits inside link-local).
const IPV4_BLOCKED: &[(Ipv4Addr, u8, BlockedRange)] = &[
    (
        Ipv4Addr::new(169, 254, 169, 254),
        32,
        BlockedRange::CloudMetadata,
    ),
    (
        Ipv4Addr::new(255, 255, 255, 255),
        32,
        BlockedRange::Broadcast,
    ),
    (Ipv4Addr::new(0, 0, 0, 0), 8, BlockedRange::Unspecified),
    (Ipv4Addr::new(10, 0, 0, 0), 8, BlockedRange::Private),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        BlockedRange::SharedAddressSpace,
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, BlockedRange::Loopback),
    (Ipv4Addr::new(169, 254, 0, 0), 16, BlockedRange::LinkLocal),
    (Ipv4Addr::new(172, 16, 0, 0), 12, BlockedRange::Private),
    (Ipv4Addr::new(192, 0, 0, 0), 24, BlockedRange::Reserved),
    (Ipv4Addr::new(192, 0, 2, 0), 24, BlockedRange::Documentation),
    (Ipv4Addr::new(192, 88, 99, 0), 24, BlockedRange::Reserved),
    (Ipv4Addr::new(192, 168, 0, 0), 16, BlockedRange::Private),
    (Ipv4Addr::new(198, 18, 0, 0), 15, BlockedRange::Benchmarking),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        BlockedRange::Documentation,
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        BlockedRange::Documentation,
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, BlockedRange::Multicast),
    (Ipv4Addr::new(240, 0, 0, 0), 4, BlockedRange::Reserved),
];

/// Special-purpose blocks inside IPv6 global unicast (2000::/3), most specific first.
const IPV6_GLOBAL_BLOCKED: &[(Ipv6Addr, u8, BlockedRange)] = &[
    (
        Ipv6Addr::new(0x2001, 0x2, 0, 0, 0, 0, 0, 0),
        48,
        BlockedRange::Benchmarking,
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        BlockedRange::Documentation,
    ),
    // IETF protocol assignments, Teredo (2001::/32, an obfuscated IPv4 tunnel) and ORCHID.
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        BlockedRange::Reserved,
    ),
    // 6to4: an IPv4 address tunnelled in bits 16..48, relays are unpredictable.
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        BlockedRange::Reserved,
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        BlockedRange::Documentation,
    ),
];

/// Why `ip` must not be connected to, or `None` if it is a public internet address.
pub fn blocked_range(ip: IpAddr) -> Option<BlockedRange> {
    match ip {
        IpAddr::V4(v4) => blocked_ipv4(v4),
        IpAddr::V6(v6) => blocked_ipv6(v6),
    }
}

fn blocked_ipv4(ip: Ipv4Addr) -> Option<BlockedRange> {
    let bits = ip.to_bits();
    IPV4_BLOCKED
        .iter()
        .find(|(network, prefix, _)| in_prefix_v4(bits, network.to_bits(), *prefix))
        .map(|(_, _, range)| *range)
}

fn blocked_ipv6(ip: Ipv6Addr) -> Option<BlockedRange> {
    let bits = ip.to_bits();
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some(BlockedRange::CloudMetadata);
    }
    if ip.is_unspecified() {
        return Some(BlockedRange::Unspecified);
    }
    if ip.is_loopback() {
        return Some(BlockedRange::Loopback);
    }
    // ::ffff:a.b.c.d reaches the IPv4 host a.b.c.d through a dual-stack socket.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_ipv4(v4);
    }
    // 64:ff9b::/96, the well-known NAT64 prefix: a NAT64 gateway forwards to the embedded IPv4.
    let nat64 = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0).to_bits();
    if in_prefix_v6(bits, nat64, 96) {
        return blocked_ipv4(Ipv4Addr::from_bits(bits as u32));
    }
    if in_prefix_v6(bits, 0xfc00 << 112, 7) {
        return Some(BlockedRange::UniqueLocal);
    }
    if in_prefix_v6(bits, 0xfe80 << 112, 10) {
        return Some(BlockedRange::LinkLocal);
    }
    if in_prefix_v6(bits, 0xff00 << 112, 8) {
        return Some(BlockedRange::Multicast);
    }
    if !in_prefix_v6(bits, 0x2000 << 112, 3) {
        // IPv4-compatible (::/96), local-use NAT64, discard-only, site-local, unassigned.
        return Some(BlockedRange::Reserved);
    }
    IPV6_GLOBAL_BLOCKED
        .iter()
        .find(|(network, prefix, _)| in_prefix_v6(bits, network.to_bits(), *prefix))
        .map(|(_, _, range)| *range)
}

fn in_prefix_v4(bits: u32, network: u32, prefix: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    bits & mask == network & mask
}

fn in_prefix_v6(bits: u128, network: u128, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    bits & mask == network & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(ip: &str) -> Option<BlockedRange> {
        blocked_range(ip.parse().expect("test address parses"))
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "52.95.110.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "64:ff9b::808:808",
        ] {
            assert_eq!(range(ip), None, "{ip} is public");
        }
    }

    #[test]
    fn ipv4_special_ranges_are_refused() {
        use BlockedRange::*;
        for (ip, expected) in [
            ("169.254.169.254", CloudMetadata),
            ("169.254.170.2", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", SharedAddressSpace),
            ("100.100.100.200", SharedAddressSpace),
            ("100.127.255.255", SharedAddressSpace),
            ("192.0.0.8", Reserved),
            ("192.0.2.1", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("192.88.99.1", Reserved),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Broadcast),
        ] {
            assert_eq!(range(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn ipv6_special_ranges_are_refused() {
        use BlockedRange::*;
        for (ip, expected) in [
            ("fd00:ec2::254", CloudMetadata),
            ("::", Unspecified),
            ("::1", Loopback),
            ("fe80::1", LinkLocal),
            ("febf:ffff::1", LinkLocal),
            ("fc00::1", UniqueLocal),
            ("fd12:3456::1", UniqueLocal),
            ("fd00:ec2::253", UniqueLocal),
            ("ff02::1", Multicast),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("2001:2::1", Benchmarking),
            ("2001::1", Reserved),
            ("2002:a00:1::", Reserved),
            ("fec0::1", Reserved),
            ("100::1", Reserved),
            ("64:ff9b:1::a00:1", Reserved),
            ("::a00:1", Reserved),
            ("::127.0.0.1", Reserved),
            ("4000::1", Reserved),
        ] {
            assert_eq!(range(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_are_judged_by_the_ipv4_address() {
        use BlockedRange::*;
        for (ip, expected) in [
            ("::ffff:169.254.169.254", CloudMetadata),
            ("::ffff:a9fe:a9fe", CloudMetadata),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:192.168.0.1", Private),
            ("::ffff:100.64.0.1", SharedAddressSpace),
            ("::ffff:0.0.0.0", Unspecified),
            ("64:ff9b::169.254.169.254", CloudMetadata),
            ("64:ff9b::10.0.0.1", Private),
            ("64:ff9b::7f00:1", Loopback),
        ] {
            assert_eq!(range(ip), Some(expected), "{ip}");
        }
        assert_eq!(range("::ffff:8.8.8.8"), None);
    }
}
