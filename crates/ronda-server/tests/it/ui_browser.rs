//! The web UI in a real browser: headless Chromium driven through
//! WebDriver (`chromedriver`, with the `fantoccini` client). A person logs
//! in, submits an item with a generated picture through the form, finds
//! it in the list, opens it, sees the picture blurred and in greyscale,
//! reveals it with a click, uses a keyboard shortcut and logs out. And the
//! referral unit's whole path: submit, claim from the review queue, decide
//! with a keyboard shortcut, refer to a web-form platform, mark it sent,
//! and read the referral in the campaign's report.
//!
//! Without `chromedriver` (Debian's `chromium-driver`) the test says it
//! was skipped and passes, unless `RONDA_REQUIRE_BROWSER=1`, when it fails.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use ronda_store::{
    Actor, ChannelKind, ItemViewer, NewCampaign, PlatformKind, PlatformSpec, ReferralChannel,
    ReferralFilter, ReferralViewer, Role, Store,
};
use serde_json::{Value, json};

use crate::ui::{PASSWORD, person, png, start};

/// How long any one wait for the browser may take.
const WAIT: Duration = Duration::from_secs(15);
/// How long the whole scenario may take.
const SCENARIO: Duration = Duration::from_secs(120);

/// The first of `names` found as an executable file on `PATH` or in
/// `/usr/bin`.
fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain([
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/chromium"),
        ])
        .collect();
    for name in names {
        for dir in &dirs {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// A running chromedriver on a free loopback port; killed when dropped,
/// whatever happened in between.
struct ChromeDriver {
    child: Child,
    port: u16,
    chromium: PathBuf,
}

impl ChromeDriver {
    /// Starts chromedriver; `None` (the test is skipped) when it or
    /// Chromium is not installed and `RONDA_REQUIRE_BROWSER` is not `1`.
    fn start() -> Option<ChromeDriver> {
        let driver = find_binary(&["chromedriver"]);
        let chromium = find_binary(&["chromium", "chromium-browser", "google-chrome"]);
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            let required = std::env::var("RONDA_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "RONDA_REQUIRE_BROWSER=1 but chromedriver or chromium is missing: \
                 install chromium and chromium-driver"
            );
            eprintln!("skipped: install chromium-driver (and chromium) to run the browser test");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} did not start: {e}", driver.display()));
        let mut cd = ChromeDriver {
            child,
            port,
            chromium,
        };
        cd.wait_listening();
        Some(cd)
    }

    fn wait_listening(&mut self) {
        let start = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited before listening: {status}");
            }
            assert!(
                start.elapsed() < WAIT,
                "chromedriver did not listen on port {} within {WAIT:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    async fn connect(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": self.chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = ClientBuilder::new(connector);
        builder.capabilities(caps);
        let webdriver = format!("http://127.0.0.1:{}", self.port);
        tokio::time::timeout(Duration::from_secs(60), builder.connect(&webdriver))
            .await
            .expect("no browser session within 60 s")
            .expect("chromedriver refused to start a browser session")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_submits_a_picture_and_reveals_it_in_a_browser() {
    let Some(driver) = ChromeDriver::start() else {
        return;
    };
    let (s, _blobs) = start().await;
    person(&s, "olga", Role::Analyst, Some("Org O")).await;
    s.store
        .create_campaign(
            &NewCampaign {
                name: "Action day".into(),
                starts_at: None,
                ends_at: None,
            },
            &Actor::local("test"),
        )
        .await
        .unwrap();
    let files = tempfile::tempdir().unwrap();
    let picture = files.path().join("capture.png");
    std::fs::write(&picture, png(7)).unwrap();

    let client = driver.connect().await;
    let task = tokio::spawn(scenario(
        client.clone(),
        s.base.clone(),
        s.store.clone(),
        picture,
    ));
    let outcome = tokio::time::timeout(SCENARIO, task).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
    match outcome {
        Err(_) => panic!("the browser scenario did not finish within {SCENARIO:?}"),
        Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Ok(Err(e)) => panic!("the browser scenario failed: {e}"),
        Ok(Ok(())) => {}
    }
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

async fn path_of(c: &Client) -> String {
    let u = c.current_url().await.unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

async fn scenario(c: Client, base: String, store: Store, picture: PathBuf) {
    // Not logged in: the login page, which then leads back.
    c.goto(&format!("{base}/ui/items")).await.unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#password"))
        .await
        .unwrap();
    assert!(path_of(&c).await.starts_with("/ui/login"));
    c.find(Locator::Css("#name"))
        .await
        .unwrap()
        .send_keys("olga")
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("main button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form.filters"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "main h1").await, "Items");
    assert_eq!(path_of(&c).await, "/ui/items");

    // Submit an item with a picture through the form.
    c.goto(&format!("{base}/ui/items/new")).await.unwrap();
    let url = "https://video.example/watch/e2e-1";
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#url"))
        .await
        .unwrap()
        .send_keys(url)
        .await
        .unwrap();
    c.find(Locator::Css("#campaign"))
        .await
        .unwrap()
        .select_by_value("Action day")
        .await
        .unwrap();
    c.find(Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(&picture_path(&picture))
        .await
        .unwrap();
    c.find(Locator::Css("#note"))
        .await
        .unwrap()
        .send_keys("a bland note")
        .await
        .unwrap();
    c.find(Locator::Css("#submit button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text_of(&c, "#submitted").await, "Submitted.");
    assert_eq!(text_of(&c, "#item-url").await, url);
    let items = store
        .list_items(&Default::default(), ItemViewer::Everyone)
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    let id = items[0].item.id;
    assert_eq!(items[0].item.note.as_deref(), Some("a bland note"));
    assert_eq!(items[0].item.campaign.as_deref(), Some("Action day"));

    // The picture loads through the authenticated media route, blurred
    // and grey.
    let media = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#media"))
        .await
        .unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let w = js(&c, "return document.getElementById('media').naturalWidth;").await;
        if w == json!(96) {
            break;
        }
        assert!(Instant::now() < deadline, "the picture never loaded ({w})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let class = media.attr("class").await.unwrap().unwrap_or_default();
    assert!(class.contains("blur") && class.contains("grey"), "{class}");
    let filter = js(
        &c,
        "return getComputedStyle(document.getElementById('media')).filter;",
    )
    .await;
    let filter = filter.as_str().unwrap_or_default().to_owned();
    assert!(
        filter.contains("blur(") && filter.contains("grayscale("),
        "{filter}"
    );

    snapshot(&c, "item-blurred").await;

    // A click reveals it in place (the script; no page load), still grey.
    let before = path_of(&c).await;
    media.click().await.unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let class = media.attr("class").await.unwrap().unwrap_or_default();
        if !class.contains("blur") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still blurred after a click: {class}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        path_of(&c).await,
        before,
        "revealed without leaving the page"
    );
    let filter = js(
        &c,
        "return getComputedStyle(document.getElementById('media')).filter;",
    )
    .await;
    let filter = filter.as_str().unwrap_or_default().to_owned();
    assert!(
        !filter.contains("blur(") && filter.contains("grayscale("),
        "{filter}"
    );

    snapshot(&c, "item-revealed").await;

    // The item is in the list; its link leads back to it.
    c.goto(&format!("{base}/ui/items?q=e2e")).await.unwrap();
    let table = text_of(&c, "#items").await;
    assert!(table.contains(url), "{table}");
    c.find(Locator::Css(&format!("td.url a[href='/ui/items/{id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text_of(&c, "#item-url").await, url);
    assert_eq!(path_of(&c).await, format!("/ui/items/{id}"));

    // A keyboard shortcut: "p" opens the platform directory.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("p")
        .await
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while path_of(&c).await != "/ui/platforms" {
        assert!(Instant::now() < deadline, "the shortcut did nothing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Logging out leads to the login page, and the UI is closed again.
    c.find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#password"))
        .await
        .unwrap();
    c.goto(&format!("{base}/ui/")).await.unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#password"))
        .await
        .unwrap();
    assert!(path_of(&c).await.starts_with("/ui/login"));
}

/// Saves a screenshot into `RONDA_UI_SCREENSHOTS` (a directory), when
/// set: a way for a person to look at the pages the test saw.
async fn snapshot(c: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("RONDA_UI_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

fn picture_path(p: &Path) -> String {
    p.to_str().expect("a UTF-8 temporary path").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_is_reviewed_referred_and_reported_in_a_browser() {
    let Some(driver) = ChromeDriver::start() else {
        return;
    };
    let (s, _blobs) = start().await;
    person(&s, "vera", Role::Analyst, Some("Org V")).await;
    let test = Actor::local("test");
    s.store
        .create_campaign(
            &NewCampaign {
                name: "Action day".into(),
                starts_at: None,
                ends_at: None,
            },
            &test,
        )
        .await
        .unwrap();
    let mut clips = PlatformSpec::new("Clips", PlatformKind::Video);
    clips.domains = vec!["clips.example".into()];
    clips.channel = ReferralChannel {
        kind: ChannelKind::WebForm,
        target: Some("https://clips.example/report".into()),
    };
    s.store.create_platform(&clips, &test).await.unwrap();
    let files = tempfile::tempdir().unwrap();
    let picture = files.path().join("clip.png");
    std::fs::write(&picture, png(9)).unwrap();

    let client = driver.connect().await;
    let task = tokio::spawn(referral_scenario(
        client.clone(),
        s.base.clone(),
        s.store.clone(),
        picture,
    ));
    let outcome = tokio::time::timeout(SCENARIO, task).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
    match outcome {
        Err(_) => panic!("the browser scenario did not finish within {SCENARIO:?}"),
        Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Ok(Err(e)) => panic!("the browser scenario failed: {e}"),
        Ok(Ok(())) => {}
    }
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn wait_path(c: &Client, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let p = path_of(c).await;
        if ok(&p) {
            return p;
        }
        assert!(Instant::now() < deadline, "{what}: still at {p}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn referral_scenario(c: Client, base: String, store: Store, picture: PathBuf) {
    c.goto(&format!("{base}/ui/login")).await.unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#name"))
        .await
        .unwrap()
        .send_keys("vera")
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click(&c, "main button[type=submit]").await;
    wait_path(&c, "login", |p| p == "/ui/").await;

    // Submit an upload found on the web-form platform.
    c.goto(&format!("{base}/ui/items/new")).await.unwrap();
    let url = "https://clips.example/v/e2e-2";
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#url"))
        .await
        .unwrap()
        .send_keys(url)
        .await
        .unwrap();
    c.find(Locator::Css("#campaign"))
        .await
        .unwrap()
        .select_by_value("Action day")
        .await
        .unwrap();
    c.find(Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(&picture_path(&picture))
        .await
        .unwrap();
    click(&c, "#submit button[type=submit]").await;
    assert_eq!(text_of(&c, "#submitted").await, "Submitted.");
    let items = store
        .list_items(&Default::default(), ItemViewer::Everyone)
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    let id = items[0].item.id;
    assert_eq!(items[0].item.platform.as_deref(), Some("Clips"));

    // The review queue: claim the next item, which is this one.
    c.goto(&format!("{base}/ui/review")).await.unwrap();
    let queue = text_of(&c, "#queue").await;
    assert!(queue.contains(url), "{queue}");
    assert!(text_of(&c, "#reviewed-today").await.ends_with('0'));
    click(&c, "#claim").await;
    let review = format!("/ui/review/{id}");
    wait_path(&c, "claim", |p| p == review).await;
    let media = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#media"))
        .await
        .unwrap();
    let class = media.attr("class").await.unwrap().unwrap_or_default();
    assert!(class.contains("blur"), "{class}");
    snapshot(&c, "review").await;

    // Decide with a reason, by the keyboard shortcut "t".
    c.find(Locator::Css("#reason"))
        .await
        .unwrap()
        .select_by_value("incites")
        .await
        .unwrap();
    c.find(Locator::Css("#group"))
        .await
        .unwrap()
        .send_keys("Group X")
        .await
        .unwrap();
    c.find(Locator::Css("h1"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("t")
        .await
        .unwrap();
    wait_path(&c, "the decision shortcut", |p| {
        p.starts_with("/ui/review?decided=")
    })
    .await;
    assert!(text_of(&c, "#reviewed-today").await.ends_with('1'));
    let decided = store.assessments(id, ItemViewer::Everyone).await.unwrap();
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0].verdict.as_str(), "terrorist_content");
    assert_eq!(decided[0].group.as_deref(), Some("Group X"));

    // Refer it from the item page: a referral to Clips, by web form.
    c.goto(&format!("{base}/ui/items/{id}")).await.unwrap();
    click(&c, "#refer button").await;
    wait_path(&c, "refer", |p| p.starts_with("/ui/referrals/")).await;
    assert_eq!(text_of(&c, "#referral-status").await, "draft");
    let referrals = store
        .list_referrals(&ReferralFilter::default(), ReferralViewer::Everyone)
        .await
        .unwrap();
    assert_eq!(referrals.len(), 1);
    let rid = referrals[0].id;

    // In the list, then marked sent by hand.
    c.goto(&format!("{base}/ui/referrals")).await.unwrap();
    let list = text_of(&c, "#referrals").await;
    assert!(
        list.contains("Clips") && list.contains("web_form"),
        "{list}"
    );
    click(&c, &format!("a[href='/ui/referrals/{rid}']")).await;
    click(&c, "#mark-sent button").await;
    assert_eq!(text_of(&c, "#marked-sent").await, "Marked sent.");
    assert_eq!(text_of(&c, "#referral-status").await, "sent");
    snapshot(&c, "referral").await;

    // The campaign's report counts the referral.
    c.goto(&format!("{base}/ui/reports")).await.unwrap();
    click(&c, "#campaigns a").await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".card"))
        .await
        .unwrap();
    let mut figures = Vec::new();
    for card in c.find_all(Locator::Css(".card")).await.unwrap() {
        figures.push(card.text().await.unwrap());
    }
    let referral_card = figures
        .iter()
        .find(|f| f.contains("referrals ("))
        .unwrap_or_else(|| panic!("no referral figure in {figures:?}"));
    assert!(referral_card.starts_with('1'), "{referral_card}");
    snapshot(&c, "report").await;
}
