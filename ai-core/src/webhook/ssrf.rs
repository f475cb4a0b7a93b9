//! Which addresses a webhook may go to: never loopback, private, link-local, unique-local,
//! multicast, unspecified, broadcast, shared (CGNAT) or cloud-metadata addresses — also when
//! written as IPv4-mapped or IPv4-compatible IPv6 — unless allowed explicitly.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{AiError, ErrorKind, Result};

/// Addresses allowed despite the rules (for example a test receiver on loopback).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allow: Vec<IpAddr>,
}

impl AddressPolicy {
    /// The default: public addresses only.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Also allow `ip`.
    pub fn allow(mut self, ip: IpAddr) -> Self {
        self.allow.push(ip);
        self
    }

    /// Whether `ip` is allowed explicitly.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow.contains(&ip)
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some(if o == [169, 254, 169, 254] {
            "cloud metadata"
        } else {
            "link-local"
        })
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_unspecified() || o[0] == 0 {
        Some("unspecified")
    } else if ip.is_broadcast() {
        Some("broadcast")
    } else if o[0] == 100 && (64..128).contains(&o[1]) {
        Some("shared address space (CGNAT)")
    } else if o[0] >= 240 {
        Some("reserved")
    } else if o == [192, 0, 0, 192] || o == [100, 100, 100, 200] {
        Some("cloud metadata")
    } else {
        None
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    let s = ip.segments();
    // IPv4-compatible (deprecated) ::a.b.c.d, and NAT64 64:ff9b::/96 carry an IPv4 address.
    if s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
        let o = ip.octets();
        return v4_reason(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let o = ip.octets();
        return v4_reason(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some(if s[0] == 0xfd00 && s[1] == 0x0ec2 {
            "cloud metadata"
        } else {
            "unique-local"
        })
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if (s[0] & 0xffc0) == 0xfec0 {
        Some("site-local")
    } else {
        None
    }
}

/// `Ok` when a webhook may connect to `ip`.
///
/// ```
/// use ai_core::webhook::{AddressPolicy, check_address};
/// let p = AddressPolicy::public_only();
/// assert!(check_address("169.254.169.254".parse().unwrap(), &p).is_err());
/// assert!(check_address("::ffff:127.0.0.1".parse().unwrap(), &p).is_err());
/// assert!(check_address("93.184.216.34".parse().unwrap(), &p).is_ok());
/// ```
///
/// # Errors
/// `BadRequest` (code `ssrf_refused`) naming the kind of address.
pub fn check_address(ip: IpAddr, policy: &AddressPolicy) -> Result<()> {
    if policy.allows(ip) {
        return Ok(());
    }
    let reason = match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    };
    match reason {
        None => Ok(()),
        Some(r) => Err(AiError::new(
            ErrorKind::BadRequest,
            format!("webhook target {ip} refused: {r} address"),
        )
        .with_code("ssrf_refused")),
    }
}
