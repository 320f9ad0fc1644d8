//! The simulated world of the demo, drawn once from the seed before
//! anything runs: 52 platforms with their removal behaviour, the
//! organisations that take part, the content (generated pictures and bland
//! text) and where it is posted.
//!
//! Nothing here looks at the clock or the network: the same seed gives the
//! same world, and the run that replays it is deterministic because time
//! only moves when the driver moves it.
//!
//! Platform behaviour is drawn from the public figures in PRODUCT.md: most
//! platforms remove most referred content within hours; file hosts, archives
//! and small platforms remove less and later; a few never act; removal
//! orders (one hour, TCO) are mostly met on time.

use ronda_store::{ChannelKind, Millis, PlatformKind};

use crate::rng::Rng;

/// Minutes in milliseconds.
pub const MINUTE: Millis = 60_000;
pub const HOUR: Millis = 60 * MINUTE;

/// The action day starts at 2026-03-10 06:00 UTC (a fixed date, so that a
/// seed gives the same records on any day).
pub const START: Millis = 1_773_122_400_000;
/// It lasts two days.
pub const DURATION: Millis = 48 * HOUR;

/// How a platform shows that content is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovedAs {
    /// `404 Not Found`.
    NotFound,
    /// `410 Gone`.
    Gone,
    /// `200` with a notice page.
    NoticePage,
}

/// How a platform answers referrals.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    /// Chance that a referral leads to removal.
    pub removes: f64,
    /// Median minutes from receipt to removal, when it removes.
    pub median_minutes: f64,
    /// Log-normal spread of that delay.
    pub sigma: f64,
    /// Chance that a removal order is met within its hour.
    pub orders_on_time: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimPlatform {
    pub name: String,
    pub kind: PlatformKind,
    /// The host its content lives on (`<slug>.example`).
    pub host: String,
    pub channel: ChannelKind,
    pub language: &'static str,
    pub removed_as: RemovedAs,
    pub behaviour: Behaviour,
    /// Whether it takes TCO removal orders (an EU hosting service).
    pub tco: bool,
    /// Infrastructure providers (indexes into `World::platforms`) of a
    /// group-run site.
    pub providers: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimOrg {
    pub name: String,
    /// Issues removal orders (a national competent authority).
    pub authority: bool,
}

/// One piece of content: the same bytes wherever it is posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// A generated picture (shapes on a gradient), PNG.
    Picture,
    /// A generated page of bland text.
    Text,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    pub kind: ContentKind,
    /// What the generator draws from.
    pub seed: u64,
    /// Whether reviewers judge it terrorist content (the simulation's
    /// truth; the content itself is harmless).
    pub violating: bool,
    /// Which group it is attributed to.
    pub group: &'static str,
}

/// One piece of content at one location.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub content: usize,
    pub platform: usize,
    /// Path on the platform's host, starting with `/`.
    pub path: String,
    /// When it appears.
    pub posted_at: Millis,
    /// Who finds it and when: the first finder, and sometimes a second
    /// organisation that reports it too.
    pub found: Vec<(usize, Millis)>,
    /// A re-upload: the post it copies (same content, later).
    pub reupload_of: Option<usize>,
    /// A mirror of the group-run site.
    pub mirror: bool,
    /// Chance draw for the platform's response to a referral of this post.
    pub fate: f64,
    /// Draw for the delay of that response.
    pub delay_draw: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct World {
    pub seed: u64,
    pub platforms: Vec<SimPlatform>,
    pub orgs: Vec<SimOrg>,
    pub contents: Vec<Content>,
    pub posts: Vec<Post>,
}

/// Platform kinds in the demo, with how many of each and how they behave
/// (share removed, median minutes, spread, orders on time).
const KINDS: &[(PlatformKind, usize, f64, f64, f64, f64)] = &[
    (PlatformKind::Social, 8, 0.92, 90.0, 1.0, 0.95),
    (PlatformKind::Video, 7, 0.90, 150.0, 1.0, 0.92),
    (PlatformKind::FileHost, 9, 0.62, 900.0, 1.2, 0.70),
    (PlatformKind::Chat, 5, 0.78, 360.0, 1.1, 0.85),
    (PlatformKind::Forum, 5, 0.68, 700.0, 1.2, 0.75),
    (PlatformKind::Archive, 4, 0.50, 1600.0, 1.0, 0.60),
    (PlatformKind::Paste, 6, 0.72, 480.0, 1.1, 0.80),
    (PlatformKind::Hosting, 3, 0.85, 600.0, 0.8, 0.90),
    (PlatformKind::Registrar, 2, 0.70, 1400.0, 0.8, 0.70),
    (PlatformKind::Cdn, 2, 0.80, 800.0, 0.8, 0.85),
    (PlatformKind::GroupRun, 1, 0.0, 0.0, 0.0, 0.0),
];

const LANGUAGES: [&str; 6] = ["en", "de", "fr", "ar", "es", "nl"];
const GROUPS: [&str; 5] = [
    "Group Alpha",
    "Group Bravo",
    "Group Charlie",
    "Group Delta",
    "Outlet Echo",
];
const ORGS: [(&str, bool); 6] = [
    ("Referral Unit North", true),
    ("Referral Unit South", true),
    ("Watch NGO", false),
    ("Research Lab", false),
    ("Civil Society Network", false),
    ("Observatory", false),
];

/// Roughly how many posts (items) the action day finds.
pub const TARGET_POSTS: usize = 2_000;

impl World {
    /// Draws the world for `seed`, with about [`TARGET_POSTS`] posts.
    pub fn generate(seed: u64) -> World {
        World::generate_sized(seed, TARGET_POSTS)
    }

    /// Draws the world for `seed` with about `posts` first posts (mirrors
    /// and re-uploads come on top); a smaller world for tests.
    pub fn generate_sized(seed: u64, posts: usize) -> World {
        let mut rng = Rng::new(seed);
        let platforms = platforms(&mut rng);
        let orgs = ORGS
            .iter()
            .map(|(n, a)| SimOrg {
                name: (*n).to_owned(),
                authority: *a,
            })
            .collect();
        let mut world = World {
            seed,
            platforms,
            orgs,
            contents: Vec::new(),
            posts: Vec::new(),
        };
        world.post_content(&mut rng, posts);
        world
    }

    /// The group-run site.
    pub fn group_site(&self) -> usize {
        self.platforms
            .iter()
            .position(|p| p.kind == PlatformKind::GroupRun)
            .unwrap_or(0)
    }

    /// The URL of a post on the simulated internet listening on `port`.
    pub fn url(&self, post: usize, port: u16) -> String {
        let p = &self.posts[post];
        format!(
            "http://{}:{port}{}",
            self.platforms[p.platform].host, p.path
        )
    }

    fn post_content(&mut self, rng: &mut Rng, target: usize) {
        // Where content goes: weights per platform, by kind (big social and
        // video platforms carry more).
        let weights: Vec<f64> = self
            .platforms
            .iter()
            .map(|p| match p.kind {
                PlatformKind::Social | PlatformKind::Video => 3.0,
                PlatformKind::FileHost | PlatformKind::Paste => 2.0,
                PlatformKind::Chat | PlatformKind::Forum | PlatformKind::Archive => 1.2,
                // Infrastructure hosts no posts; the group site gets its own.
                PlatformKind::Hosting | PlatformKind::Registrar | PlatformKind::Cdn => 0.0,
                PlatformKind::GroupRun => 0.0,
            })
            .collect();
        let site = self.group_site();
        let day1 = START + 2 * HOUR; // 08:00
        while self.posts.len() < target {
            let c = self.contents.len();
            let kind = if rng.chance(0.7) {
                ContentKind::Picture
            } else {
                ContentKind::Text
            };
            self.contents.push(Content {
                kind,
                seed: rng.next_u64(),
                violating: rng.chance(0.92),
                group: GROUPS[rng.below(GROUPS.len())],
            });
            // The same content on 1 to 5 platforms (mostly 1 or 2).
            let copies = 1
                + usize::from(rng.chance(0.45))
                + usize::from(rng.chance(0.2))
                + usize::from(rng.chance(0.1))
                + usize::from(rng.chance(0.05));
            let mut used = Vec::new();
            for _ in 0..copies {
                let mut platform = rng.weighted(&weights);
                if used.contains(&platform) {
                    platform = rng.weighted(&weights);
                }
                used.push(platform);
                let posted_at = START - rng.range(0, 30 * 24) as Millis * HOUR;
                let found_at = day1 + rng.range(0, 12 * 60) as Millis * MINUTE;
                self.push_post(rng, c, platform, posted_at, found_at, None, false);
            }
            // The group's own site carries some of its content.
            if rng.chance(0.03) {
                let found_at = day1 + rng.range(0, 12 * 60) as Millis * MINUTE;
                self.push_post(rng, c, site, START - 10 * 24 * HOUR, found_at, None, false);
            }
        }
        // Mirrors of the group-run site on file hosts and paste sites.
        let site_posts: Vec<usize> = (0..self.posts.len())
            .filter(|&i| self.posts[i].platform == site)
            .collect();
        let mirror_hosts: Vec<usize> = (0..self.platforms.len())
            .filter(|&i| {
                matches!(
                    self.platforms[i].kind,
                    PlatformKind::FileHost | PlatformKind::Paste
                )
            })
            .collect();
        for &sp in site_posts.iter().take(12) {
            let host = mirror_hosts[rng.below(mirror_hosts.len())];
            let found_at = day1 + rng.range(4 * 60, 12 * 60) as Millis * MINUTE;
            let content = self.posts[sp].content;
            self.push_post(rng, content, host, START - HOUR, found_at, None, true);
        }
        // Re-uploads on day two: content posted again at a new location,
        // found by the morning sweep.
        let originals = self.posts.len();
        let day2 = START + 26 * HOUR; // day two, 08:00
        for i in 0..originals {
            if self.platforms[self.posts[i].platform].kind == PlatformKind::GroupRun
                || !rng.chance(0.06)
            {
                continue;
            }
            let platform = if rng.chance(0.5) {
                self.posts[i].platform
            } else {
                rng.weighted(&weights)
            };
            let posted_at = day2 - rng.range(0, 10 * 60) as Millis * MINUTE;
            let found_at = day2 + rng.range(0, 6 * 60) as Millis * MINUTE;
            let content = self.posts[i].content;
            self.push_post(rng, content, platform, posted_at, found_at, Some(i), false);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_post(
        &mut self,
        rng: &mut Rng,
        content: usize,
        platform: usize,
        posted_at: Millis,
        found_at: Millis,
        reupload_of: Option<usize>,
        mirror: bool,
    ) {
        let index = self.posts.len();
        let first = rng.below(self.orgs.len());
        let mut found = vec![(first, found_at)];
        // Deconfliction: one in eight is also found by another organisation.
        if rng.chance(0.125) {
            let other = (first + 1 + rng.below(self.orgs.len() - 1)) % self.orgs.len();
            found.push((other, found_at + rng.range(5, 240) as Millis * MINUTE));
        }
        let prefix = match self.platforms[platform].kind {
            PlatformKind::Video => "watch",
            PlatformKind::FileHost => "file",
            PlatformKind::Paste => "p",
            PlatformKind::Forum => "thread",
            PlatformKind::Chat => "msg",
            PlatformKind::Archive => "web",
            _ => "post",
        };
        self.posts.push(Post {
            content,
            platform,
            path: format!("/{prefix}/{:06}-{:04x}", index, rng.next_u64() & 0xffff),
            posted_at,
            found,
            reupload_of,
            mirror,
            fate: rng.unit(),
            delay_draw: rng.normal(),
        });
    }
}

fn platforms(rng: &mut Rng) -> Vec<SimPlatform> {
    let mut out = Vec::new();
    for &(kind, count, removes, median, sigma, on_time) in KINDS {
        for n in 1..=count {
            let slug = format!("{}-{n:02}", kind.as_str().replace('_', ""));
            let channel = match kind {
                PlatformKind::Social | PlatformKind::Video => ChannelKind::Api,
                PlatformKind::Paste => ChannelKind::WebForm,
                PlatformKind::GroupRun => ChannelKind::Manual,
                _ if rng.chance(0.25) => ChannelKind::Api,
                _ => ChannelKind::Email,
            };
            // A few platforms never act on referrals.
            let removes = if kind != PlatformKind::GroupRun && rng.chance(0.06) {
                0.0
            } else {
                removes
            };
            out.push(SimPlatform {
                name: title(kind, n),
                kind,
                host: format!("{slug}.example"),
                channel,
                language: LANGUAGES[rng.below(LANGUAGES.len())],
                removed_as: match rng.below(3) {
                    0 => RemovedAs::NotFound,
                    1 => RemovedAs::Gone,
                    _ => RemovedAs::NoticePage,
                },
                behaviour: Behaviour {
                    removes,
                    median_minutes: median,
                    sigma,
                    orders_on_time: on_time,
                },
                tco: kind != PlatformKind::GroupRun && rng.chance(0.7),
                providers: Vec::new(),
            });
        }
    }
    // The group-run site's infrastructure: one of each provider kind.
    let pick = |kind: PlatformKind, out: &[SimPlatform]| out.iter().position(|p| p.kind == kind);
    let providers: Vec<usize> = [
        PlatformKind::Hosting,
        PlatformKind::Registrar,
        PlatformKind::Cdn,
    ]
    .into_iter()
    .filter_map(|k| pick(k, &out))
    .collect();
    if let Some(site) = out.iter_mut().find(|p| p.kind == PlatformKind::GroupRun) {
        site.providers = providers;
        site.host = "group-site.example".into();
    }
    out
}

fn title(kind: PlatformKind, n: usize) -> String {
    let word = match kind {
        PlatformKind::Social => "Social",
        PlatformKind::Video => "Video",
        PlatformKind::FileHost => "Files",
        PlatformKind::Chat => "Chat",
        PlatformKind::Forum => "Forum",
        PlatformKind::Archive => "Archive",
        PlatformKind::Paste => "Paste",
        PlatformKind::Hosting => "Hosting",
        PlatformKind::Registrar => "Registrar",
        PlatformKind::Cdn => "CDN",
        PlatformKind::GroupRun => return "Group Site".to_owned(),
    };
    format!("{word} {n:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_world() {
        assert_eq!(World::generate(7), World::generate(7));
        assert_ne!(World::generate(7).posts, World::generate(8).posts);
    }

    #[test]
    fn the_world_has_52_platforms_and_about_2000_posts() {
        let w = World::generate(1);
        assert_eq!(w.platforms.len(), 52);
        assert!(w.posts.len() >= TARGET_POSTS && w.posts.len() < TARGET_POSTS + 400);
        let site = w.group_site();
        assert_eq!(w.platforms[site].kind, PlatformKind::GroupRun);
        assert_eq!(w.platforms[site].providers.len(), 3);
        assert!(w.posts.iter().any(|p| p.mirror));
        assert!(w.posts.iter().any(|p| p.reupload_of.is_some()));
        assert!(w.posts.iter().any(|p| p.found.len() == 2));
        // Content is shared across platforms.
        let mut per_content = vec![0; w.contents.len()];
        for p in &w.posts {
            per_content[p.content] += 1;
        }
        assert!(per_content.iter().any(|&n| n >= 3));
        // Every path is unique per host.
        let mut urls: Vec<String> = (0..w.posts.len()).map(|i| w.url(i, 1)).collect();
        urls.sort();
        urls.dedup();
        assert_eq!(urls.len(), w.posts.len());
    }
}
