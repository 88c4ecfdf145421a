//! `dangerous-kube-grant`: an app's `kube` grant amounts to a privilege
//! the industry catalogues flag (palisade's addition to the design's lint list, docs/checks.md).

use super::{Cx, Finding, LintInfo};
use crate::model::{Access, Entity, KubeRule, Level, PodSecurity};

pub const INFO: LintInfo = LintInfo {
    name: "dangerous-kube-grant",
    default: Level::Warn,
    summary: "an app's kube grant amounts to a privilege escalation or defeats the model",
    explain: "\
Some Kubernetes API permissions are worth far more than they look. The
catalogue below is what rbac-police, KubiScan, krane, kubesplaining,
rbac-tool, kube-linter and checkov flag, restricted to what a `kube` grant
(`VERB RESOURCE`) can say:

- a `*` in any position (verb, resource, API group, subresource);
- `bind`, `escalate`, `impersonate`: grant oneself any permission;
- `get`/`list`/`watch secrets`: every credential of the namespace;
  `create secrets`: a `service-account-token` Secret gets a token for any
  ServiceAccount; `update`/`patch secrets`: replaces others' credentials;
- writing `networkpolicies`, `roles`, `rolebindings`: undoes the isolation
  and RBAC this model generates;
- `pods/exec`, `pods/attach`: act as any pod; `pods/portforward`: reach
  any pod's ports past NetworkPolicies; `update`/`patch
  pods/ephemeralcontainers`: run any image inside any running pod;
- creating or changing `pods` or workloads (`deployments`, `jobs`,
  `cronjobs`, `daemonsets`, `statefulsets`, `replicasets`,
  `replicationcontrollers`): runs any image with any ServiceAccount and
  Secret of the namespace; `update`/`patch pods` also rewrites labels, so
  a pod takes another group's network identity;
- `create serviceaccounts/token`: mints tokens for other ServiceAccounts;
- writing `endpoints`, `endpointslices`, `services`, or `update`/`patch`
  `pods/status` or `services/status`: traffic hijack;
- writing `ingresses` or Gateway API routes (`gateways`, `httproutes`,
  `grpcroutes`, `tlsroutes`, `tcproutes`, `udproutes`, `referencegrants`):
  exposes any Service, or takes over another host's traffic;
- `delete`/`deletecollection`/`update`/`patch events`: covers tracks;
- cluster-scoped, which a Role cannot grant (the finding says so): any
  verb on `nodes/proxy`; `update`/`patch`/`delete nodes`, `update`/`patch
  nodes/status`; writing
  `apiservices`; CSR approval
  (`certificatesigningrequests/approval`, `approve`/`sign signers`);
  writing admission webhook configurations and admission policies;
  writing `customresourcedefinitions` or `persistentvolumes`;
  `update`/`patch namespaces`; writing `clusterroles`,
  `clusterrolebindings`.

Fires on every `kube` access item that matches one, with every reason that
applies; a grant that runs pods in a `baseline` or `privileged` namespace
also says what Pod Security lets those pods do there. The API group is not compared: `create deployments` is flagged
whether or not it names `apps`.

Fix: narrow the grant (e.g. `get configmaps` instead of `get secrets`; a
controller that creates Jobs in a namespace of its own, with nothing else
there). If it is the app's job (a CI deployer), accept it with the reason:
`accept dangerous-kube-grant on deployer -> kube \"CI deploys the apps\"`.",
};

const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const CHANGE: &[&str] = &["create", "update", "patch"];
const READ: &[&str] = &["get", "list", "watch"];
const ANY: &[&str] = &[];

/// One entry of the catalogue: the verbs (empty: any verb), the resources
/// (empty: any resource), the subresource, whether the resource is
/// cluster-scoped, and the reason.
struct Pattern {
    verbs: &'static [&'static str],
    resources: &'static [&'static str],
    sub: Option<&'static str>,
    reason: &'static str,
}

const fn p(
    verbs: &'static [&'static str],
    resources: &'static [&'static str],
    sub: Option<&'static str>,
    reason: &'static str,
) -> Pattern {
    Pattern {
        verbs,
        resources,
        sub,
        reason,
    }
}

/// The catalogue (rbac-police, KubiScan, krane, kubesplaining, rbac-tool,
/// checkov, kube-linter), restricted to what a `VERB RESOURCE` can say.
/// A rule may match several entries; each gives a note.
const CATALOGUE: &[Pattern] = &[
    p(&["bind", "escalate", "impersonate"], ANY, None,
      "bind, escalate and impersonate let the app grant itself any permission"),
    p(&["bind", "escalate"], &["roles", "clusterroles"], None,
      "bind, escalate and impersonate let the app grant itself any permission"),
    p(&["impersonate"], &["users", "groups", "serviceaccounts", "uids", "userextras"], None,
      "bind, escalate and impersonate let the app grant itself any permission"),
    p(READ, &["secrets"], None,
      "reads every Secret of the namespace: every credential, not only the app's"),
    p(&["create"], &["secrets"], None,
      "creating a Secret of type `kubernetes.io/service-account-token` makes Kubernetes issue a token for any ServiceAccount of the namespace"),
    p(&["update", "patch"], &["secrets"], None,
      "overwriting Secrets replaces the credentials other apps mount"),
    p(WRITE, &["networkpolicies"], None,
      "writing NetworkPolicies removes the isolation this model generates"),
    p(WRITE, &["roles", "rolebindings", "clusterroles", "clusterrolebindings"], None,
      "writing Roles or RoleBindings rewrites the RBAC this model generates"),
    p(&["create", "get"], &["pods"], Some("exec"),
      "exec or attach lets the app act as any pod of the namespace"),
    p(&["create", "get"], &["pods"], Some("attach"),
      "exec or attach lets the app act as any pod of the namespace"),
    p(&["create", "get"], &["pods"], Some("portforward"),
      "portforward reaches every port of every pod of the namespace, past its NetworkPolicies"),
    p(&["update", "patch"], &["pods"], Some("ephemeralcontainers"),
      "ephemeral containers run any image inside any running pod of the namespace, with its mounts and network identity"),
    p(&["create"], &["pods"], None,
      "creating workloads runs any image with any ServiceAccount and Secret of the namespace"),
    p(CHANGE, &["deployments", "jobs", "cronjobs", "daemonsets", "statefulsets", "replicasets", "replicationcontrollers"], None,
      "creating workloads runs any image with any ServiceAccount and Secret of the namespace"),
    p(&["update", "patch"], &["pods"], None,
      "patching a pod swaps its containers' images and rewrites its labels: it takes another pod group's network identity and every connection the NetworkPolicies give it"),
    p(&["create"], &["serviceaccounts"], Some("token"),
      "minting tokens lets the app act as other ServiceAccounts"),
    p(CHANGE, &["endpoints", "endpointslices"], None,
      "writing Endpoints or EndpointSlices sends a Service's traffic anywhere: the app can capture other apps' connections"),
    p(&["update", "patch"], &["pods"], Some("status"),
      "rewriting pods' status (readiness, addresses) decides which pods Services send connections to: the app can intercept them"),
    p(&["update", "patch"], &["services"], Some("status"),
      "rewriting a Service's status (`loadBalancer.ingress`) sends the cluster's traffic for that address to the app (CVE-2020-8554)"),
    p(CHANGE, &["services"], None,
      "writing Services redirects traffic: a selector, `externalIPs` or `externalName` change captures other apps' connections"),
    p(CHANGE, &["ingresses", "gateways", "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes", "referencegrants"], None,
      "writing Ingresses or Gateway API routes exposes any Service of the namespace outside the cluster, or takes over another host's traffic"),
    p(&["delete", "deletecollection", "update", "patch"], &["events"], None,
      "deleting or rewriting Events covers tracks: they are the namespace's record of what happened to its pods"),
    p(ANY, &["nodes"], Some("proxy"),
      "nodes/proxy is the kubelet API: exec into any pod on the node"),
    p(&["update", "patch", "delete", "deletecollection"], &["nodes"], None,
      "rewriting Nodes' labels and taints, or deleting Nodes, steers pods onto a node of the app's choosing"),
    p(&["update", "patch"], &["nodes"], Some("status"),
      "rewriting a Node's status (addresses, conditions, capacity) steers pods and the API server's kubelet traffic"),
    p(CHANGE, &["apiservices"], None,
      "an APIService routes an API group to a Service of the app's choosing, which then answers (and sees) every request for it"),
    p(&["update", "patch", "approve"], &["certificatesigningrequests"], Some("approval"),
      "approving CertificateSigningRequests issues client certificates for any user or group, `system:masters` included"),
    p(&["approve", "sign"], &["signers"], None,
      "approving or signing for a signer issues client certificates for any user or group, `system:masters` included"),
    p(CHANGE, &["mutatingwebhookconfigurations", "validatingwebhookconfigurations", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings", "validatingadmissionpolicies", "validatingadmissionpolicybindings"], None,
      "admission webhooks and policies see or rewrite every object sent to the API server, Secrets and pods included"),
    p(&["delete", "deletecollection"], &["mutatingwebhookconfigurations", "validatingwebhookconfigurations", "validatingadmissionpolicies", "validatingadmissionpolicybindings"], None,
      "deleting admission webhooks and policies switches off the guardrails they enforce"),
    p(CHANGE, &["customresourcedefinitions"], None,
      "CustomResourceDefinitions define APIs: a conversion webhook sees every custom object, and replacing one breaks its controller"),
    p(CHANGE, &["persistentvolumes"], None,
      "a PersistentVolume can be a `hostPath`: any file of a node, mounted by any pod that claims it"),
    p(&["update", "patch"], &["namespaces"], None,
      "patching a Namespace rewrites its Pod Security labels (privileged pods) and the labels NetworkPolicies select namespaces by"),
];

/// The catalogue's reasons that amount to running a pod of the app's choice.
const RUNS_PODS: &[&str] = &[
    "creating workloads runs any image with any ServiceAccount and Secret of the namespace",
    "ephemeral containers run any image inside any running pod of the namespace, with its mounts and network identity",
];

/// Resources a Role cannot grant: a namespaced binding ignores them.
const CLUSTER_SCOPED: &[&str] = &[
    "nodes",
    "namespaces",
    "persistentvolumes",
    "certificatesigningrequests",
    "signers",
    "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations",
    "mutatingadmissionpolicies",
    "mutatingadmissionpolicybindings",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "customresourcedefinitions",
    "clusterroles",
    "clusterrolebindings",
    "storageclasses",
    "priorityclasses",
    "runtimeclasses",
    "ingressclasses",
    "gatewayclasses",
    "apiservices",
    "csidrivers",
    "csinodes",
    "volumeattachments",
    "tokenreviews",
    "subjectaccessreviews",
];

/// Whether a rule matches a catalogue entry, RBAC-style: a `*` verb or
/// resource matches anything, `*/sub` any resource's `sub`; a `*`
/// subresource is taken to match every subresource.
fn matches(r: &KubeRule, pat: &Pattern) -> bool {
    // An entry for any resource (`bind`, `escalate`, `impersonate`) needs
    // the verb written out: `* configmaps` impersonates nobody.
    let verb = (r.verb == "*" && !pat.resources.is_empty())
        || pat.verbs.is_empty()
        || pat.verbs.contains(&r.verb.as_str());
    let sub = r.subresource.as_deref();
    let resource = if r.resource == "*" {
        sub.is_none() || sub == Some("*") || sub == pat.sub
    } else {
        (pat.resources.is_empty() || pat.resources.contains(&r.resource.as_str()))
            && (sub == pat.sub || sub == Some("*") && pat.sub.is_some())
    };
    verb && resource
}

/// Why a rule is dangerous: every reason that applies (empty: it is not).
pub fn risks(r: &KubeRule) -> Vec<&'static str> {
    let wildcard = r.verb == "*"
        || r.resource == "*"
        || r.group == "*"
        || r.subresource.as_deref() == Some("*");
    let mut out = Vec::new();
    if wildcard {
        out.push("a wildcard grants every current and future permission it matches");
        if r.resource == "*" && r.subresource.is_none() {
            // Every entry below matches; the wildcard says it all.
            return out;
        }
    }
    for pat in CATALOGUE {
        if matches(r, pat) && !out.contains(&pat.reason) {
            out.push(pat.reason);
        }
    }
    out
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    for g in &m.grants {
        let (Entity::App(app), Access::Kube(rule)) = (g.subject, &g.access) else {
            continue;
        };
        let why = risks(rule);
        if why.is_empty() {
            continue;
        }
        let mut f = Finding::new(
            &INFO,
            g.span,
            format!("`{}` is a dangerous grant", g.access),
        )
        .pair(g.subject, Entity::Kube)
        .notes(why.iter().map(|w| w.to_string()))
        .help(format!(
            "narrow the grant, or accept it with the reason it is the app's job: `accept dangerous-kube-grant on {} -> kube \"<reason>\"`",
            m.name_of(g.subject)
        ));
        // What a pod it starts may do is Pod Security's to say.
        let ns = m.namespace(m.apps[app.index()].namespace);
        if why.iter().any(|w| RUNS_PODS.contains(w)) && ns.pod_security != PodSecurity::Restricted
        {
            f = f.note(format!(
                "namespace `{}` is `{}`, not `restricted`: the pods it runs may {}",
                ns.name,
                ns.pod_security.as_str(),
                if ns.pod_security == PodSecurity::Privileged {
                    "run privileged, on the node's network and files, and take the node"
                } else {
                    "run as root, with the runtime's default capabilities"
                }
            ));
        }
        if CLUSTER_SCOPED.contains(&rule.resource.as_str()) {
            f = f.note(format!(
                "`{}` is cluster-scoped: palisade writes `kube` grants as a Role in the app's namespace, which grants nothing on it; making it work would take a ClusterRole, with the risk above cluster-wide",
                rule.resource
            ));
        }
        out.push(f);
    }
}
