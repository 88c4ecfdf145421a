//! "Did you mean …?": the closest candidate by edit distance.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = match word.chars().count() {
        0..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, c)| (d, c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_typos_and_rejects_strangers() {
        let names = ["web", "api", "analyst", "results"];
        assert_eq!(closest("wbe", names), Some("web"));
        assert_eq!(closest("analist", names), Some("analyst"));
        assert_eq!(closest("Results", names), Some("results"));
        assert_eq!(closest("database", names), None);
    }
}
