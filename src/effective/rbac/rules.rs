//! Rule matching, ported from kubernetes/kubernetes
//! `pkg/apis/rbac/v1/evaluation_helpers.go` (the `*Matches` helpers,
//! `CompactString`) and `plugin/pkg/auth/authorizer/rbac/rbac.go`
//! (`RuleAllows`, `RulesAllow`).

use super::Attributes;
use crate::k8s::PolicyRule;
use std::borrow::Cow;

/// `rbacv1.VerbAll`.
pub const VERB_ALL: &str = "*";
/// `rbacv1.APIGroupAll`.
pub const API_GROUP_ALL: &str = "*";
/// `rbacv1.ResourceAll`.
pub const RESOURCE_ALL: &str = "*";
/// `rbacv1.NonResourceAll`.
pub const NON_RESOURCE_ALL: &str = "*";

/// Port of `VerbMatches` (pkg/apis/rbac/v1/evaluation_helpers.go).
pub fn verb_matches(rule: &PolicyRule, requested_verb: &str) -> bool {
    rule.verbs
        .iter()
        .any(|v| v == VERB_ALL || v == requested_verb)
}

/// Port of `APIGroupMatches` (pkg/apis/rbac/v1/evaluation_helpers.go).
pub fn api_group_matches(rule: &PolicyRule, requested_group: &str) -> bool {
    rule.api_groups
        .iter()
        .any(|g| g == API_GROUP_ALL || g == requested_group)
}

/// Port of `ResourceMatches` (pkg/apis/rbac/v1/evaluation_helpers.go).
/// `combined_requested_resource` is `resource` or `resource/subresource`;
/// a rule resource `*/<subresource>` matches that subresource of any
/// resource.
pub fn resource_matches(
    rule: &PolicyRule,
    combined_requested_resource: &str,
    requested_subresource: &str,
) -> bool {
    for rule_resource in &rule.resources {
        // if everything is allowed, we match
        if rule_resource == RESOURCE_ALL {
            return true;
        }
        // if we have an exact match, we match
        if rule_resource == combined_requested_resource {
            return true;
        }
        // We can also match a */subresource.
        // if there isn't a subresource, then continue
        if requested_subresource.is_empty() {
            continue;
        }
        // if the rule isn't in the format */subresource, then we don't match, continue
        if rule_resource.len() == requested_subresource.len() + 2
            && rule_resource.starts_with("*/")
            && rule_resource.ends_with(requested_subresource)
        {
            return true;
        }
    }
    false
}

/// Port of `ResourceNameMatches` (pkg/apis/rbac/v1/evaluation_helpers.go).
/// A rule without `resourceNames` matches every name, including none; a rule
/// with names never matches a request without a name (list, watch of a
/// collection, create without a name).
pub fn resource_name_matches(rule: &PolicyRule, requested_name: &str) -> bool {
    if rule.resource_names.is_empty() {
        return true;
    }
    rule.resource_names.iter().any(|n| n == requested_name)
}

/// Port of `NonResourceURLMatches` (pkg/apis/rbac/v1/evaluation_helpers.go):
/// `*`, an exact path, or a prefix ending in `*`.
pub fn non_resource_url_matches(rule: &PolicyRule, requested_url: &str) -> bool {
    rule.non_resource_urls.iter().any(|rule_url| {
        rule_url == NON_RESOURCE_ALL
            || rule_url == requested_url
            || (rule_url.ends_with('*')
                && requested_url.starts_with(rule_url.trim_end_matches('*')))
    })
}

/// `resource` or `resource/subresource`, as `RuleAllows` builds it.
pub(super) fn combined_resource(attrs: &Attributes) -> Cow<'_, str> {
    if attrs.subresource.is_empty() {
        Cow::Borrowed(&attrs.resource)
    } else {
        Cow::Owned(format!("{}/{}", attrs.resource, attrs.subresource))
    }
}

/// Port of `RuleAllows` (plugin/pkg/auth/authorizer/rbac/rbac.go).
pub fn rule_allows(attrs: &Attributes, rule: &PolicyRule) -> bool {
    rule_allows_combined(attrs, &combined_resource(attrs), rule)
}

/// [`rule_allows`] with the combined resource computed once per request.
pub(super) fn rule_allows_combined(attrs: &Attributes, combined: &str, rule: &PolicyRule) -> bool {
    if attrs.resource_request {
        return rule_matches_ignoring_name(attrs, combined, rule)
            && resource_name_matches(rule, &attrs.name);
    }
    verb_matches(rule, &attrs.verb) && non_resource_url_matches(rule, &attrs.path)
}

/// `RuleAllows` for a resource request minus `ResourceNameMatches`.
pub(super) fn rule_matches_ignoring_name(
    attrs: &Attributes,
    combined: &str,
    rule: &PolicyRule,
) -> bool {
    verb_matches(rule, &attrs.verb)
        && api_group_matches(rule, &attrs.api_group)
        && resource_matches(rule, combined, &attrs.subresource)
}

/// Port of `RulesAllow` (plugin/pkg/auth/authorizer/rbac/rbac.go).
pub fn rules_allow(attrs: &Attributes, rules: &[PolicyRule]) -> bool {
    let combined = combined_resource(attrs);
    rules
        .iter()
        .any(|r| rule_allows_combined(attrs, &combined, r))
}

/// Port of `CompactString` (pkg/apis/rbac/v1/evaluation_helpers.go), e.g.
/// `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`.
pub fn compact_string(rule: &PolicyRule) -> String {
    let mut parts = Vec::new();
    let mut field = |label: &str, values: &[String]| {
        if !values.is_empty() {
            let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            parts.push(format!("{label}:[{}]", quoted.join(" ")));
        }
    };
    field("APIGroups", &rule.api_groups);
    field("Resources", &rule.resources);
    field("NonResourceURLs", &rule.non_resource_urls);
    field("ResourceNames", &rule.resource_names);
    field("Verbs", &rule.verbs);
    format!("{{{}}}", parts.join(", "))
}
