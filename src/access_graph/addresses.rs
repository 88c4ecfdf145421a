//! What an address outside the cluster is, in the model's terms: a declared
//! external, a store outside the cluster, the API server, or `internet`.
//! The one definition every consumer of the graph shares.

use crate::effective::network::IpSet;
use crate::model::{Entity, ExternalId, Model, StoreId, StoreLocation};

/// The model's outside destinations, by address.
pub struct Addresses {
    externals: Vec<(ExternalId, IpSet)>,
    outside_stores: Vec<(StoreId, IpSet)>,
    /// `platform.private_ranges`, the addresses that are never the
    /// internet (`model::never_internet`), and every declared outside
    /// destination but a catch-all (externals, outside stores, the API
    /// server).
    not_internet: IpSet,
}

impl Addresses {
    pub fn new(m: &Model) -> Self {
        let externals: Vec<(ExternalId, IpSet)> = (m.externals.iter().enumerate())
            .map(|(i, x)| {
                let set = ip_set(x.addresses.iter().map(ToString::to_string));
                (ExternalId(i as u32), set)
            })
            .collect();
        let outside_stores: Vec<(StoreId, IpSet)> = (m.stores.iter().enumerate())
            .filter_map(|(i, s)| match &s.location {
                StoreLocation::Outside(c) => {
                    Some((StoreId(i as u32), ip_set(c.iter().map(ToString::to_string))))
                }
                StoreLocation::InCluster(_) => None,
            })
            .collect();
        let mut not_internet = ip_set(m.platform.not_internet().iter().map(ToString::to_string));
        // A declared destination takes its addresses from `internet`,
        // unless it is a catch-all: an external at `0.0.0.0/0` does not make
        // an `-> internet` grant any less the internet (the
        // `catch-all-address` lint reports it).
        let declared = (m.externals.iter().flat_map(|x| x.addresses.iter()))
            .chain(m.stores.iter().flat_map(|s| match &s.location {
                StoreLocation::Outside(c) => c.as_slice(),
                StoreLocation::InCluster(_) => &[],
            }))
            .filter(|c| c.prefix > 0)
            .map(ToString::to_string);
        not_internet = not_internet.union(&ip_set(declared));
        if let Some(api) = &m.platform.api_server {
            not_internet = not_internet.union(&ip_set([api.address.to_string()]));
        }
        Addresses {
            externals,
            outside_stores,
            not_internet,
        }
    }

    /// The part of `addresses` that is the internet: outside
    /// `platform.private_ranges` and link-local and unique-local ranges,
    /// and declared by no external, outside store or `platform.api_server`
    /// (a catch-all declaration, `0.0.0.0/0`, takes nothing).
    pub fn internet(&self, addresses: &IpSet) -> IpSet {
        addresses.difference(&self.not_internet)
    }

    /// What egress to `addresses` reaches, as entities: the externals and
    /// outside stores whose addresses it overlaps, and `internet` when
    /// [`Addresses::internet`] of it is not empty. (Egress to the API
    /// server's address is the token's business: no edge.)
    pub fn targets(&self, addresses: &IpSet) -> Vec<Entity> {
        let mut out = Vec::new();
        for (x, set) in &self.externals {
            if !set.intersection(addresses).is_empty() {
                out.push(Entity::External(*x));
            }
        }
        for (s, set) in &self.outside_stores {
            if !set.intersection(addresses).is_empty() {
                out.push(Entity::Store(*s));
            }
        }
        if !self.internet(addresses).is_empty() {
            out.push(Entity::Internet);
        }
        out
    }
}

/// The union of CIDRs (each already validated by the resolver).
pub fn ip_set(cidrs: impl IntoIterator<Item = String>) -> IpSet {
    cidrs
        .into_iter()
        .filter_map(|c| IpSet::parse_cidr(&c))
        .fold(IpSet::empty(), |acc, s| acc.union(&s))
}
