//! Delivering referrals and removal orders through each platform's
//! channel: an HTTP API (JSON, with the referral's idempotency key, so that
//! a retried delivery is recognised), e-mail through the configured SMTP
//! server (a plain-text body in the platform's language, the package as a
//! CSV attachment), or by hand (web forms, and channels with nothing
//! automatic: the package waits for a person to paste it).
//!
//! What is sent is the package alone: URLs, hashes, reasons and
//! references; never the captured content.
//!
//! A failed attempt is classified here as worth retrying (a network error,
//! a timeout, 408, 429, 5xx, an SMTP 4xx) or not (other 4xx, an SMTP 5xx, a
//! missing channel target); [`retry_delay`] gives the back-off.

use std::time::Duration;

use ronda_fetch::Fetcher;
use ronda_fetch::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use ronda_store::{ChannelKind, Millis, ReferralChannel};
use serde_json::Value;

/// The parts of a referral's package (the JSON the store prepared, which
/// is what an API channel receives as is) that the e-mail and the CSV show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageView {
    /// The idempotency key: the platform's handle on this referral.
    pub reference: String,
    /// `referral` or `removal_order`.
    pub kind: String,
    pub url: String,
    /// TCO Art. 2(7) reason.
    pub reason: Option<String>,
    pub group: Option<String>,
    /// RFC 3339: when it was reported.
    pub reported_at: Option<String>,
    pub sha256: Option<String>,
    /// The removal order's reference number.
    pub order_reference: Option<String>,
}

impl PackageView {
    /// Reads a package; missing fields are empty (the store writes them all).
    pub fn of(package: &Value) -> PackageView {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        PackageView {
            reference: text(&package["idempotency_key"]).unwrap_or_default(),
            kind: text(&package["kind"]).unwrap_or_default(),
            url: text(&package["item"]["url"]).unwrap_or_default(),
            reason: text(&package["assessment"]["tco_reason"]),
            group: text(&package["assessment"]["group"]),
            reported_at: text(&package["item"]["reported_at"]),
            sha256: text(&package["item"]["content_sha256"]),
            order_reference: text(&package["removal_order"]["reference_number"]),
        }
    }
}

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The platform has it.
    Delivered { http_status: Option<u16> },
    /// Failed; worth another try.
    Retry {
        http_status: Option<u16>,
        error: String,
    },
    /// Failed for good (the package or the channel is wrong).
    Failed {
        http_status: Option<u16>,
        error: String,
    },
    /// Nothing automatic: a person sends it (web form, manual).
    Manual,
}

/// The SMTP server e-mail goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// STARTTLS (required) when true; plain only for a server on loopback.
    pub starttls: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender address.
    pub from: String,
}

/// Sends packages through channels.
#[derive(Debug, Clone)]
pub struct Sender {
    fetcher: Fetcher,
    smtp: Option<SmtpSettings>,
}

impl Sender {
    pub fn new(fetcher: Fetcher, smtp: Option<SmtpSettings>) -> Sender {
        Sender { fetcher, smtp }
    }

    /// One attempt to deliver `package` through `channel`.
    pub async fn send(
        &self,
        channel: &ReferralChannel,
        package: &Value,
        language: Option<&str>,
    ) -> Attempt {
        match channel.kind {
            ChannelKind::WebForm | ChannelKind::Manual => Attempt::Manual,
            ChannelKind::Api => match &channel.target {
                Some(url) => self.post(url, package).await,
                None => Attempt::Failed {
                    http_status: None,
                    error: "the platform's API channel has no URL".into(),
                },
            },
            ChannelKind::Email => match &channel.target {
                Some(to) => self.mail(to, package, language).await,
                None => Attempt::Failed {
                    http_status: None,
                    error: "the platform's e-mail channel has no address".into(),
                },
            },
        }
    }

    async fn post(&self, url: &str, package: &Value) -> Attempt {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let key = package["idempotency_key"].as_str().unwrap_or("");
        match HeaderValue::from_str(key).ok().filter(|_| !key.is_empty()) {
            Some(v) => {
                headers.insert(HeaderName::from_static("idempotency-key"), v);
            }
            None => {
                return Attempt::Failed {
                    http_status: None,
                    error: "the package has no valid idempotency key".into(),
                };
            }
        }
        let body = match serde_json::to_vec(package) {
            Ok(b) => b,
            Err(e) => {
                return Attempt::Failed {
                    http_status: None,
                    error: format!("the package cannot be encoded: {e}"),
                };
            }
        };
        match self.fetcher.post(url, headers, body).await {
            Ok(answer) => classify_http(answer.status),
            Err(e) if e.is_refused() => Attempt::Failed {
                http_status: None,
                error: format!("refused by the fetch policy: {}", short_error(&e)),
            },
            Err(e) => Attempt::Retry {
                http_status: None,
                error: short_error(&e),
            },
        }
    }

    async fn mail(&self, to: &str, package: &Value, language: Option<&str>) -> Attempt {
        use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

        let Some(smtp) = &self.smtp else {
            return Attempt::Retry {
                http_status: None,
                error: "no SMTP server is configured".into(),
            };
        };
        let (from, to): (Mailbox, Mailbox) = match (smtp.from.parse(), to.parse()) {
            (Ok(f), Ok(t)) => (f, t),
            _ => {
                return Attempt::Failed {
                    http_status: None,
                    error: "an e-mail address is invalid".into(),
                };
            }
        };
        let view = PackageView::of(package);
        let (subject, text) = email_body(&view, language);
        let csv = ContentType::parse("text/csv").unwrap_or(ContentType::TEXT_PLAIN);
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(text))
                    .singlepart(
                        Attachment::new(format!("referral-{}.csv", view.reference))
                            .body(render_csv(&view), csv),
                    ),
            );
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                return Attempt::Failed {
                    http_status: None,
                    error: format!("the e-mail cannot be built: {e}"),
                };
            }
        };
        let builder = if smtp.starttls {
            match AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host) {
                Ok(b) => b,
                Err(e) => {
                    return Attempt::Failed {
                        http_status: None,
                        error: format!("smtp: {e}"),
                    };
                }
            }
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(Duration::from_secs(20)));
        if let (Some(u), Some(p)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(
                lettre::transport::smtp::authentication::Credentials::new(u.clone(), p.clone()),
            );
        }
        match builder.build().send(message).await {
            Ok(_) => Attempt::Delivered { http_status: None },
            Err(e) if e.is_permanent() => Attempt::Failed {
                http_status: None,
                error: format!("smtp refused the message: {e}"),
            },
            Err(e) => Attempt::Retry {
                http_status: None,
                error: format!("smtp: {e}"),
            },
        }
    }
}

/// What an HTTP status says about a delivery.
pub fn classify_http(status: u16) -> Attempt {
    let http_status = Some(status);
    match status {
        200..=299 => Attempt::Delivered { http_status },
        408 | 425 | 429 | 500..=599 => Attempt::Retry {
            http_status,
            error: format!("the platform answered {status}"),
        },
        _ => Attempt::Failed {
            http_status,
            error: format!("the platform answered {status}"),
        },
    }
}

/// How long to wait before attempt `n + 1` after `n` failed ones (n >= 1):
/// 30 s doubled each time, at most 6 h, plus up to a quarter more as
/// jitter. The jitter is drawn from the referral's id and the attempt
/// number, so that retries of many referrals spread out while a replay of
/// the same history waits the same.
pub fn retry_delay(referral_id: i64, attempts: u32) -> Millis {
    let base: Millis = 30_000;
    let cap: Millis = 6 * 3_600_000;
    let exp = base
        .saturating_mul(1 << attempts.saturating_sub(1).min(20))
        .min(cap);
    let mut z = (referral_id as u64) ^ (u64::from(attempts) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    exp + (z % (exp as u64 / 4 + 1)) as Millis
}

/// Attempts before a delivery is given up (and shown as failed).
pub const MAX_ATTEMPTS: u32 = 8;

/// The package as CSV: a header and one row.
pub fn render_csv(p: &PackageView) -> String {
    let fields = [
        p.reference.as_str(),
        p.kind.as_str(),
        p.url.as_str(),
        p.reason.as_deref().unwrap_or(""),
        p.group.as_deref().unwrap_or(""),
        p.reported_at.as_deref().unwrap_or(""),
        p.sha256.as_deref().unwrap_or(""),
        p.order_reference.as_deref().unwrap_or(""),
    ];
    let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    format!(
        "reference,kind,url,reason,group,reported_at,sha256,order_reference\n{}\n",
        row.join(",")
    )
}

fn csv_field(f: &str) -> String {
    // A leading =, +, - or @ would be a formula in a spreadsheet.
    let f = if f.starts_with(['=', '+', '-', '@']) {
        format!("'{f}")
    } else {
        f.to_owned()
    };
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

/// Words of an e-mail in one language.
struct Words {
    subject_referral: &'static str,
    subject_order: &'static str,
    greeting: &'static str,
    referral: &'static str,
    order: &'static str,
    reason: &'static str,
    closing: &'static str,
}

const EN: Words = Words {
    subject_referral: "Referral of terrorist content",
    subject_order: "Removal order (Regulation (EU) 2021/784)",
    greeting: "Hello,",
    referral: "We refer the following content to you for assessment against your terms of service.",
    order: "This is a removal order under Regulation (EU) 2021/784: remove or disable access to the content below within one hour of receipt.",
    reason: "Reason",
    closing: "The attached CSV lists the same URLs with their hashes. Please quote the reference in any reply.",
};

fn words(language: Option<&str>) -> &'static Words {
    const DE: Words = Words {
        subject_referral: "Meldung terroristischer Inhalte",
        subject_order: "Entfernungsanordnung (Verordnung (EU) 2021/784)",
        greeting: "Guten Tag,",
        referral: "Wir melden Ihnen die folgenden Inhalte zur Prüfung nach Ihren Nutzungsbedingungen.",
        order: "Dies ist eine Entfernungsanordnung nach der Verordnung (EU) 2021/784: Entfernen oder sperren Sie die folgenden Inhalte binnen einer Stunde nach Eingang.",
        reason: "Grund",
        closing: "Die beigefügte CSV-Datei enthält dieselben URLs mit ihren Hashwerten. Bitte geben Sie in jeder Antwort die Referenz an.",
    };
    const FR: Words = Words {
        subject_referral: "Signalement de contenu à caractère terroriste",
        subject_order: "Injonction de retrait (règlement (UE) 2021/784)",
        greeting: "Bonjour,",
        referral: "Nous vous signalons les contenus suivants pour examen au regard de vos conditions d'utilisation.",
        order: "Ceci est une injonction de retrait au titre du règlement (UE) 2021/784 : retirez les contenus ci-dessous ou bloquez-en l'accès dans l'heure suivant la réception.",
        reason: "Motif",
        closing: "Le fichier CSV joint reprend les mêmes URL avec leurs empreintes. Merci de rappeler la référence dans toute réponse.",
    };
    const ES: Words = Words {
        subject_referral: "Notificación de contenido terrorista",
        subject_order: "Orden de retirada (Reglamento (UE) 2021/784)",
        greeting: "Hola:",
        referral: "Les notificamos el siguiente contenido para su evaluación conforme a sus condiciones de servicio.",
        order: "Esta es una orden de retirada en virtud del Reglamento (UE) 2021/784: retiren el contenido siguiente o bloqueen el acceso a él en el plazo de una hora desde su recepción.",
        reason: "Motivo",
        closing: "El CSV adjunto recoge las mismas URL con sus hashes. Indiquen la referencia en cualquier respuesta.",
    };
    const NL: Words = Words {
        subject_referral: "Melding van terroristische inhoud",
        subject_order: "Verwijderingsbevel (Verordening (EU) 2021/784)",
        greeting: "Goedendag,",
        referral: "Wij melden u de volgende inhoud ter beoordeling aan de hand van uw gebruiksvoorwaarden.",
        order: "Dit is een verwijderingsbevel op grond van Verordening (EU) 2021/784: verwijder de onderstaande inhoud of maak die ontoegankelijk binnen een uur na ontvangst.",
        reason: "Reden",
        closing: "Het bijgevoegde CSV-bestand bevat dezelfde URL's met hun hashes. Vermeld de referentie in elk antwoord.",
    };
    match language.map(|l| l.split(['-', '_']).next().unwrap_or(l).to_ascii_lowercase()) {
        Some(l) if l == "de" => &DE,
        Some(l) if l == "fr" => &FR,
        Some(l) if l == "es" => &ES,
        Some(l) if l == "nl" => &NL,
        _ => &EN,
    }
}

/// The e-mail's subject and plain-text body, in the platform's language
/// where Ronda has one (English otherwise). The `Ref:` and `Kind:` lines
/// and the URL lines are in a fixed form for programs that read them.
pub fn email_body(p: &PackageView, language: Option<&str>) -> (String, String) {
    let w = words(language);
    let order = p.kind == "removal_order";
    let subject = format!(
        "{} [{}]",
        if order {
            w.subject_order
        } else {
            w.subject_referral
        },
        p.reference
    );
    let mut body = format!(
        "{}\n\n{}\n\nRef: {}\nKind: {}\n",
        w.greeting,
        if order { w.order } else { w.referral },
        p.reference,
        p.kind
    );
    if let Some(r) = &p.order_reference {
        body.push_str(&format!("Order: {r}\n"));
    }
    body.push_str(&format!("\n{}\n", p.url));
    if let Some(r) = &p.reason {
        body.push_str(&format!("  {}: {r}\n", w.reason));
    }
    body.push_str(&format!("\n{}\n", w.closing));
    (subject, body)
}

fn short_error(e: &ronda_fetch::FetchError) -> String {
    // The message names the platform's configured endpoint (never
    // content); the delivery log keeps its first 300 characters.
    let s = e.to_string();
    s.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(kind: &str) -> Value {
        serde_json::json!({
            "ronda_package": 1,
            "kind": kind,
            "idempotency_key": "ref-123",
            "platform": "Social 01",
            "item": {
                "id": 7,
                "url": "http://social-01.example/post/1",
                "content_sha256": "ab".repeat(32),
                "reported_at": "2026-03-10T08:00:00Z",
            },
            "assessment": { "tco_reason": "instruction", "group": "Group, \"A\"" },
            "removal_order": null,
        })
    }

    #[test]
    fn http_statuses_are_classified() {
        assert!(matches!(classify_http(202), Attempt::Delivered { .. }));
        for s in [408, 429, 500, 503] {
            assert!(matches!(classify_http(s), Attempt::Retry { .. }), "{s}");
        }
        for s in [400, 401, 404, 422, 301] {
            assert!(matches!(classify_http(s), Attempt::Failed { .. }), "{s}");
        }
    }

    #[test]
    fn retries_back_off_with_bounded_jitter() {
        let mut last = 0;
        for n in 1..=MAX_ATTEMPTS {
            let d = retry_delay(42, n);
            let exp = (30_000i64 << (n - 1)).min(6 * 3_600_000);
            assert!(d >= exp && d <= exp + exp / 4, "attempt {n}: {d}");
            assert!(d >= last);
            last = d;
            assert_eq!(d, retry_delay(42, n), "the same history waits the same");
        }
        assert_ne!(retry_delay(1, 3), retry_delay(2, 3));
        assert!(retry_delay(1, 60) <= 6 * 3_600_000 + 6 * 3_600_000 / 4);
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut p = package("referral");
        p["assessment"]["tco_reason"] = "=HYPERLINK(\"x\")".into();
        let csv = render_csv(&PackageView::of(&p));
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("reference,kind,url,reason,group,reported_at,sha256,order_reference")
        );
        let row = lines.next().unwrap();
        assert!(row.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{row}");
        assert!(row.contains("\"Group, \"\"A\"\"\""), "{row}");
    }

    #[test]
    fn emails_are_in_the_platform_language_with_fixed_lines() {
        let (subject, body) =
            email_body(&PackageView::of(&package("removal_order")), Some("de-AT"));
        assert!(subject.starts_with("Entfernungsanordnung"), "{subject}");
        assert!(subject.ends_with("[ref-123]"));
        assert!(body.contains("\nRef: ref-123\n"));
        assert!(body.contains("\nKind: removal_order\n"));
        assert!(body.contains("\nhttp://social-01.example/post/1\n"));
        assert!(body.contains("Grund: instruction"));
        let (subject, _) = email_body(&PackageView::of(&package("referral")), Some("xx"));
        assert!(subject.starts_with("Referral of terrorist content"));
    }
}
