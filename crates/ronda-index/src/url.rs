//! URL index: exact canonical URLs, and rules that cover many URLs at once —
//! a whole registrable domain (a group-run site), one host, or one path
//! prefix on a host (a channel on a platform).
//!
//! Everything is keyed on canonical forms from `ronda_hash::url`, so
//! `http://m.example.com/c/x/` and `https://example.com/c/x` meet.

use std::collections::HashMap;

use ronda_hash::url::CanonicalUrl;

/// What an entry of the URL index covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UrlRule {
    /// Exactly this canonical URL.
    Exact(String),
    /// Every URL whose registrable domain is this (`example.co.uk`).
    Domain(String),
    /// Every URL on exactly this host.
    Host(String),
    /// Every URL on `host` whose path is `prefix` or continues it after a
    /// `/` (so `/c/abc` covers `/c/abc/v1` but not `/c/abcd`).
    PathPrefix { host: String, prefix: String },
}

impl UrlRule {
    /// The rule's name on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            UrlRule::Exact(_) => "exact",
            UrlRule::Domain(_) => "domain",
            UrlRule::Host(_) => "host",
            UrlRule::PathPrefix { .. } => "path_prefix",
        }
    }

    /// A rule from a canonical URL: `kind` is one of [`UrlRule::kind`]'s names.
    pub fn from_url(kind: &str, url: &CanonicalUrl) -> Option<UrlRule> {
        Some(match kind {
            "exact" => UrlRule::Exact(url.as_str().to_owned()),
            "domain" => UrlRule::Domain(url.registrable_domain()?.to_owned()),
            "host" => UrlRule::Host(url.host().to_owned()),
            "path_prefix" => UrlRule::PathPrefix {
                host: url.host().to_owned(),
                prefix: url.path().trim_end_matches('/').to_owned(),
            },
            _ => return None,
        })
    }
}

/// One hit of a URL lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlHit<Id> {
    pub id: Id,
    pub rule: UrlRule,
}

/// Ids by URL rule.
#[derive(Debug, Clone)]
pub struct UrlIndex<Id> {
    exact: HashMap<String, Vec<Id>>,
    domains: HashMap<String, Vec<Id>>,
    hosts: HashMap<String, Vec<Id>>,
    /// Per host, (prefix, id) pairs; few per host in practice.
    prefixes: HashMap<String, Vec<(String, Id)>>,
    len: usize,
}

impl<Id> Default for UrlIndex<Id> {
    fn default() -> Self {
        UrlIndex {
            exact: HashMap::new(),
            domains: HashMap::new(),
            hosts: HashMap::new(),
            prefixes: HashMap::new(),
            len: 0,
        }
    }
}

fn add_to<K: Eq + std::hash::Hash, V: PartialEq>(map: &mut HashMap<K, Vec<V>>, k: K, v: V) -> bool {
    let list = map.entry(k).or_default();
    if list.contains(&v) {
        return false;
    }
    list.push(v);
    true
}

fn remove_from<V: PartialEq>(map: &mut HashMap<String, Vec<V>>, k: &str, v: &V) -> bool {
    let Some(list) = map.get_mut(k) else {
        return false;
    };
    let Some(pos) = list.iter().position(|x| x == v) else {
        return false;
    };
    list.swap_remove(pos);
    if list.is_empty() {
        map.remove(k);
    }
    true
}

impl<Id: Copy + Eq> UrlIndex<Id> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores `rule` for `id`; returns false if it was already there.
    pub fn add(&mut self, rule: UrlRule, id: Id) -> bool {
        let added = match rule {
            UrlRule::Exact(u) => add_to(&mut self.exact, u, id),
            UrlRule::Domain(d) => add_to(&mut self.domains, d, id),
            UrlRule::Host(h) => add_to(&mut self.hosts, h, id),
            UrlRule::PathPrefix { host, prefix } => add_to(&mut self.prefixes, host, (prefix, id)),
        };
        self.len += usize::from(added);
        added
    }

    /// Removes `rule` for `id`; returns whether it was there.
    pub fn remove(&mut self, rule: &UrlRule, id: Id) -> bool {
        let removed = match rule {
            UrlRule::Exact(u) => remove_from(&mut self.exact, u, &id),
            UrlRule::Domain(d) => remove_from(&mut self.domains, d, &id),
            UrlRule::Host(h) => remove_from(&mut self.hosts, h, &id),
            UrlRule::PathPrefix { host, prefix } => {
                remove_from(&mut self.prefixes, host, &(prefix.clone(), id))
            }
        };
        self.len -= usize::from(removed);
        removed
    }

    /// Every stored (rule, id) pair, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (UrlRule, Id)> + '_ {
        fn each<'a, V: Copy>(
            map: &'a HashMap<String, Vec<V>>,
            rule: fn(&str) -> UrlRule,
        ) -> impl Iterator<Item = (UrlRule, V)> + 'a {
            map.iter()
                .flat_map(move |(k, ids)| ids.iter().map(move |&id| (rule(k), id)))
        }
        each(&self.exact, |u| UrlRule::Exact(u.to_owned()))
            .chain(each(&self.domains, |d| UrlRule::Domain(d.to_owned())))
            .chain(each(&self.hosts, |h| UrlRule::Host(h.to_owned())))
            .chain(self.prefixes.iter().flat_map(|(host, list)| {
                list.iter().map(move |(prefix, id)| {
                    (
                        UrlRule::PathPrefix {
                            host: host.clone(),
                            prefix: prefix.clone(),
                        },
                        *id,
                    )
                })
            }))
    }

    /// Every rule that covers `url`, most specific first: exact, path
    /// prefix, host, domain.
    pub fn lookup(&self, url: &CanonicalUrl) -> Vec<UrlHit<Id>> {
        let mut hits = Vec::new();
        let host = url.host();
        for &id in self.exact.get(url.as_str()).into_iter().flatten() {
            hits.push(UrlHit {
                id,
                rule: UrlRule::Exact(url.as_str().to_owned()),
            });
        }
        let path = url.path();
        for (prefix, id) in self.prefixes.get(host).into_iter().flatten() {
            let covered = path
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            if covered {
                hits.push(UrlHit {
                    id: *id,
                    rule: UrlRule::PathPrefix {
                        host: host.to_owned(),
                        prefix: prefix.clone(),
                    },
                });
            }
        }
        for &id in self.hosts.get(host).into_iter().flatten() {
            hits.push(UrlHit {
                id,
                rule: UrlRule::Host(host.to_owned()),
            });
        }
        if let Some(domain) = url.registrable_domain() {
            for &id in self.domains.get(domain).into_iter().flatten() {
                hits.push(UrlHit {
                    id,
                    rule: UrlRule::Domain(domain.to_owned()),
                });
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ronda_hash::url::canonicalize;

    fn url(s: &str) -> CanonicalUrl {
        canonicalize(s).expect("valid url")
    }

    fn ids(idx: &UrlIndex<u32>, s: &str) -> Vec<u32> {
        idx.lookup(&url(s)).into_iter().map(|h| h.id).collect()
    }

    #[test]
    fn iter_gives_back_every_rule() {
        let rules = [
            (UrlRule::Exact("https://example.com/a".to_owned()), 1u32),
            (UrlRule::Domain("example.org".to_owned()), 2),
            (UrlRule::Host("m.example.net".to_owned()), 3),
            (
                UrlRule::PathPrefix {
                    host: "example.com".to_owned(),
                    prefix: "/c/x".to_owned(),
                },
                4,
            ),
            (UrlRule::Exact("https://example.com/a".to_owned()), 5),
        ];
        let mut idx = UrlIndex::new();
        for (r, id) in &rules {
            idx.add(r.clone(), *id);
        }
        let mut back: Vec<(UrlRule, u32)> = idx.iter().collect();
        back.sort_by_key(|(_, id)| *id);
        assert_eq!(back, rules.to_vec());
        // Rebuilt from its own listing, an index answers the same.
        let mut copy = UrlIndex::new();
        for (r, id) in idx.iter() {
            copy.add(r, id);
        }
        assert_eq!(
            ids(&copy, "https://example.com/c/x/1"),
            ids(&idx, "https://example.com/c/x/1")
        );
        assert_eq!(copy.len(), idx.len());
    }

    #[test]
    fn rules_cover_what_they_say() {
        let mut idx = UrlIndex::new();
        let exact = url("https://video.example/watch?v=abc");
        idx.add(UrlRule::from_url("exact", &exact).expect("exact"), 1u32);
        idx.add(UrlRule::Domain("group-site.example".into()), 2);
        idx.add(UrlRule::Host("files.host.example".into()), 3);
        let channel = url("https://platform.example/c/channel1/");
        idx.add(
            UrlRule::from_url("path_prefix", &channel).expect("prefix"),
            4,
        );

        // Variants of the exact URL fold to it.
        assert_eq!(
            ids(&idx, "http://www.video.example/watch?v=abc&utm_source=x"),
            [1]
        );
        assert!(ids(&idx, "https://video.example/watch?v=abd").is_empty());
        // A domain rule covers every host under it.
        assert_eq!(ids(&idx, "https://a.b.group-site.example/any/path"), [2]);
        assert_eq!(ids(&idx, "https://group-site.example"), [2]);
        assert!(ids(&idx, "https://group-site.example.net/").is_empty());
        // A host rule covers that host only.
        assert_eq!(ids(&idx, "https://files.host.example/f/1"), [3]);
        assert!(ids(&idx, "https://other.host.example/f/1").is_empty());
        // A path prefix stops at segment boundaries.
        assert_eq!(ids(&idx, "https://platform.example/c/channel1"), [4]);
        assert_eq!(ids(&idx, "https://platform.example/c/channel1/post/9"), [4]);
        assert!(ids(&idx, "https://platform.example/c/channel10").is_empty());
        assert_eq!(idx.len(), 4);
    }

    #[test]
    fn most_specific_first_and_remove() {
        let mut idx = UrlIndex::new();
        let u = url("https://site.example/c/x/1");
        idx.add(UrlRule::Domain("site.example".into()), 1u32);
        idx.add(UrlRule::Host("site.example".into()), 2);
        idx.add(
            UrlRule::PathPrefix {
                host: "site.example".into(),
                prefix: "/c/x".into(),
            },
            3,
        );
        idx.add(UrlRule::Exact(u.as_str().into()), 4);
        assert!(!idx.add(UrlRule::Exact(u.as_str().into()), 4));
        let kinds: Vec<&str> = idx.lookup(&u).iter().map(|h| h.rule.kind()).collect();
        assert_eq!(kinds, ["exact", "path_prefix", "host", "domain"]);
        assert!(idx.remove(&UrlRule::Host("site.example".into()), 2));
        assert!(!idx.remove(&UrlRule::Host("site.example".into()), 2));
        assert_eq!(ids(&idx, u.as_str()), [4, 3, 1]);
        assert_eq!(idx.len(), 3);
    }
}
