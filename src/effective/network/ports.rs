//! Protocols and sets of destination ports.

use std::fmt;

/// The protocols a NetworkPolicy port can name (`NetworkPolicyPort.protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

/// The model's protocols are the API's (the model says `tcp`, the API `TCP`).
impl From<crate::model::Protocol> for Protocol {
    fn from(p: crate::model::Protocol) -> Self {
        match p {
            crate::model::Protocol::Tcp => Protocol::Tcp,
            crate::model::Protocol::Udp => Protocol::Udp,
            crate::model::Protocol::Sctp => Protocol::Sctp,
        }
    }
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    /// The API spelling, which is case-sensitive: `TCP`, `UDP`, `SCTP`.
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lowest and highest port a policy or a container can name.
pub const MIN_PORT: u16 = 1;
pub const MAX_PORT: u16 = 65535;

/// A set of ports of one protocol: sorted, disjoint, non-adjacent inclusive
/// ranges within `MIN_PORT..=MAX_PORT`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortRanges(Vec<(u16, u16)>);

impl PortRanges {
    pub fn empty() -> Self {
        PortRanges(Vec::new())
    }

    pub fn full() -> Self {
        PortRanges(vec![(MIN_PORT, MAX_PORT)])
    }

    /// `lo..=hi`, clamped to the valid ports; empty when `lo > hi`.
    pub fn range(lo: u16, hi: u16) -> Self {
        let lo = lo.max(MIN_PORT);
        if lo > hi {
            return Self::empty();
        }
        PortRanges(vec![(lo, hi)])
    }

    pub fn single(port: u16) -> Self {
        Self::range(port, port)
    }

    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.0 == [(MIN_PORT, MAX_PORT)]
    }

    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= port && port <= hi)
    }

    pub fn union(&self, other: &PortRanges) -> PortRanges {
        let mut all: Vec<(u16, u16)> = self.0.iter().chain(&other.0).copied().collect();
        all.sort_unstable();
        let mut out: Vec<(u16, u16)> = Vec::with_capacity(all.len());
        for (lo, hi) in all {
            match out.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        PortRanges(out)
    }

    pub fn intersection(&self, other: &PortRanges) -> PortRanges {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = (self.0[i], other.0[j]);
            let (lo, hi) = (a.0.max(b.0), a.1.min(b.1));
            if lo <= hi {
                out.push((lo, hi));
            }
            if a.1 < b.1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        PortRanges(out)
    }

    /// The ports of `self` that `other` lacks.
    pub fn difference(&self, other: &PortRanges) -> PortRanges {
        let mut out = Vec::new();
        for &(lo, hi) in &self.0 {
            // The next port of `lo..=hi` not yet accounted for (u32: may pass 65535).
            let mut next = u32::from(lo);
            for &(olo, ohi) in &other.0 {
                let (olo, ohi) = (u32::from(olo), u32::from(ohi));
                if ohi < next || olo > u32::from(hi) {
                    continue;
                }
                if olo > next {
                    out.push((next as u16, (olo - 1) as u16));
                }
                next = ohi + 1;
            }
            if next <= u32::from(hi) {
                out.push((next as u16, hi));
            }
        }
        PortRanges(out)
    }
}

/// Destination ports per protocol, plus whether protocols other than TCP,
/// UDP and SCTP (ICMP, ...) are included. A policy cannot name those
/// protocols: only a rule without `ports` (or an unisolated pod) admits
/// them, so `other_protocols` is true only when every side allows
/// everything — it tells "all traffic" (`*/*` in NCA's output) from "every
/// TCP, UDP and SCTP port".
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortSet {
    ranges: [PortRanges; 3],
    other_protocols: bool,
}

impl PortSet {
    pub fn empty() -> Self {
        Self::default()
    }

    /// All traffic: every port of every protocol.
    pub fn all() -> Self {
        PortSet {
            ranges: [PortRanges::full(), PortRanges::full(), PortRanges::full()],
            other_protocols: true,
        }
    }

    /// `ranges` of `protocol` only.
    pub fn of(protocol: Protocol, ranges: PortRanges) -> Self {
        let mut s = Self::empty();
        s.ranges[protocol.index()] = ranges;
        s
    }

    pub fn ports(&self, protocol: Protocol) -> &PortRanges {
        &self.ranges[protocol.index()]
    }

    pub fn other_protocols(&self) -> bool {
        self.other_protocols
    }

    pub fn is_empty(&self) -> bool {
        !self.other_protocols && self.ranges.iter().all(PortRanges::is_empty)
    }

    pub fn is_all(&self) -> bool {
        self.other_protocols && self.ranges.iter().all(PortRanges::is_full)
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.ranges[protocol.index()].contains(port)
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        PortSet {
            ranges: std::array::from_fn(|i| self.ranges[i].union(&other.ranges[i])),
            other_protocols: self.other_protocols || other.other_protocols,
        }
    }

    pub fn intersection(&self, other: &PortSet) -> PortSet {
        PortSet {
            ranges: std::array::from_fn(|i| self.ranges[i].intersection(&other.ranges[i])),
            other_protocols: self.other_protocols && other.other_protocols,
        }
    }

    /// What `self` admits that `other` does not.
    pub fn difference(&self, other: &PortSet) -> PortSet {
        PortSet {
            ranges: std::array::from_fn(|i| self.ranges[i].difference(&other.ranges[i])),
            other_protocols: self.other_protocols && !other.other_protocols,
        }
    }

    /// `self` ⊆ `other`.
    pub fn is_subset(&self, other: &PortSet) -> bool {
        self.difference(other).is_empty()
    }

    pub(crate) fn add(&mut self, protocol: Protocol, ranges: &PortRanges) {
        let i = protocol.index();
        self.ranges[i] = self.ranges[i].union(ranges);
    }
}

/// `*/*` for all traffic, else `TCP/80,8000-8100 UDP/*` (`*`: every port),
/// with `+other protocols` when those are included; `none` when empty.
impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("*/*");
        }
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for p in Protocol::ALL {
            let r = self.ports(p);
            if r.is_empty() {
                continue;
            }
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{p}/")?;
            if r.is_full() {
                f.write_str("*")?;
                continue;
            }
            for (i, &(lo, hi)) in r.ranges().iter().enumerate() {
                let sep = if i > 0 { "," } else { "" };
                if lo == hi {
                    write!(f, "{sep}{lo}")?;
                } else {
                    write!(f, "{sep}{lo}-{hi}")?;
                }
            }
        }
        if self.other_protocols {
            f.write_str(if first { "" } else { " " })?;
            f.write_str("+other protocols")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod difference_tests {
    use super::{PortRanges, PortSet, Protocol};

    fn r(v: &[(u16, u16)]) -> PortRanges {
        v.iter().fold(PortRanges::empty(), |acc, &(lo, hi)| {
            acc.union(&PortRanges::range(lo, hi))
        })
    }

    #[test]
    fn difference_cuts_holes_and_edges() {
        let a = r(&[(1, 100), (200, 300)]);
        assert_eq!(
            a.difference(&r(&[(50, 60)])),
            r(&[(1, 49), (61, 100), (200, 300)])
        );
        assert_eq!(a.difference(&r(&[(1, 100)])), r(&[(200, 300)]));
        assert_eq!(a.difference(&r(&[(90, 250)])), r(&[(1, 89), (251, 300)]));
        assert_eq!(a.difference(&PortRanges::full()), PortRanges::empty());
        assert_eq!(
            PortRanges::full().difference(&r(&[(65535, 65535)])),
            r(&[(1, 65534)])
        );
        assert_eq!(a.difference(&PortRanges::empty()), a);
        let web = PortSet::of(Protocol::Tcp, PortRanges::single(8080));
        assert!(web.is_subset(&PortSet::all()));
        assert!(!PortSet::all().is_subset(&web));
        assert!(PortSet::all().difference(&web).other_protocols());
    }
}
