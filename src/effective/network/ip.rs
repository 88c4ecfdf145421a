//! Sets of IP addresses (IPv4 and IPv6), as `ipBlock`s describe them.

use super::ports::PortSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Sorted, disjoint, non-adjacent inclusive ranges of one address family.
type Ranges = Vec<(u128, u128)>;

const V4_MAX: u128 = u32::MAX as u128;

/// A set of addresses: IPv4 and IPv6 ranges kept apart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IpSet {
    v4: Ranges,
    v6: Ranges,
}

fn normalize(mut r: Ranges) -> Ranges {
    r.sort_unstable();
    let mut out: Ranges = Vec::with_capacity(r.len());
    for (lo, hi) in r {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn intersect(a: &Ranges, b: &Ranges) -> Ranges {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let (lo, hi) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

fn complement(a: &Ranges, max: u128) -> Ranges {
    let mut out = Vec::new();
    let mut next = Some(0u128);
    for &(lo, hi) in a {
        if let Some(n) = next {
            if n < lo {
                out.push((n, lo - 1));
            }
        }
        next = hi.checked_add(1);
    }
    if let Some(n) = next {
        if n <= max {
            out.push((n, max));
        }
    }
    out
}

fn mask(k: u32) -> u128 {
    if k >= 128 {
        u128::MAX
    } else {
        (1u128 << k) - 1
    }
}

/// The fewest CIDR blocks `(first address, prefix length)` covering
/// `lo..=hi` exactly, for a family of `bits`-bit addresses.
fn cidr_cover(mut lo: u128, hi: u128, bits: u32) -> Vec<(u128, u32)> {
    let mut out = Vec::new();
    loop {
        // the largest block aligned at `lo` that ends at or before `hi`
        let mut k = lo.trailing_zeros().min(bits);
        while k > 0 && mask(k) > hi - lo {
            k -= 1;
        }
        out.push((lo, bits - k));
        let last = lo + mask(k);
        if last >= hi {
            return out;
        }
        lo = last + 1;
    }
}

impl IpSet {
    pub fn empty() -> Self {
        Self::default()
    }

    /// Every IPv4 and IPv6 address.
    pub fn all() -> Self {
        IpSet {
            v4: vec![(0, V4_MAX)],
            v6: vec![(0, u128::MAX)],
        }
    }

    pub fn single(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => {
                let n = u128::from(u32::from(a));
                IpSet {
                    v4: vec![(n, n)],
                    v6: Vec::new(),
                }
            }
            IpAddr::V6(a) => {
                let n = u128::from(a);
                IpSet {
                    v4: Vec::new(),
                    v6: vec![(n, n)],
                }
            }
        }
    }

    /// `a.b.c.d/n` or `x:y::/n`; host bits set below the prefix are ignored
    /// (as Go's `net.ParseCIDR`, which the API server uses, returns the
    /// network). `None` when malformed.
    pub fn parse_cidr(s: &str) -> Option<IpSet> {
        let (addr, len) = s.trim().split_once('/')?;
        if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) || len.len() > 3 {
            return None;
        }
        let len: u32 = len.parse().ok()?;
        let (value, bits, v6) = match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32, false),
            IpAddr::V6(a) => (u128::from(a), 128, true),
        };
        if len > bits {
            return None;
        }
        let host = bits - len;
        let span = mask(host);
        let lo = value & !span;
        let range = vec![(lo, lo | span)];
        Some(if v6 {
            IpSet {
                v4: Vec::new(),
                v6: range,
            }
        } else {
            IpSet {
                v4: range,
                v6: Vec::new(),
            }
        })
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let (ranges, n) = match addr {
            IpAddr::V4(a) => (&self.v4, u128::from(u32::from(a))),
            IpAddr::V6(a) => (&self.v6, u128::from(a)),
        };
        ranges.iter().any(|&(lo, hi)| lo <= n && n <= hi)
    }

    pub fn union(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: normalize(self.v4.iter().chain(&other.v4).copied().collect()),
            v6: normalize(self.v6.iter().chain(&other.v6).copied().collect()),
        }
    }

    pub fn intersection(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: intersect(&self.v4, &other.v4),
            v6: intersect(&self.v6, &other.v6),
        }
    }

    pub fn difference(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: intersect(&self.v4, &complement(&other.v4, V4_MAX)),
            v6: intersect(&self.v6, &complement(&other.v6, u128::MAX)),
        }
    }

    pub fn is_subset(&self, other: &IpSet) -> bool {
        self.difference(other).is_empty()
    }

    /// IPv4 ranges, inclusive, in address order.
    pub fn v4_ranges(&self) -> impl Iterator<Item = (Ipv4Addr, Ipv4Addr)> + '_ {
        // values in v4 never exceed u32::MAX
        let a = |n: u128| Ipv4Addr::from(u32::try_from(n).unwrap_or(u32::MAX));
        self.v4.iter().map(move |&(lo, hi)| (a(lo), a(hi)))
    }

    /// IPv6 ranges, inclusive, in address order.
    pub fn v6_ranges(&self) -> impl Iterator<Item = (Ipv6Addr, Ipv6Addr)> + '_ {
        self.v6
            .iter()
            .map(|&(lo, hi)| (Ipv6Addr::from(lo), Ipv6Addr::from(hi)))
    }

    /// The fewest CIDR blocks covering exactly this set, IPv4 first.
    pub fn cidrs(&self) -> Vec<String> {
        let mut out = Vec::new();
        for &(lo, hi) in &self.v4 {
            for (start, len) in cidr_cover(lo, hi, 32) {
                let a = Ipv4Addr::from(u32::try_from(start).unwrap_or(u32::MAX));
                out.push(format!("{a}/{len}"));
            }
        }
        for &(lo, hi) in &self.v6 {
            for (start, len) in cidr_cover(lo, hi, 128) {
                out.push(format!("{}/{len}", Ipv6Addr::from(start)));
            }
        }
        out
    }

    /// For people: [`IpSet::cidrs`] comma-joined, except that a family
    /// whose complement takes fewer blocks is written as its whole range
    /// less that complement (`0.0.0.0/0 except 10.0.0.0/8, 169.254.0.0/16`),
    /// as the internet is (in parentheses beside the other family's); `none`
    /// when empty.
    pub fn describe(&self) -> String {
        fn family(
            ranges: &Ranges,
            max: u128,
            bits: u32,
            show: &dyn Fn(u128, u32) -> String,
        ) -> Option<(String, bool)> {
            if ranges.is_empty() {
                return None;
            }
            let blocks: Vec<String> = (ranges.iter())
                .flat_map(|&(lo, hi)| cidr_cover(lo, hi, bits))
                .map(|(a, l)| show(a, l))
                .collect();
            let whole = IpSet::complement(ranges, max);
            let holes: Vec<String> = (whole.iter())
                .flat_map(|&(lo, hi)| cidr_cover(lo, hi, bits))
                .map(|(a, l)| show(a, l))
                .collect();
            if !holes.is_empty() && holes.len() + 1 < blocks.len() {
                Some((format!("{} except {}", show(0, 0), holes.join(", ")), true))
            } else {
                Some((blocks.join(", "), false))
            }
        }
        let v4 = family(&self.v4, V4_MAX, 32, &|a, l| {
            format!(
                "{}/{l}",
                Ipv4Addr::from(u32::try_from(a).unwrap_or(u32::MAX))
            )
        });
        let v6 = family(&self.v6, u128::MAX, 128, &|a, l| {
            format!("{}/{l}", Ipv6Addr::from(a))
        });
        let parts: Vec<(String, bool)> = v4.into_iter().chain(v6).collect();
        if parts.is_empty() {
            return "none".into();
        }
        // Both families, one written with `except`: parentheses keep its
        // exceptions from reading as the other family's too.
        let several = parts.len() > 1;
        (parts.into_iter())
            .map(|(t, except)| {
                if except && several {
                    format!("({t})")
                } else {
                    t
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The ranges of `0..=max` that `ranges` (sorted, disjoint) leave out.
    fn complement(ranges: &Ranges, max: u128) -> Ranges {
        let mut out = Vec::new();
        let mut next = Some(0u128);
        for &(lo, hi) in ranges {
            if let Some(n) = next {
                if lo > n {
                    out.push((n, lo - 1));
                }
            }
            next = hi.checked_add(1).filter(|&n| n <= max);
        }
        if let Some(n) = next {
            out.push((n, max));
        }
        out
    }

    /// Only the IPv4 part.
    pub fn v4_only(&self) -> IpSet {
        IpSet {
            v4: self.v4.clone(),
            v6: Vec::new(),
        }
    }
}

/// Comma-joined CIDR blocks ([`IpSet::cidrs`]); `none` when empty.
impl fmt::Display for IpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&self.cidrs().join(","))
    }
}

/// The coarsest partition of the address space into sets with the same
/// allowed ports, given possibly overlapping `(addresses, ports)` grants
/// (their union is taken where they overlap). Addresses no grant covers are
/// left out; parts are ordered by their first address, IPv4 first.
pub fn partition_by_ports<'a, I>(grants: I) -> Vec<(IpSet, PortSet)>
where
    I: IntoIterator<Item = (&'a IpSet, &'a PortSet)>,
{
    let grants: Vec<(&IpSet, &PortSet)> = grants.into_iter().collect();
    let mut parts: Vec<(IpSet, PortSet)> = Vec::new();
    for v6 in [false, true] {
        let family = |s: &'a IpSet| if v6 { &s.v6 } else { &s.v4 };
        // elementary intervals between all range boundaries
        let mut bounds: Vec<u128> = Vec::new();
        let mut ends_at_max = false;
        for (ips, _) in &grants {
            for &(lo, hi) in family(ips) {
                bounds.push(lo);
                match hi.checked_add(1) {
                    Some(n) => bounds.push(n),
                    None => ends_at_max = true,
                }
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        let mut runs: Vec<(u128, u128, PortSet)> = Vec::new();
        for (i, &lo) in bounds.iter().enumerate() {
            let hi = match bounds.get(i + 1) {
                Some(&next) => next - 1,
                None if ends_at_max => u128::MAX,
                None => continue,
            };
            let mut ports = PortSet::empty();
            for (ips, p) in &grants {
                if family(ips).iter().any(|&(a, b)| a <= lo && hi <= b) {
                    ports = ports.union(p);
                }
            }
            if ports.is_empty() {
                continue;
            }
            match runs.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(lo) && last.2 == ports => last.1 = hi,
                _ => runs.push((lo, hi, ports)),
            }
        }
        for (lo, hi, ports) in runs {
            let part = if v6 {
                IpSet {
                    v4: Vec::new(),
                    v6: vec![(lo, hi)],
                }
            } else {
                IpSet {
                    v4: vec![(lo, hi)],
                    v6: Vec::new(),
                }
            };
            match parts.iter_mut().find(|(_, p)| *p == ports) {
                Some((set, _)) => *set = set.union(&part),
                None => parts.push((part, ports)),
            }
        }
    }
    parts
}
