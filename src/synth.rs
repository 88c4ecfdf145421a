//! Synthetic `.sec` models of any size, for benchmarks, fuzz seeds and property tests.
//!
//! [`generate`] writes one complete, valid model as a single source text. Its
//! shape follows a large microservice estate:
//!
//! * namespaces `ns-NNNN` of about 50 pod groups each, one team per namespace
//!   (persona `p-team-NNNN`, clearance `confidential`);
//! * per namespace up to three in-cluster stores: `s-NNNN-1` (restricted or
//!   confidential, used only by the back office), `s-NNNN-2` and `s-NNNN-3`
//!   (public or internal, used by the customer-facing tier);
//! * apps `a-NNNN-JJJ` in three layers: a few front ends reached by the
//!   external persona `customer` through the ingress, customer-facing services
//!   (which call each other, also across namespaces, and their stores), and
//!   back-office services that nothing customer-facing calls, so the
//!   `forbid customer ~> s-NNNN-1` invariants hold; plus a metrics scraper
//!   `a-NNNN-mon` per namespace;
//! * about one pod group in ten is a shared `pod-NNNN-JJJ` of an app and its
//!   log-shipping sidecar `a-NNNN-JJJ-sidecar`;
//! * global personas `customer`, `sre`, `deployer`, externals `x-*` and
//!   out-of-cluster stores `s-ext-K`;
//! * team operations per environment, SRE views in prod, an Argo CD deployer
//!   per namespace, store reads by people, `forbid` invariants and the
//!   occasional `accept`.
//!
//! Pod groups (shared pods + apps on their own + in-cluster stores) add up to
//! exactly [`SynthOptions::pod_groups`]; statements (declarations included)
//! come to about ten per pod group. Generation is O(n) and deterministic: the
//! same options always give the same text.

use std::fmt::{self, Display, Write};
use std::ops::Range;

/// How large a model to generate, and from which seed.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// Pod groups to generate: shared pods, apps on their own and in-cluster stores.
    pub pod_groups: usize,
    /// Seed of the pseudo-random choices (fan-out, stores, resources...).
    pub seed: u64,
}

impl SynthOptions {
    /// Options for `pod_groups` pod groups with seed 1.
    #[must_use]
    pub fn new(pod_groups: usize) -> Self {
        Self {
            pod_groups,
            seed: 1,
        }
    }
}

/// A complete, valid model as one source text.
///
/// # Panics
///
/// Never: it only writes into a `String`, which cannot fail.
#[must_use]
pub fn generate(opts: &SynthOptions) -> String {
    let mut synth = Generator::new(opts);
    let mut body = String::with_capacity(opts.pod_groups.saturating_mul(760));
    synth
        .body(&mut body)
        .expect("writing to a String cannot fail");
    let mut out = String::with_capacity(body.len() + 4096);
    synth
        .header(&mut out)
        .expect("writing to a String cannot fail");
    out.push_str(&body);
    out
}

/// Target size of a namespace, in pod groups.
const GROUPS_PER_NAMESPACE: usize = 50;
/// A service calls services in at most this many namespaces below its own.
const CROSS_NAMESPACE_REACH: usize = 8;

/// Out-of-cluster services: name, description, address.
const EXTERNALS: &[(&str, &str, &str)] = &[
    ("x-payments", "Payment provider", "203.0.113.0/28"),
    ("x-email", "Transactional email", "203.0.113.16/28"),
    ("x-sms", "SMS gateway", "203.0.113.32/28"),
    ("x-geo", "Geocoding API", "203.0.113.48/28"),
    ("x-fraud", "Fraud scoring API", "203.0.113.64/28"),
    ("x-search", "Hosted search", "203.0.113.80/28"),
    ("x-logs", "Log collector", "203.0.113.96/28"),
];
/// Index of `x-logs` in [`EXTERNALS`]: where sidecars ship logs.
const X_LOGS: usize = 6;
/// Externals that services call (all but the log collector).
const CALLED_EXTERNALS: usize = 6;

const FRONT_DESCS: &[&str] = &[
    "Web front end",
    "Mobile API gateway",
    "Partner API",
    "Admin console",
];
const PUBLIC_DESCS: &[&str] = &[
    "Catalog service",
    "Orders service",
    "Pricing service",
    "Search service",
    "Cart service",
    "Recommendations",
    "Checkout service",
    "Notifications",
    "Profile service",
    "Reviews service",
    "Inventory service",
    "Shipping quotes",
];
const INTERNAL_DESCS: &[&str] = &[
    "Billing worker",
    "Reconciliation job",
    "Fraud scoring",
    "Report builder",
    "Ledger writer",
    "Data export",
    "Email dispatcher",
    "Audit shipper",
    "Settlement batch",
    "Index builder",
];

/// Store `s-NNNN-1` (back office only): descriptions, engines.
const VAULT_DESCS: &[&str] = &[
    "Ledger",
    "Payments",
    "Customer records",
    "Identity vault",
    "Billing accounts",
];
const VAULT_ENGINES: &[&str] = &["postgres", "postgres", "mysql"];
/// Store `s-NNNN-2`.
const CACHE_DESCS: &[&str] = &["Sessions", "Catalog", "Carts", "Feature flags", "Profiles"];
const CACHE_ENGINES: &[&str] = &["redis", "postgres", "mongodb"];
/// Store `s-NNNN-3`.
const EVENT_DESCS: &[&str] = &[
    "Events",
    "Search index",
    "Recommendations",
    "Media metadata",
    "Notifications",
];
const EVENT_ENGINES: &[&str] = &["kafka", "mongodb", "redis"];

const CPUS: &[(&str, u64)] = &[("100m", 100), ("250m", 250), ("250m", 250), ("500m", 500)];
const MEMORIES: &[(&str, u64)] = &[
    ("128Mi", 128),
    ("256Mi", 256),
    ("256Mi", 256),
    ("512Mi", 512),
];
/// Sidecar requests, in millicores and MiB.
const SIDECAR_CPU: u64 = 50;
const SIDECAR_MEMORY: u64 = 64;

const KUBE_GRANTS: &[&str] = &[
    "get configmaps, watch pods",
    "create jobs.batch, get jobs.batch",
    "get configmaps",
    "list pods, watch pods",
    "get leases.coordination.k8s.io, update leases.coordination.k8s.io",
];

/// splitmix64: small, fast, good enough for shaping a model.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// `count` distinct values of `range` in increasing order (Floyd's algorithm).
    fn sample(&mut self, range: Range<usize>, count: usize, out: &mut Vec<usize>) {
        out.clear();
        let n = range.len();
        if count >= n {
            out.extend(range);
            return;
        }
        for t in n - count..n {
            let v = range.start + self.below(t + 1);
            out.push(if out.contains(&v) { range.start + t } else { v });
        }
        out.sort_unstable();
    }
}

/// How a namespace of `groups` pod groups is laid out.
#[derive(Clone, Copy)]
struct Layout {
    stores: usize,
    monitor: bool,
    fronts: usize,
    public: usize,
    internal: usize,
}

impl Layout {
    fn new(groups: usize) -> Self {
        let stores = match groups {
            10.. => 3,
            5.. => 1,
            _ => 0,
        };
        let app_groups = groups - stores;
        let monitor = app_groups >= 6;
        let services = app_groups - usize::from(monitor);
        let fronts = if services == 0 {
            0
        } else {
            ((services + 8) / 16).max(1)
        };
        let rest = services - fronts;
        let public = rest * 55 / 100;
        Self {
            stores,
            monitor,
            fronts,
            public,
            internal: rest - public,
        }
    }

    fn services(&self) -> usize {
        self.fronts + self.public + self.internal
    }

    fn public_range(&self) -> Range<usize> {
        self.fronts..self.fronts + self.public
    }

    fn internal_range(&self) -> Range<usize> {
        self.fronts + self.public..self.services()
    }
}

/// A declared name, written by its `Display`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ref {
    Ns(usize),
    App(usize, usize),
    Sidecar(usize, usize),
    Monitor(usize),
    Pod(usize, usize),
    Store(usize, usize),
    ExtStore(usize),
    External(usize),
    Team(usize),
}

impl Ref {
    /// Appends the name to `out` (without `fmt` machinery: this is the hot path).
    fn push_to(self, out: &mut String) {
        match self {
            Ref::Ns(ns) => {
                out.push_str("ns-");
                push_num(out, ns, 4);
            }
            Ref::App(ns, j) | Ref::Sidecar(ns, j) => {
                out.push_str("a-");
                push_num(out, ns, 4);
                out.push('-');
                push_num(out, j, 3);
                if matches!(self, Ref::Sidecar(..)) {
                    out.push_str("-sidecar");
                }
            }
            Ref::Monitor(ns) => {
                out.push_str("a-");
                push_num(out, ns, 4);
                out.push_str("-mon");
            }
            Ref::Pod(ns, j) => {
                out.push_str("pod-");
                push_num(out, ns, 4);
                out.push('-');
                push_num(out, j, 3);
            }
            Ref::Store(ns, k) => {
                out.push_str("s-");
                push_num(out, ns, 4);
                out.push('-');
                push_num(out, k, 1);
            }
            Ref::ExtStore(k) => {
                out.push_str("s-ext-");
                push_num(out, k, 1);
            }
            Ref::External(x) => out.push_str(EXTERNALS[x].0),
            Ref::Team(ns) => {
                out.push_str("p-team-");
                push_num(out, ns, 4);
            }
        }
    }
}

impl Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut name = String::with_capacity(24);
        self.push_to(&mut name);
        f.write_str(&name)
    }
}

/// Something that can be named in a statement: a declared [`Ref`] or a
/// fixed word (`customer`, `sre`, `kube`).
trait Name: Copy {
    fn push_to(self, out: &mut String);
}

impl Name for Ref {
    fn push_to(self, out: &mut String) {
        Ref::push_to(self, out);
    }
}

impl Name for &str {
    fn push_to(self, out: &mut String) {
        out.push_str(self);
    }
}

/// Appends `n` in decimal, zero-padded to `width` digits.
fn push_num(out: &mut String, mut n: usize, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(buf.len() - width);
    out.push_str(std::str::from_utf8(&buf[start..]).expect("ASCII digits"));
}

/// Appends `n` as 16 lowercase hex digits.
fn push_hex(out: &mut String, n: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    for (i, b) in buf.iter_mut().enumerate() {
        *b = HEX[((n >> (60 - 4 * i)) & 0xf) as usize];
    }
    out.push_str(std::str::from_utf8(&buf).expect("ASCII hex digits"));
}

/// Per-app choices made before anything of a namespace is written.
#[derive(Clone, Copy)]
struct AppSpec {
    desc: Option<&'static str>,
    replicas: usize,
    cpu: usize,
    memory: usize,
    sidecar: bool,
}

type R = fmt::Result;

struct Generator {
    rng: Rng,
    pod_groups: usize,
    seed: u64,
    namespaces: usize,
    ext_stores: usize,
    used_externals: [bool; EXTERNALS.len()],
    used_ext_stores: Vec<bool>,
    // Scratch space, reused across namespaces.
    specs: Vec<AppSpec>,
    picks: Vec<usize>,
    refs: Vec<Ref>,
    /// Targets of the team's first operations grant, for its `accept`.
    first_grant: Vec<Ref>,
}

impl Generator {
    fn new(opts: &SynthOptions) -> Self {
        let namespaces = opts.pod_groups.div_ceil(GROUPS_PER_NAMESPACE);
        let ext_stores = namespaces.div_ceil(4);
        Self {
            rng: Rng(opts.seed),
            pod_groups: opts.pod_groups,
            seed: opts.seed,
            namespaces,
            ext_stores,
            used_externals: [false; EXTERNALS.len()],
            used_ext_stores: vec![false; ext_stores],
            specs: Vec::new(),
            picks: Vec::new(),
            refs: Vec::new(),
            first_grant: Vec::new(),
        }
    }

    /// Pod groups of namespace `ns`: an even split of the total.
    fn groups(&self, ns: usize) -> usize {
        let base = self.pod_groups / self.namespaces;
        base + usize::from(ns < self.pod_groups % self.namespaces)
    }

    /// System, platform, environments, global personas, externals and
    /// out-of-cluster stores (only those the body uses).
    fn header(&self, out: &mut String) -> R {
        writeln!(
            out,
            "# synthetic.sec: generated by palisade's synth module, {} pod groups, seed {}",
            self.pod_groups, self.seed
        )?;
        writeln!(
            out,
            "system synthetic \"Synthetic estate: {} pod groups in {} namespace{}\"\n",
            self.pod_groups,
            self.namespaces,
            if self.namespaces == 1 { "" } else { "s" }
        )?;
        out.push_str(concat!(
            "platform {\n",
            "  kubernetes = \"1.30\"\n",
            "  ingress = { namespace = \"ingress-nginx\", pods = { \"app.kubernetes.io/name\" = \"ingress-nginx\" } }\n",
            "  api_server = { address = \"172.20.0.10/32\", port = 6443 }\n",
            "}\n\n",
            "environment dev\n",
            "environment staging\n",
            "environment prod\n",
        ));
        if self.namespaces == 0 {
            return Ok(());
        }
        out.push_str(concat!(
            "\n# People\n",
            "persona customer \"Customers\" { external }\n",
            "persona sre \"Platform engineers\" { group = \"oidc:sre\"  clearance = restricted }\n",
            "persona deployer \"GitOps deployer\" {\n",
            "  service_account = \"argocd/argocd-application-controller\"\n",
            "  clearance = restricted\n",
            "}\n",
        ));
        if self.used_externals.contains(&true) {
            out.push_str("\n# Services outside the cluster\n");
        }
        for (x, &(name, desc, address)) in EXTERNALS.iter().enumerate() {
            if self.used_externals[x] {
                writeln!(
                    out,
                    "external {name} \"{desc}\" {{ address = \"{address}\"  ports = {{ https = 443 }} }}"
                )?;
            }
        }
        if self.used_ext_stores.contains(&true) {
            out.push_str("\n# Stores outside the cluster\n");
        }
        for (k, _) in self
            .used_ext_stores
            .iter()
            .enumerate()
            .filter(|(_, &used)| used)
        {
            writeln!(
                out,
                "store {} \"Object storage {k}\" {{ engine = s3  address = \"198.51.100.{}/32\" }}",
                Ref::ExtStore(k),
                k % 256
            )?;
        }
        Ok(())
    }

    fn body(&mut self, out: &mut String) -> R {
        for ns in 0..self.namespaces {
            self.namespace(out, ns)?;
        }
        Ok(())
    }

    fn namespace(&mut self, out: &mut String, ns: usize) -> R {
        let groups = self.groups(ns);
        let lay = Layout::new(groups);
        self.plan_apps(lay);

        // Declarations.
        writeln!(
            out,
            "\n# {}\n# {} (team {ns}): {groups} pod groups\n# {}",
            RULE,
            Ref::Ns(ns),
            RULE
        )?;
        self.namespace_decl(out, ns)?;
        writeln!(
            out,
            "persona {} \"Team {ns} engineers\" {{ group = \"oidc:team-{ns:04}\"  clearance = confidential }}",
            Ref::Team(ns)
        )?;
        let vault_confidential = self.stores(out, ns, lay)?;
        self.apps(out, ns, lay)?;

        // Traffic, operations, invariants.
        self.traffic(out, ns, lay);
        self.operations(out, ns, lay, vault_confidential)?;
        self.invariants(out, ns, lay)
    }

    /// Chooses descriptions, replicas, resources and shared pods of the
    /// namespace's services.
    fn plan_apps(&mut self, lay: Layout) {
        let phase = self.rng.below(10);
        self.specs.clear();
        for j in 0..lay.services() {
            let (descs, replicas) = if j < lay.fronts {
                (FRONT_DESCS, 3)
            } else if j < lay.public_range().end {
                (PUBLIC_DESCS, self.rng.between(2, 3))
            } else {
                (INTERNAL_DESCS, self.rng.between(1, 2))
            };
            let desc = if self.rng.chance(70) {
                Some(self.rng.pick(descs))
            } else {
                None
            };
            let spec = AppSpec {
                desc,
                replicas,
                cpu: self.rng.below(CPUS.len()),
                memory: self.rng.below(MEMORIES.len()),
                sidecar: j % 10 == phase,
            };
            self.specs.push(spec);
        }
    }

    /// The namespace with a quota that fits what its apps request.
    fn namespace_decl(&self, out: &mut String, ns: usize) -> R {
        let (mut millis, mut mebis, mut pods) = (100u64, 128u64, 1u64); // the monitor
        for s in &self.specs {
            let replicas = s.replicas as u64;
            let extra = if s.sidecar {
                (SIDECAR_CPU, SIDECAR_MEMORY)
            } else {
                (0, 0)
            };
            millis += replicas * (CPUS[s.cpu].1 + extra.0);
            mebis += replicas * (MEMORIES[s.memory].1 + extra.1);
            pods += replicas;
        }
        // Headroom for rollouts, rounded up; never below the platform default.
        let cpu = (millis * 2).div_ceil(16_000).max(4) * 16;
        let memory = (mebis * 2).div_ceil(32 * 1024).max(4) * 32;
        let pods = (pods * 2 + 100).div_ceil(100).max(4) * 100;
        writeln!(
            out,
            "namespace {} \"Team {ns}\" {{ quota = {{ cpu = \"{cpu}\", memory = \"{memory}Gi\", pods = {pods} }} }}",
            Ref::Ns(ns)
        )
    }

    /// In-cluster stores; returns whether `s-NNNN-1` is only confidential
    /// (so that the team, cleared for confidential, may read it).
    fn stores(&mut self, out: &mut String, ns: usize, lay: Layout) -> Result<bool, fmt::Error> {
        if lay.stores == 0 {
            return Ok(false);
        }
        out.push_str("\n# Stores\n");
        let vault_confidential = self.rng.chance(50);
        let class = if vault_confidential {
            "confidential"
        } else {
            "restricted"
        };
        let (desc, engine) = (self.rng.pick(VAULT_DESCS), self.rng.pick(VAULT_ENGINES));
        store_decl(out, ns, 1, desc, engine, class)?;
        if lay.stores >= 3 {
            let class = if self.rng.chance(50) {
                "internal"
            } else {
                "public"
            };
            let (desc, engine) = (self.rng.pick(CACHE_DESCS), self.rng.pick(CACHE_ENGINES));
            store_decl(out, ns, 2, desc, engine, class)?;
            let class = if self.rng.chance(70) {
                "internal"
            } else {
                "public"
            };
            let (desc, engine) = (self.rng.pick(EVENT_DESCS), self.rng.pick(EVENT_ENGINES));
            store_decl(out, ns, 3, desc, engine, class)?;
        }
        Ok(vault_confidential)
    }

    fn apps(&mut self, out: &mut String, ns: usize, lay: Layout) -> R {
        for j in 0..lay.services() {
            if j == 0 {
                out.push_str("\n# Front ends\n");
            }
            if j == lay.fronts && lay.public > 0 {
                out.push_str("\n# Customer-facing services\n");
            }
            if j == lay.public_range().end {
                out.push_str("\n# Back office (nothing customer-facing calls it)\n");
            }
            let spec = self.specs[j];
            let app = Ref::App(ns, j);
            self.app_decl(out, app, ns, spec.desc);
            out.push_str("  ports = { http = 8080, metrics = 9090 }\n  replicas = ");
            push_num(out, spec.replicas, 1);
            out.push_str("\n  resources = { cpu = \"");
            out.push_str(CPUS[spec.cpu].0);
            out.push_str("\", memory = \"");
            out.push_str(MEMORIES[spec.memory].0);
            out.push_str("\" }\n  health = { http = \"/healthz\", port = http }\n}\n");
            if spec.sidecar {
                let sidecar = Ref::Sidecar(ns, j);
                self.app_decl(out, sidecar, ns, Some("Log shipper"));
                out.push_str("  ports = { ship-metrics = 9102 }\n  replicas = ");
                push_num(out, spec.replicas, 1);
                writeln!(
                    out,
                    "\n  resources = {{ cpu = \"{SIDECAR_CPU}m\", memory = \"{SIDECAR_MEMORY}Mi\" }}"
                )?;
                out.push_str("  health = { exec = [\"/bin/healthcheck\", \"--quiet\"] }\n}\n");
                writeln!(
                    out,
                    "pod {} = [{app}, {sidecar}]   # share localhost",
                    Ref::Pod(ns, j)
                )?;
            }
        }
        if lay.monitor {
            let mon = Ref::Monitor(ns);
            out.push_str("\n# Monitoring\n");
            self.app_decl(out, mon, ns, Some("Metrics scraper"));
            out.push_str(concat!(
                "  ports = { http = 9090 }\n",
                "  replicas = 1\n",
                "  resources = { cpu = \"100m\", memory = \"128Mi\" }\n",
                "  health = { http = \"/-/healthy\", port = http }\n",
                "}\n",
            ));
        }
        Ok(())
    }

    /// `app NAME ["DESC"] in NS {` and its image.
    fn app_decl(&mut self, out: &mut String, app: Ref, ns: usize, desc: Option<&str>) {
        out.push_str("app ");
        app.push_to(out);
        out.push(' ');
        if let Some(desc) = desc {
            out.push('"');
            out.push_str(desc);
            out.push_str("\" ");
        }
        out.push_str("in ");
        Ref::Ns(ns).push_to(out);
        out.push_str(" {\n");
        self.image(out, app);
    }

    /// `image = "ghcr.io/acme/NAME@sha256:..."`, pinned by digest.
    fn image(&mut self, out: &mut String, app: Ref) {
        out.push_str("  image = \"ghcr.io/acme/");
        app.push_to(out);
        out.push_str("@sha256:");
        for _ in 0..4 {
            push_hex(out, self.rng.next_u64());
        }
        out.push_str("\"\n");
    }

    fn traffic(&mut self, out: &mut String, ns: usize, lay: Layout) {
        let public = lay.public_range();
        let internal = lay.internal_range();

        out.push_str("\n# Customers, through the ingress\n");
        for j in 0..lay.fronts {
            allow(out, "customer", Ref::App(ns, j), "http");
        }

        if !public.is_empty() {
            out.push_str("\n# Front ends -> services\n");
            for j in 0..lay.fronts {
                let count = self.rng.between(3, 5);
                self.rng.sample(public.clone(), count, &mut self.picks);
                for &t in &self.picks {
                    allow(out, Ref::App(ns, j), Ref::App(ns, t), "http");
                }
            }
            out.push_str("\n# Customer-facing services\n");
            for j in public.clone() {
                self.calls(out, ns, j, j + 1..public.end, false);
                self.store_access(out, ns, j, lay, false);
                self.outside(out, ns, j, false);
            }
        }

        if !internal.is_empty() {
            out.push_str("\n# Back office\n");
            for j in internal.clone() {
                self.calls(out, ns, j, j + 1..internal.end, true);
                self.store_access(out, ns, j, lay, true);
                self.outside(out, ns, j, true);
            }
        }

        if self.specs.iter().any(|s| s.sidecar) {
            out.push_str("\n# Sidecars ship logs\n");
            self.used_externals[X_LOGS] = true;
            for j in (0..lay.services()).filter(|&j| self.specs[j].sidecar) {
                allow(out, Ref::Sidecar(ns, j), Ref::External(X_LOGS), "https");
            }
        }

        if lay.monitor {
            out.push_str("\n# Metrics\n");
            let mon = Ref::Monitor(ns);
            for j in 0..lay.services() {
                allow(out, mon, Ref::App(ns, j), "metrics");
                if self.specs[j].sidecar {
                    allow(out, mon, Ref::Sidecar(ns, j), "ship-metrics");
                }
            }
        }
    }

    /// Calls from service `j` to services of its own tier: later ones of its
    /// namespace (`later`), and the same tier of lower namespaces. The two
    /// tiers never mix, so customers cannot reach the back office.
    fn calls(
        &mut self,
        out: &mut String,
        ns: usize,
        j: usize,
        later: Range<usize>,
        back_office: bool,
    ) {
        let wanted = self.rng.between(4, 7);
        let local = wanted.min(later.len());
        self.rng.sample(later, local, &mut self.picks);
        self.refs.clear();
        self.refs
            .extend(self.picks.iter().map(|&t| Ref::App(ns, t)));
        if ns > 0 {
            // Fill up from other namespaces, and sometimes call one anyway.
            let cross = wanted - local + usize::from(self.rng.chance(40));
            for _ in 0..cross {
                let other = ns - 1 - self.rng.below(ns.min(CROSS_NAMESPACE_REACH));
                let lay = Layout::new(self.groups(other));
                let range = if back_office {
                    lay.internal_range()
                } else {
                    lay.public_range()
                };
                if range.is_empty() {
                    continue;
                }
                let target = Ref::App(other, range.start + self.rng.below(range.len()));
                if !self.refs.contains(&target) {
                    self.refs.push(target);
                }
            }
        }
        for &target in &self.refs {
            allow(out, Ref::App(ns, j), target, "http");
        }
    }

    /// Store grants of service `j`: the back office owns `s-NNNN-1`; both
    /// tiers use `s-NNNN-2` and `s-NNNN-3`. The first service of each tier
    /// is guaranteed a grant so that every store is used.
    fn store_access(
        &mut self,
        out: &mut String,
        ns: usize,
        j: usize,
        lay: Layout,
        back_office: bool,
    ) {
        let app = Ref::App(ns, j);
        if back_office {
            let first = j == lay.internal_range().start;
            if lay.stores >= 1 && (first || self.rng.chance(50)) {
                let access = if first {
                    "read, write"
                } else {
                    self.rng.pick(&["read", "read", "read, write", "admin"])
                };
                allow(out, app, Ref::Store(ns, 1), access);
            }
            if lay.stores >= 3 && self.rng.chance(20) {
                let k = self.rng.between(2, 3);
                allow(out, app, Ref::Store(ns, k), "read");
            }
        } else if lay.stores >= 3 {
            let first = j == lay.public_range().start;
            if first || self.rng.chance(35) {
                allow(
                    out,
                    app,
                    Ref::Store(ns, 2),
                    if first { "read, write" } else { "read" },
                );
            }
            if j == lay.public_range().start + 1 || self.rng.chance(35) {
                allow(
                    out,
                    app,
                    Ref::Store(ns, 3),
                    self.rng.pick(&["read", "read, write"]),
                );
            }
        }
    }

    /// Calls out of the cluster: externals, object storage, the internet,
    /// and (back office only) the Kubernetes API.
    fn outside(&mut self, out: &mut String, ns: usize, j: usize, back_office: bool) {
        let app = Ref::App(ns, j);
        if self.rng.chance(12) {
            let x = self.rng.below(CALLED_EXTERNALS);
            self.used_externals[x] = true;
            allow(out, app, Ref::External(x), "https");
        }
        if self.rng.chance(8) {
            let k = self.rng.below(self.ext_stores);
            self.used_ext_stores[k] = true;
            allow(
                out,
                app,
                Ref::ExtStore(k),
                self.rng.pick(&["read", "read, write"]),
            );
        }
        if back_office {
            if self.rng.chance(10) {
                allow(out, app, "kube", self.rng.pick(KUBE_GRANTS));
            }
            if self.rng.chance(4) {
                out.push_str("allow ");
                app.push_to(out);
                out.push_str(" -> internet: 443   \"calls partner webhooks\"\n");
            }
        }
    }

    fn operations(
        &mut self,
        out: &mut String,
        ns: usize,
        lay: Layout,
        vault_confidential: bool,
    ) -> R {
        let team = Ref::Team(ns);
        out.push_str("\n# Operations\n");
        // The team: hands-on outside prod, read-only in prod.
        let mut j = 0;
        while j < lay.services() {
            let end = (j + self.rng.between(1, 2)).min(lay.services());
            self.refs.clear();
            for t in j..end {
                self.refs.push(Ref::App(ns, t));
                if self.specs[t].sidecar {
                    self.refs.push(Ref::Sidecar(ns, t));
                }
            }
            if j == 0 {
                self.first_grant.clone_from(&self.refs);
            }
            let ops = if j < lay.fronts {
                "logs, restart, scale"
            } else {
                "logs, restart"
            };
            statement(out, "allow", team, &self.refs, ops, "in dev, staging");
            let prod = self.rng.pick(&["view", "view", "view, logs"]);
            statement(out, "allow", team, &self.refs, prod, "in prod");
            j = end;
        }
        if lay.monitor {
            allow(out, team, Ref::Monitor(ns), "view, logs");
        }
        // Platform engineers see everything in prod.
        let mut j = 0;
        while j < lay.services() {
            let end = (j + self.rng.between(4, 7)).min(lay.services());
            self.refs.clear();
            self.refs.extend((j..end).map(|t| Ref::App(ns, t)));
            statement(out, "allow", "sre", &self.refs, "view, logs", "in prod");
            j = end;
        }
        writeln!(out, "allow deployer -> namespace {}: deploy", Ref::Ns(ns))?;

        if lay.stores > 0 {
            out.push_str("\n# People and data\n");
            if lay.stores >= 3 {
                allow(out, team, Ref::Store(ns, 2), "read");
                writeln!(
                    out,
                    "allow {team} -> {}: read, write in dev",
                    Ref::Store(ns, 3)
                )?;
            }
            if vault_confidential {
                writeln!(
                    out,
                    "allow {team} -> {}: read in dev, staging",
                    Ref::Store(ns, 1)
                )?;
            }
            if self.rng.chance(30) {
                writeln!(
                    out,
                    "allow sre -> {}: read in prod   \"incident response\"",
                    Ref::Store(ns, 1)
                )?;
            }
        }
        Ok(())
    }

    fn invariants(&mut self, out: &mut String, ns: usize, lay: Layout) -> R {
        let accept = lay.services() > 0 && self.rng.chance(25);
        let previous_has_vault = ns > 0 && Layout::new(self.groups(ns - 1)).stores > 0;
        if lay.stores == 0 && !previous_has_vault && !accept {
            return Ok(());
        }
        out.push_str("\n# Invariants\n");
        if lay.stores > 0 {
            let vault = Ref::Store(ns, 1);
            writeln!(out, "forbid customer ~> {vault} \"no path, however indirect, from customers to {vault}\"")?;
        }
        if previous_has_vault {
            let vault = Ref::Store(ns - 1, 1);
            writeln!(
                out,
                "forbid {} -> {vault} \"team {ns} has no business in team {}'s data\"",
                Ref::Team(ns),
                ns - 1
            )?;
        }
        if accept {
            // The team's first grant: logs are namespace-wide in RBAC.
            write!(out, "accept namespace-wide-grant on {} -> ", Ref::Team(ns))?;
            targets(out, &self.first_grant);
            out.push_str(" \"team logs hold no customer data (reviewed)\"\n");
        }
        Ok(())
    }
}

const RULE: &str = "------------------------------------------------------------------";

fn store_decl(out: &mut String, ns: usize, k: usize, desc: &str, engine: &str, class: &str) -> R {
    writeln!(
        out,
        "store {} \"{desc}\" in {} {{ engine = {engine}  classification = {class} }}",
        Ref::Store(ns, k),
        Ref::Ns(ns)
    )
}

/// `allow SUBJECT -> TARGET: ACCESS`
fn allow(out: &mut String, subject: impl Name, target: impl Name, access: &str) {
    out.push_str("allow ");
    subject.push_to(out);
    out.push_str(" -> ");
    target.push_to(out);
    out.push_str(": ");
    out.push_str(access);
    out.push('\n');
}

/// `KEYWORD SUBJECT -> TARGETS: ACCESS TAIL`, the target list wrapped after
/// every four names and aligned under its first.
fn statement(
    out: &mut String,
    keyword: &str,
    subject: impl Name,
    list: &[Ref],
    access: &str,
    tail: &str,
) {
    out.push_str(keyword);
    out.push(' ');
    subject.push_to(out);
    out.push_str(" -> ");
    targets(out, list);
    out.push_str(": ");
    out.push_str(access);
    out.push(' ');
    out.push_str(tail);
    out.push('\n');
}

/// One name, or a list `[a, b, ...]` wrapped after every four names.
fn targets(out: &mut String, list: &[Ref]) {
    if let [single] = list {
        single.push_to(out);
        return;
    }
    let column = out.len() - out.rfind('\n').map_or(0, |p| p + 1) + 1;
    out.push('[');
    for (i, item) in list.iter().enumerate() {
        if i > 0 {
            out.push(',');
            if i % 4 == 0 {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', column));
            } else {
                out.push(' ');
            }
        }
        item.push_to(out);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Tok<'a> {
        /// A word, and whether it starts its line.
        Word(&'a str, bool),
        Str,
        Punct(&'a str),
    }

    fn is_word_byte(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'*')
    }

    fn tokenize(src: &str) -> Vec<Tok<'_>> {
        let b = src.as_bytes();
        let (mut i, mut bol, mut toks) = (0, true, Vec::new());
        while i < b.len() {
            let c = b[i];
            if c == b'\n' {
                bol = true;
                i += 1;
                continue;
            }
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if c == b'#' {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            if c == b'"' {
                i += 1;
                while b[i] != b'"' {
                    assert_ne!(b[i], b'\n', "unterminated string");
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                toks.push(Tok::Str);
            } else if src[i..].starts_with("->") || src[i..].starts_with("~>") {
                toks.push(Tok::Punct(&src[i..i + 2]));
                i += 2;
            } else if is_word_byte(c) {
                let start = i;
                while i < b.len()
                    && (is_word_byte(b[i]) || (b[i] == b'-' && b.get(i + 1) != Some(&b'>')))
                {
                    i += 1;
                }
                toks.push(Tok::Word(&src[start..i], bol));
            } else {
                toks.push(Tok::Punct(&src[i..=i]));
                i += 1;
            }
            bol = false;
        }
        toks
    }

    const ITEM_KEYWORDS: &[&str] = &[
        "system",
        "platform",
        "environment",
        "namespace",
        "persona",
        "app",
        "pod",
        "store",
        "external",
        "allow",
        "forbid",
        "accept",
        "lint",
    ];

    /// The model's items, each a slice of tokens starting with its keyword.
    fn items<'t, 'a>(toks: &'t [Tok<'a>]) -> Vec<&'t [Tok<'a>]> {
        let mut starts = Vec::new();
        let mut depth = 0i32;
        for (i, t) in toks.iter().enumerate() {
            match *t {
                Tok::Punct("{") => depth += 1,
                Tok::Punct("}") => depth -= 1,
                Tok::Word(w, true) if depth == 0 && ITEM_KEYWORDS.contains(&w) => starts.push(i),
                Tok::Word(w, _) if depth == 0 && ITEM_KEYWORDS.contains(&w) => {
                    assert_eq!(w, "namespace", "keyword {w} in the middle of a line");
                }
                _ => {}
            }
        }
        starts.push(toks.len());
        starts.windows(2).map(|w| &toks[w[0]..w[1]]).collect()
    }

    fn word(t: Tok<'_>) -> &str {
        match t {
            Tok::Word(w, _) => w,
            other => panic!("expected a word, found {other:?}"),
        }
    }

    fn is_dns_label(name: &str) -> bool {
        name.len() <= 50
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && !name.ends_with('-')
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    /// Names a statement's subjects and targets, with `namespace X` as ("namespace", X).
    fn side<'a>(toks: &[Tok<'a>]) -> Vec<(bool, &'a str)> {
        let mut names = Vec::new();
        let mut iter = toks.iter().copied();
        while let Some(t) = iter.next() {
            match t {
                Tok::Word("namespace", _) => names.push((true, word(iter.next().unwrap()))),
                Tok::Word("*", _) => {}
                Tok::Word(w, _) => names.push((false, w)),
                _ => {}
            }
        }
        names
    }

    /// A statement split as (keyword, subjects, arrow, targets, access words).
    struct Stmt<'a> {
        keyword: &'a str,
        subjects: Vec<(bool, &'a str)>,
        arrow: &'a str,
        targets: Vec<(bool, &'a str)>,
        access: Vec<&'a str>,
    }

    fn statement_parts<'a>(item: &[Tok<'a>]) -> Stmt<'a> {
        let keyword = word(item[0]);
        let from = if keyword == "accept" {
            assert_eq!(item[2], Tok::Word("on", false));
            3
        } else {
            1
        };
        let arrow = item
            .iter()
            .position(|t| matches!(t, Tok::Punct("->" | "~>")))
            .expect("an arrow");
        let end = item[arrow..]
            .iter()
            .position(|t| matches!(t, Tok::Punct(":") | Tok::Str | Tok::Word("in", _)))
            .map_or(item.len(), |p| arrow + p);
        let access_end = item[end..]
            .iter()
            .position(|t| matches!(t, Tok::Str | Tok::Word("in", _)))
            .map_or(item.len(), |p| end + p);
        let access = item[end..access_end]
            .iter()
            .filter_map(|t| match *t {
                Tok::Word(w, _) => Some(w),
                _ => None,
            })
            .collect();
        Stmt {
            keyword,
            subjects: side(&item[from..arrow]),
            arrow: match item[arrow] {
                Tok::Punct(p) => p,
                _ => unreachable!(),
            },
            targets: side(&item[arrow + 1..end]),
            access,
        }
    }

    /// Checks names, declarations and the invariants the generator promises.
    /// Returns the number of items (declarations and statements).
    fn check_model(src: &str, pod_groups: usize) -> usize {
        let toks = tokenize(src);
        let items = items(&toks);
        let mut declared: HashMap<&str, &str> = HashMap::new();
        let mut namespaces = HashSet::new();
        let mut used: HashSet<&str> = HashSet::new();
        let mut pod_of: HashMap<&str, &str> = HashMap::new();
        let mut class: HashMap<&str, &str> = HashMap::new();
        let mut in_cluster_stores = 0;
        let mut stmts = Vec::new();
        let mut systems = 0;
        for item in &items {
            let keyword = word(item[0]);
            match keyword {
                "system" => systems += 1,
                "platform" | "environment" => {}
                "namespace" => {
                    let name = word(item[1]);
                    assert!(is_dns_label(name), "bad namespace name {name}");
                    assert!(namespaces.insert(name), "namespace {name} declared twice");
                }
                "app" | "store" | "persona" | "external" | "pod" => {
                    let name = word(item[1]);
                    assert!(is_dns_label(name), "bad name {name}");
                    assert!(
                        declared.insert(name, keyword).is_none(),
                        "{name} declared twice"
                    );
                    let mut depth = 0;
                    for (i, t) in item.iter().enumerate() {
                        match *t {
                            Tok::Punct("{") => depth += 1,
                            Tok::Punct("}") => depth -= 1,
                            Tok::Word("in", _) if depth == 0 => {
                                let ns = word(item[i + 1]);
                                assert!(namespaces.contains(ns), "{name} in undeclared {ns}");
                                if keyword == "store" {
                                    in_cluster_stores += 1;
                                }
                            }
                            Tok::Word("classification", _) => {
                                class.insert(name, word(item[i + 2]));
                            }
                            _ => {}
                        }
                    }
                    if keyword == "pod" {
                        assert_eq!(item[2], Tok::Punct("="));
                        for t in &item[3..] {
                            if let Tok::Word(member, _) = *t {
                                assert_eq!(
                                    declared.get(member),
                                    Some(&"app"),
                                    "pod member {member}"
                                );
                                assert!(
                                    pod_of.insert(member, name).is_none(),
                                    "{member} in two pods"
                                );
                            }
                        }
                    }
                }
                "allow" | "forbid" | "accept" => stmts.push(statement_parts(item)),
                other => panic!("unexpected item {other}"),
            }
        }
        assert_eq!(systems, 1);

        // Every referenced name is declared.
        for s in &stmts {
            for &(is_ns, name) in s.subjects.iter().chain(&s.targets) {
                if is_ns {
                    assert!(namespaces.contains(name), "undeclared namespace {name}");
                } else {
                    assert!(
                        declared.contains_key(name) || matches!(name, "kube" | "internet"),
                        "undeclared name {name} in {} statement",
                        s.keyword
                    );
                    used.insert(name);
                }
            }
        }
        for (name, kind) in &declared {
            assert!(
                *kind == "pod" || used.contains(name),
                "{kind} {name} is never used"
            );
        }

        // Pod groups: shared pods + apps on their own + in-cluster stores.
        let apps = declared.values().filter(|k| **k == "app").count();
        let pods = declared.values().filter(|k| **k == "pod").count();
        assert_eq!(pods + (apps - pod_of.len()) + in_cluster_stores, pod_groups);

        // Network reachability from customers (pod-mates share an identity).
        let identity = |name: &str| -> String { pod_of.get(name).map_or(name, |p| p).to_string() };
        let mut edges: HashMap<String, Vec<String>> = HashMap::new();
        for s in stmts.iter().filter(|s| s.keyword == "allow") {
            for &(_, subject) in &s.subjects {
                let kind = declared.get(subject).copied();
                if subject != "customer" && kind != Some("app") {
                    continue;
                }
                for &(is_ns, target) in &s.targets {
                    assert!(!is_ns || subject == "deployer");
                    edges
                        .entry(identity(subject))
                        .or_default()
                        .push(identity(target));
                }
            }
        }
        let mut reached = HashSet::new();
        let mut stack = vec!["customer".to_string()];
        while let Some(n) = stack.pop() {
            if reached.insert(n.clone()) {
                stack.extend(edges.get(&n).into_iter().flatten().cloned());
            }
        }
        let rank = |c: &str| {
            ["public", "internal", "confidential", "restricted"]
                .iter()
                .position(|x| *x == c)
                .unwrap()
        };
        for s in &stmts {
            match (s.keyword, s.arrow) {
                ("forbid", "~>") => {
                    for &(_, target) in &s.targets {
                        assert!(!reached.contains(target), "customer reaches {target}");
                    }
                }
                ("forbid", "->") => {
                    for other in stmts.iter().filter(|o| o.keyword == "allow") {
                        let subject_hit = s.subjects.iter().any(|x| other.subjects.contains(x));
                        let target_hit = s.targets.iter().any(|x| other.targets.contains(x));
                        assert!(
                            !(subject_hit && target_hit),
                            "forbid {:?} -> {:?} is granted",
                            s.subjects,
                            s.targets
                        );
                    }
                }
                ("accept", _) => {
                    let granted = stmts.iter().any(|o| {
                        o.keyword == "allow" && o.subjects == s.subjects && o.targets == s.targets
                    });
                    assert!(
                        granted,
                        "accept on {:?} -> {:?} matches no grant",
                        s.subjects, s.targets
                    );
                }
                ("allow", _) => {
                    // People never get exec/portforward, and only read stores
                    // within their clearance.
                    assert!(!s
                        .access
                        .iter()
                        .any(|a| matches!(*a, "exec" | "portforward")));
                    for &(_, subject) in &s.subjects {
                        if subject.starts_with("p-team-") {
                            for &(_, target) in &s.targets {
                                if let Some(c) = class.get(target) {
                                    assert!(
                                        rank(c) <= rank("confidential"),
                                        "{subject} reads {target}"
                                    );
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        items.len()
    }

    /// Non-comment lines that start a declaration or statement.
    fn count_items(src: &str) -> usize {
        src.lines()
            .filter(|l| {
                l.split_whitespace()
                    .next()
                    .is_some_and(|w| ITEM_KEYWORDS.contains(&w))
            })
            .count()
    }

    #[test]
    fn deterministic() {
        let opts = SynthOptions::new(300);
        assert_eq!(generate(&opts), generate(&opts));
        let other = SynthOptions {
            seed: 2,
            ..opts.clone()
        };
        assert_ne!(generate(&opts), generate(&other));
    }

    #[test]
    fn about_ten_statements_per_pod_group() {
        for n in [100, 1000] {
            let text = generate(&SynthOptions::new(n));
            let per_group = count_items(&text) as f64 / n as f64;
            assert!(
                (8.5..=11.5).contains(&per_group),
                "{n} pod groups: {per_group} statements each"
            );
        }
    }

    #[test]
    fn every_name_is_declared_and_invariants_hold() {
        for (n, seed) in [
            (0, 1),
            (1, 1),
            (2, 3),
            (4, 1),
            (5, 1),
            (9, 2),
            (10, 1),
            (17, 5),
            (49, 1),
            (51, 7),
            (100, 1),
            (777, 9),
            (1000, 1),
        ] {
            let text = generate(&SynthOptions {
                pod_groups: n,
                seed,
            });
            let items = check_model(&text, n);
            assert_eq!(
                items,
                count_items(&text),
                "{n} pod groups: items start their lines"
            );
        }
    }

    #[test]
    fn shape_at_one_thousand() {
        let text = generate(&SynthOptions::new(1000));
        let count = |kw: &str| text.lines().filter(|l| l.starts_with(kw)).count();
        assert_eq!(count("namespace "), 20);
        let pods = count("pod ");
        assert!((70..=130).contains(&pods), "{pods} shared pods");
        assert_eq!(count("store ") - count("store s-ext"), 60);
    }
}
