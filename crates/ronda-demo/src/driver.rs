//! The action day, replayed: a real Ronda (store, HTTP API, capture,
//! deconfliction, review queue, referrals and removal orders, delivery
//! and liveness workers) against the simulated internet, on a manual clock
//! that moves in steps of five simulated minutes.
//!
//! Analysts submit what they find through the HTTP API (so every item is
//! fetched, hashed, matched and deconflicted as in production); reviewers
//! claim and decide through the store's review queue; referrals are
//! created per organisation and delivered by the same workers `ronda
//! serve` runs; web-form channels are filled in by the simulated analysts;
//! platforms answer removal orders with Annex II or III. Within a step
//! everything runs in a fixed order, so a seed gives the same records.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use ronda_fetch::{FetchPolicy, Fetcher, IpCidr};
use ronda_server::delivery::{Sender, SmtpSettings};
use ronda_server::workers::{WorkerSettings, Workers};
use ronda_server::{AppState, ServerConfig};
use ronda_store::{
    Actor, Authority, AuthorityType, ChannelKind, Clock, Durability, ImpossibilityReason,
    ItemViewer, Measure, NewAssessment, NewCampaign, NewReferral, NewResponse, PlatformKind,
    PlatformSpec, ProviderRole, ReferralChannel, ReferralFilter, ReferralKind, ReferralStatus,
    ReferralViewer, RemovalOrderSpec, RemovalRules, ResponseKind, ResponseSource, Role, Store,
    TcoReason, Verdict,
};
use tokio::sync::oneshot;

use crate::internet::{self, Internet, NOTICE};
use crate::world::{DURATION, HOUR, MINUTE, RemovedAs, START, World};

/// Simulated minutes per step.
pub const STEP: i64 = 5 * MINUTE;
/// Items each organisation's reviewers decide per step.
const REVIEWS_PER_STEP: usize = 8;
/// The campaign's name.
pub const CAMPAIGN: &str = "Action day";

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    /// Where the store lives (kept after the run).
    pub data_dir: PathBuf,
    /// Where the API listens (port 0: any free port on loopback).
    pub listen: SocketAddr,
    /// About how many posts the world has ([`crate::world::TARGET_POSTS`]
    /// for the demo; fewer in tests).
    pub posts: usize,
}

/// What the run did, counted as it went (the report is computed from the
/// store, not from these).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub submissions: usize,
    pub capture_errors: usize,
    pub reviews: usize,
    pub referrals: usize,
    pub orders: usize,
    pub manual_deliveries: usize,
    pub responses: usize,
    pub checks: usize,
}

/// Progress, reported every simulated hour.
#[derive(Debug, Clone)]
pub struct Progress {
    pub simulated: i64,
    pub counts: RunCounts,
}

/// A finished run: the store, and the API still serving it.
#[derive(Debug)]
pub struct Finished {
    pub store: Store,
    pub world: Arc<World>,
    pub internet: Arc<Internet>,
    pub campaign_id: i64,
    pub counts: RunCounts,
    /// Where the API (and the UI) answers.
    pub api: SocketAddr,
    /// The port of the simulated internet (URLs carry it).
    pub web_port: u16,
    /// An administrator token for the API.
    pub admin_token: String,
    /// The password of the UI user `demo` (an administrator).
    pub ui_password: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Finished {
    /// Stops the API and closes the store.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.context("the demo's server task")??;
        }
        self.store.sync_to_disk().await?;
        self.store.close().await;
        Ok(())
    }
}

struct Org {
    id: i64,
    authority: bool,
    token: String,
    analyst: Actor,
    reviewer: Actor,
}

/// Runs the two-day action day and returns with the API still up.
pub async fn run(options: &Options, mut progress: impl FnMut(&Progress)) -> Result<Finished> {
    let world = Arc::new(World::generate_sized(options.seed, options.posts));
    let clock = Clock::manual(START - HOUR);
    let store = Store::open_with(None, &options.data_dir, Durability::OnSync)
        .await
        .with_context(|| format!("could not open the store in {}", options.data_dir.display()))?
        .with_clock(clock.clone());
    if !store.list_campaigns().await?.is_empty() {
        bail!(
            "{} already holds a demo; give an empty or new --data-dir",
            options.data_dir.display()
        );
    }
    let internet = Arc::new(Internet::new(world.clone(), clock.clone()));
    let (web, smtp) = internet::start(internet.clone())
        .await
        .context("could not start the simulated internet")?;

    let setup = Actor::local("demo");
    let platform_ids = seed_platforms(&store, &world, web.port(), &setup).await?;
    let campaign = store
        .create_campaign(
            &NewCampaign {
                name: CAMPAIGN.to_owned(),
                starts_at: Some(START),
                ends_at: Some(START + DURATION),
            },
            &setup,
        )
        .await?;
    let mut orgs = Vec::new();
    for o in &world.orgs {
        let org = store.create_organisation(&o.name, &setup).await?;
        let (_, token) = store
            .create_token(
                &format!("{} analysts", o.name),
                Role::Analyst,
                Some(org.id),
                &setup,
            )
            .await?;
        orgs.push(Org {
            id: org.id,
            authority: o.authority,
            token,
            analyst: Actor::local(&format!("analyst@{}", o.name)),
            reviewer: Actor::local(&format!("reviewer@{}", o.name)),
        });
    }
    let (_, admin_token) = store
        .create_token("demo administrator", Role::Admin, None, &setup)
        .await?;
    // A person to log in to the UI as: `demo`, with a fresh password.
    let mut secret = [0u8; 12];
    getrandom::fill(&mut secret)
        .map_err(|e| anyhow::anyhow!("no randomness for the demo password: {e}"))?;
    let ui_password: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    store
        .create_user(&ronda_store::NewUser::new("demo", Role::Admin), &setup)
        .await?;
    store.set_password("demo", &ui_password, &setup).await?;

    // The node: the real server, fetching from the simulated internet.
    let mut fetch = FetchPolicy::default().allow(IpCidr::from(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    for p in &world.platforms {
        fetch = fetch.host(&p.host, [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    }
    let config = ServerConfig {
        fetch: fetch.clone(),
        blob_dir: Some(options.data_dir.join("blobs")),
        ..ServerConfig::default()
    };
    let state = AppState::new(store.clone(), config).context("could not set up the server")?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("could not listen on {}", options.listen))?;
    let api = listener.local_addr()?;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(ronda_server::serve(state, listener, async move {
        let _ = stop_rx.await;
    }));
    let fetcher = Fetcher::new(fetch).context("could not set up fetching")?;
    let workers = Workers::new(
        store.clone(),
        Sender::new(
            fetcher.clone(),
            Some(SmtpSettings {
                host: smtp.ip().to_string(),
                port: smtp.port(),
                starttls: false,
                username: None,
                password: None,
                from: "referrals@ronda.example".into(),
            }),
        ),
        fetcher,
        WorkerSettings {
            recheck_after: HOUR,
            checks_per_platform: 40,
            check_batch: 1000,
            ..WorkerSettings::default()
        },
    );
    // The analysts' browser: platform names lead to the simulated internet.
    let mut http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30));
    for p in &world.platforms {
        http = http.resolve(&p.host, web);
    }
    let http = http.build()?;
    wait_ready(&http, api).await?;

    let mut counts = RunCounts::default();
    let mut day = Day {
        world: &world,
        internet: &internet,
        store: &store,
        orgs: &orgs,
        campaign_id: campaign.id,
        platform_ids: &platform_ids,
        web_port: web.port(),
        http: &http,
        api,
        counts: &mut counts,
        answered: std::collections::HashSet::new(),
        posts_by_url: (0..world.posts.len())
            .rev()
            .map(|i| (world.url(i, web.port()), i))
            .collect(),
    };
    let mut t = START;
    while t <= START + DURATION {
        clock.set(t);
        day.submit_found(t).await?;
        day.review().await?;
        if (t - START) % (30 * MINUTE) == 0 {
            day.refer(t).await?;
        }
        workers.deliver_due().await?;
        day.fill_in_forms().await?;
        day.answer_orders(t).await?;
        if (t - START) % (30 * MINUTE) == 0 {
            let checks = workers.check_due().await?;
            day.counts.checks += checks.checked;
        }
        if (t - START) % HOUR == 0 {
            progress(&Progress {
                simulated: t - START,
                counts: day.counts.clone(),
            });
        }
        t += STEP;
    }
    Ok(Finished {
        store,
        world,
        internet,
        campaign_id: campaign.id,
        counts,
        api,
        web_port: web.port(),
        admin_token,
        ui_password,
        stop: Some(stop_tx),
        server: Some(server),
    })
}

async fn wait_ready(http: &reqwest::Client, api: SocketAddr) -> Result<()> {
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("http://{api}/status")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    bail!("the demo's API did not become ready")
}

/// The directory entries of the simulated platforms; their ids by index.
async fn seed_platforms(
    store: &Store,
    world: &World,
    port: u16,
    actor: &Actor,
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(world.platforms.len());
    for p in &world.platforms {
        let mut spec = PlatformSpec::new(p.name.clone(), p.kind);
        spec.domains = vec![p.host.clone()];
        spec.channel = match p.channel {
            ChannelKind::Api => ReferralChannel {
                kind: ChannelKind::Api,
                target: Some(format!("http://{}:{port}/ronda/referrals", p.host)),
            },
            ChannelKind::Email => ReferralChannel {
                kind: ChannelKind::Email,
                target: Some(format!("abuse@{}", p.host)),
            },
            ChannelKind::WebForm => ReferralChannel {
                kind: ChannelKind::WebForm,
                target: Some(format!("http://{}:{port}/report-abuse", p.host)),
            },
            ChannelKind::Manual => ReferralChannel::default(),
        };
        spec.tco_contact = p.tco.then(|| format!("tco@{}", p.host));
        spec.language = Some(p.language.to_owned());
        spec.removal = match p.removed_as {
            RemovedAs::NotFound => RemovalRules {
                status_codes: vec![404],
                page_patterns: Vec::new(),
            },
            RemovedAs::Gone => RemovalRules {
                status_codes: vec![410],
                page_patterns: Vec::new(),
            },
            RemovedAs::NoticePage => RemovalRules {
                status_codes: Vec::new(),
                page_patterns: vec![NOTICE.to_owned()],
            },
        };
        ids.push(store.create_platform(&spec, actor).await?.id);
    }
    let site = world.group_site();
    for &provider in &world.platforms[site].providers {
        let role = match world.platforms[provider].kind {
            PlatformKind::Registrar => ProviderRole::Registrar,
            PlatformKind::Cdn => ProviderRole::Cdn,
            _ => ProviderRole::Hosting,
        };
        store
            .add_platform_provider(
                &world.platforms[site].name,
                &world.platforms[provider].name,
                role,
                actor,
            )
            .await?;
    }
    Ok(ids)
}

/// One simulated action day in progress.
struct Day<'a> {
    world: &'a World,
    internet: &'a Internet,
    store: &'a Store,
    orgs: &'a [Org],
    campaign_id: i64,
    platform_ids: &'a [i64],
    web_port: u16,
    http: &'a reqwest::Client,
    api: SocketAddr,
    counts: &'a mut RunCounts,
    /// Referrals whose platform has answered.
    answered: std::collections::HashSet<i64>,
    posts_by_url: std::collections::HashMap<String, usize>,
}

/// The Art. 2(7) reason a reviewer gives content of a group.
fn reason_for(seed: u64) -> TcoReason {
    match seed % 5 {
        0 => TcoReason::Incites,
        1 => TcoReason::SolicitsToCommit,
        2 => TcoReason::SolicitsToParticipate,
        3 => TcoReason::Instruction,
        _ => TcoReason::Threat,
    }
}

impl Day<'_> {
    /// Analysts submit what they found in this step, through the API.
    async fn submit_found(&mut self, t: i64) -> Result<()> {
        let mut found: Vec<(i64, usize, usize)> = Vec::new();
        for (i, p) in self.world.posts.iter().enumerate() {
            for &(org, at) in &p.found {
                if at > t - STEP && at <= t {
                    found.push((at, i, org));
                }
            }
        }
        found.sort_unstable();
        for (_, post, org) in found {
            let url = self.world.url(post, self.web_port);
            let answer = self
                .http
                .post(format!("http://{}/api/v1/items", self.api))
                .bearer_auth(&self.orgs[org].token)
                .json(&serde_json::json!({
                    "url": url,
                    "campaign": CAMPAIGN,
                    "note": "found in the sweep",
                }))
                .send()
                .await?;
            let status = answer.status();
            let body: serde_json::Value = answer.json().await.unwrap_or_default();
            if !status.is_success() {
                bail!("submitting an item failed with {status}: {body}");
            }
            self.counts.submissions += 1;
            if !body["capture_error"].is_null() {
                self.counts.capture_errors += 1;
            }
            let p = &self.world.posts[post];
            if p.mirror
                && let Some(id) = body["id"].as_i64()
            {
                let site = self.platform_ids[self.world.group_site()];
                self.store
                    .link_mirror(site, id, &self.orgs[org].analyst)
                    .await?;
            }
        }
        Ok(())
    }

    /// Each organisation's reviewers decide what waits in its queue.
    async fn review(&mut self) -> Result<()> {
        for org in self.orgs {
            for _ in 0..REVIEWS_PER_STEP {
                let Some(task) = self
                    .store
                    .claim_next_review(ItemViewer::Org(Some(org.id)), 15 * MINUTE, &org.reviewer)
                    .await?
                else {
                    break;
                };
                let item_id = task.item.id;
                let post = self.post_of(&task.item.url);
                let (verdict, content) = match post {
                    Some(p) => {
                        let c = &self.world.contents[self.world.posts[p].content];
                        (
                            if c.violating {
                                Verdict::TerroristContent
                            } else {
                                Verdict::NotTerroristContent
                            },
                            Some(c),
                        )
                    }
                    None => (Verdict::NotTerroristContent, None),
                };
                let mut decision = NewAssessment::new(verdict);
                if verdict == Verdict::TerroristContent
                    && let Some(c) = content
                {
                    decision.reason = Some(reason_for(c.seed));
                    decision.group = Some(c.group.to_owned());
                    decision.severity = Some(1 + (c.seed % 5) as u8);
                }
                self.store
                    .decide_review(
                        item_id,
                        &decision,
                        ItemViewer::Org(Some(org.id)),
                        &org.reviewer,
                    )
                    .await?;
                self.counts.reviews += 1;
            }
        }
        Ok(())
    }

    /// Every half hour each organisation refers what it assessed;
    /// authorities issue removal orders for some items on hosts in the EU.
    async fn refer(&mut self, t: i64) -> Result<()> {
        for org in self.orgs {
            if org.authority {
                self.issue_orders(org, t).await?;
            }
            let done = self
                .store
                .refer_campaign(
                    self.campaign_id,
                    None,
                    true,
                    ItemViewer::Org(Some(org.id)),
                    &org.analyst,
                )
                .await?;
            self.counts.referrals += done.created.len();
        }
        Ok(())
    }

    async fn issue_orders(&mut self, org: &Org, t: i64) -> Result<()> {
        let items = self
            .store
            .list_items(
                &ronda_store::ItemFilter {
                    campaign_id: Some(self.campaign_id),
                    status: Some(ronda_store::ItemStatus::Assessed),
                    org_id: Some(org.id),
                    first_reports_only: true,
                    limit: 1000,
                    ..Default::default()
                },
                ItemViewer::Org(Some(org.id)),
            )
            .await?;
        for view in items {
            let item = &view.item;
            let Some(post) = self.post_of(&item.url) else {
                continue;
            };
            let p = &self.world.posts[post];
            let platform = &self.world.platforms[p.platform];
            // One in three items on a host that takes orders.
            if !platform.tco || post % 3 != 0 {
                continue;
            }
            let spec = RemovalOrderSpec {
                issuing_state: "NL".into(),
                authority: Authority {
                    kind: AuthorityType::LawEnforcement,
                    name: self.world.orgs[self.org_index(org.id)].name.clone(),
                    representative: "Duty officer".into(),
                    file_number: format!("F-{}", item.id),
                    contact: "tco@unit.example".into(),
                },
                addressee: None,
                addressee_contact: None,
                issued_at: t,
                reference_number: format!("RO-{}-{}", self.world.seed, item.id),
                urls: Vec::new(),
                identifiers: Vec::new(),
                reasons: vec![reason_for(self.world.contents[p.content].seed)],
                grounds: "Assessed as terrorist content during the action day.".into(),
                non_disclosure: false,
                non_disclosure_until: None,
                cross_border: false,
                host_member_state: None,
                redress: "Appeal to the competent court within the time limit of national law."
                    .into(),
            };
            let created = self
                .store
                .create_referrals(
                    &NewReferral {
                        item_id: item.id,
                        platform_id: None,
                        kind: ReferralKind::RemovalOrder,
                        order: Some(spec),
                        emergency: true,
                        queue: true,
                    },
                    ItemViewer::Org(Some(org.id)),
                    &org.analyst,
                )
                .await;
            match created {
                Ok(r) => self.counts.orders += r.len(),
                // Already referred, or not referable: the store says why.
                Err(
                    ronda_store::StoreError::Conflict { .. }
                    | ronda_store::StoreError::InvalidInput(_),
                ) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Referrals through web forms and manual channels: the analyst pastes
    /// the package into the platform's form, then marks it sent.
    async fn fill_in_forms(&mut self) -> Result<()> {
        let drafts = self
            .store
            .list_referrals(
                &ReferralFilter {
                    campaign_id: Some(self.campaign_id),
                    status: Some(ReferralStatus::Draft),
                    limit: 1000,
                    ..Default::default()
                },
                ReferralViewer::Everyone,
            )
            .await?;
        for r in drafts {
            if matches!(r.channel.kind, ChannelKind::Api | ChannelKind::Email) {
                continue;
            }
            if let Some(target) = &r.channel.target {
                let answer = self
                    .http
                    .post(target)
                    .form(&[
                        ("reference", r.idempotency_key.as_str()),
                        ("urls", r.url.as_str()),
                        ("kind", r.kind.as_str()),
                    ])
                    .send()
                    .await?;
                if !answer.status().is_success() {
                    continue;
                }
            }
            let analyst = self
                .orgs
                .iter()
                .find(|o| Some(o.id) == r.org_id)
                .map_or_else(|| Actor::local("demo"), |o| o.analyst.clone());
            self.store.mark_referral_sent(r.id, None, &analyst).await?;
            self.counts.manual_deliveries += 1;
        }
        Ok(())
    }

    /// Platforms answer removal orders: Annex II when they removed the
    /// content, Annex III (manifest errors... or impossibility) when they
    /// will not; entered by the referral unit from the platform's answer.
    async fn answer_orders(&mut self, t: i64) -> Result<()> {
        let removals = self.internet.removals_until(t);
        if removals.is_empty() {
            return Ok(());
        }
        let removed_posts: std::collections::HashMap<usize, i64> =
            removals.iter().map(|r| (r.post, r.at)).collect();
        let orders = self
            .store
            .list_referrals(
                &ReferralFilter {
                    campaign_id: Some(self.campaign_id),
                    kind: Some(ReferralKind::RemovalOrder),
                    limit: 1000,
                    ..Default::default()
                },
                ReferralViewer::Everyone,
            )
            .await?;
        for r in orders {
            if self.answered.contains(&r.id)
                || !matches!(
                    r.status,
                    ReferralStatus::Sent | ReferralStatus::Acknowledged
                )
            {
                continue;
            }
            let Some(post) = self.post_of(&r.url) else {
                continue;
            };
            let response = if let Some(&at) = removed_posts.get(&post) {
                NewResponse {
                    kind: ResponseKind::AnnexII,
                    measure: Some(Measure::Removed),
                    measure_at: Some(at),
                    reason: None,
                    explanation: None,
                    authority_file_ref: None,
                    platform_file_ref: Some(format!("P-{}", r.id)),
                    received_at: r.sent_at,
                }
            } else if r.sent_at.is_some_and(|s| t - s >= 6 * HOUR) {
                NewResponse {
                    kind: ResponseKind::AnnexIII,
                    measure: None,
                    measure_at: None,
                    reason: Some(ImpossibilityReason::ForceMajeureOrDeFactoImpossibility),
                    explanation: Some("The host could not act on the order.".into()),
                    authority_file_ref: None,
                    platform_file_ref: Some(format!("P-{}", r.id)),
                    received_at: r.sent_at,
                }
            } else {
                continue;
            };
            self.store
                .record_response(
                    r.id,
                    &response,
                    ResponseSource::Manual,
                    ReferralViewer::Everyone,
                    &Actor::local("demo"),
                )
                .await?;
            self.answered.insert(r.id);
            self.counts.responses += 1;
        }
        Ok(())
    }

    /// The first post at `url` (re-uploads may share a location).
    fn post_of(&self, url: &str) -> Option<usize> {
        self.posts_by_url.get(url).copied()
    }

    fn org_index(&self, id: i64) -> usize {
        self.orgs.iter().position(|o| o.id == id).unwrap_or(0)
    }
}
