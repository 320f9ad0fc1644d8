//! Tests for URL canonicalisation, registrable domains and extraction: data
//! tables for the rules, property tests for idempotence and robustness.

use proptest::prelude::*;

use super::*;

/// `(input, canonical form)`; each rule of the module docs has a row.
const CANONICAL: &[(&str, &str)] = &[
    // Scheme: default https, http folded, case.
    ("example.com/a", "https://example.com/a"),
    ("//example.com/a", "https://example.com/a"),
    ("HTTP://EXAMPLE.COM/A", "https://example.com/A"),
    ("http://example.com", "https://example.com/"),
    ("http:example.com/a", "https://example.com/a"),
    ("example.com:8080/a", "https://example.com:8080/a"),
    ("localhost:3000", "https://localhost:3000/"),
    // Whitespace and WHATWG parsing.
    ("  https://example.com/a \n", "https://example.com/a"),
    ("https://exa\tmple.com/a\n/b", "https://example.com/a/b"),
    ("http://example.com\\a\\b", "https://example.com/a/b"),
    // User info.
    ("https://user:pass@example.com/a", "https://example.com/a"),
    ("https://user@example.com/", "https://example.com/"),
    // Host: IDN, punycode, percent-escapes, trailing dot, IPs.
    ("https://Bücher.example/", "https://xn--bcher-kva.example/"),
    (
        "https://XN--BCHER-KVA.example/",
        "https://xn--bcher-kva.example/",
    ),
    (
        "https://пример.рф/путь",
        "https://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C",
    ),
    ("https://%65xample.com/", "https://example.com/"),
    ("https://example.com./a", "https://example.com/a"),
    ("http://192.168.0.1:8080/a", "https://192.168.0.1:8080/a"),
    ("http://0x7f.1/", "https://127.0.0.1/"),
    ("http://[2001:DB8:0::1]/a", "https://[2001:db8::1]/a"),
    (
        "https://www.192.168.0.1.example.com/",
        "https://192.168.0.1.example.com/",
    ),
    // Host variants: folded only while a registrable domain remains.
    ("https://www.example.com/a", "https://example.com/a"),
    ("https://m.example.com/a", "https://example.com/a"),
    ("https://mobile.example.co.uk/a", "https://example.co.uk/a"),
    (
        "https://mbasic.facebook.com/story.php?id=1",
        "https://facebook.com/story.php?id=1",
    ),
    ("https://www.m.example.com/", "https://example.com/"),
    ("https://www.sub.example.com/", "https://sub.example.com/"),
    (
        "https://sub.www.example.com/",
        "https://sub.www.example.com/",
    ),
    ("https://m.example/", "https://m.example/"),
    ("https://www.co.uk/", "https://www.co.uk/"),
    ("https://m.blogspot.com/", "https://m.blogspot.com/"),
    ("https://www.localhost/", "https://www.localhost/"),
    // Ports.
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:80/a", "https://example.com/a"),
    ("http://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com:80/", "https://example.com:80/"),
    // Path: dot segments, percent-encoding, trailing slashes.
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    ("https://example.com/a/%2e%2E/b", "https://example.com/b"),
    (
        "https://example.com/%7euser/%41%62c",
        "https://example.com/~user/Abc",
    ),
    (
        "https://example.com/a%2fb%3a",
        "https://example.com/a%2Fb%3A",
    ),
    ("https://example.com/100%/x", "https://example.com/100%25/x"),
    (
        "https://example.com/a|b^c[d]",
        "https://example.com/a%7Cb%5Ec%5Bd%5D",
    ),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/café", "https://example.com/caf%C3%A9"),
    ("https://example.com/a/", "https://example.com/a"),
    ("https://example.com/a//", "https://example.com/a"),
    ("https://example.com/a/?x=1", "https://example.com/a?x=1"),
    ("https://example.com/", "https://example.com/"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com//", "https://example.com/"),
    // Query: tracking removed, sorted stably, empty dropped.
    (
        "https://example.com/?utm_source=x&utm_medium=y&id=3",
        "https://example.com/?id=3",
    ),
    (
        "https://example.com/a?fbclid=1&gclid=2&dclid=3&msclkid=4&mc_eid=5&igshid=6&yclid=7&_ga=8&spm=9&ref_src=10&x=1",
        "https://example.com/a?x=1",
    ),
    (
        "https://example.com/a?UTM_Source=x&Fbclid=y&k=v",
        "https://example.com/a?k=v",
    ),
    (
        "https://example.com/a?utm%5Fsource=x&k=v",
        "https://example.com/a?k=v",
    ),
    (
        "https://example.com/a?feature=share&feature=player",
        "https://example.com/a?feature=player",
    ),
    (
        "https://example.com/a?si=abc",
        "https://example.com/a?si=abc",
    ),
    (
        "https://open.spotify.com/track/abc?si=xyz",
        "https://open.spotify.com/track/abc",
    ),
    (
        "https://example.com/s?b=2&a=1&c=3",
        "https://example.com/s?a=1&b=2&c=3",
    ),
    (
        "https://example.com/s?b=2&a=1&b=1&a=0",
        "https://example.com/s?a=1&a=0&b=2&b=1",
    ),
    (
        "https://example.com/s?B=1&a=2",
        "https://example.com/s?B=1&a=2",
    ),
    ("https://example.com/a?", "https://example.com/a"),
    ("https://example.com/a?&&", "https://example.com/a"),
    (
        "https://example.com/a?utm_source=x",
        "https://example.com/a",
    ),
    (
        "https://example.com/a?q=%7e%2b+x&flag&e=",
        "https://example.com/a?e=&flag&q=~%2B+x",
    ),
    (
        "https://example.com/a?q=a b",
        "https://example.com/a?q=a%20b",
    ),
    // Fragment: dropped unless a hashbang.
    ("https://example.com/a#section", "https://example.com/a"),
    ("https://example.com/a#", "https://example.com/a"),
    (
        "https://example.com/#!/page/1",
        "https://example.com/#!/page/1",
    ),
    ("https://example.com/#!", "https://example.com/"),
    // YouTube.
    (
        "https://youtu.be/dQw4w9WgXcQ?si=abc&t=42",
        "https://youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&feature=share&t=1m&list=PL1",
        "https://youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://m.youtube.com/watch?feature=youtu.be&v=dQw4w9WgXcQ",
        "https://youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "youtube.com/shorts/dQw4w9WgXcQ?feature=share",
        "https://youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://www.youtube.com/embed/dQw4w9WgXcQ/",
        "https://youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        "https://youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://youtube.com/live/dQw4w9WgXcQ",
        "https://youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://www.youtube.com/@SomeChannel/videos?si=x",
        "https://youtube.com/@SomeChannel/videos",
    ),
    ("https://youtu.be/", "https://youtu.be/"),
    (
        "https://music.youtube.com/watch?v=dQw4w9WgXcQ&si=x",
        "https://music.youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    // X / Twitter.
    (
        "https://twitter.com/SomeUser/status/123?s=20&t=abc",
        "https://x.com/someuser/status/123",
    ),
    (
        "https://mobile.twitter.com/SomeUser/status/123",
        "https://x.com/someuser/status/123",
    ),
    (
        "https://twitter.com/#!/SomeUser/status/123",
        "https://x.com/someuser/status/123",
    ),
    ("https://twitter.com/#!/#!/a", "https://x.com/%23!/a"),
    ("https://x.com/i/status/123#m", "https://x.com/i/status/123"),
    (
        "https://fxtwitter.com/SomeUser/status/123",
        "https://x.com/someuser/status/123",
    ),
    // Telegram.
    (
        "https://telegram.me/SomeChannel/42",
        "https://t.me/somechannel/42",
    ),
    (
        "https://t.me/s/SomeChannel/42",
        "https://t.me/somechannel/42",
    ),
    ("https://t.me/s/s/somechannel", "https://t.me/somechannel"),
    ("https://t.me/+AbCdEf123", "https://t.me/+AbCdEf123"),
    (
        "https://t.me/joinchat/AbCdEf123",
        "https://t.me/joinchat/AbCdEf123",
    ),
    (
        "https://telegram.dog/somechannel",
        "https://t.me/somechannel",
    ),
    // MEGA.
    (
        "https://mega.nz/#!AbC123!keyKEY",
        "https://mega.nz/file/AbC123",
    ),
    (
        "https://mega.co.nz/#F!AbC123!keyKEY",
        "https://mega.nz/folder/AbC123",
    ),
    (
        "https://mega.nz/file/AbC123#keyKEY",
        "https://mega.nz/file/AbC123",
    ),
    // Reddit, Instagram, TikTok, Facebook.
    (
        "https://old.reddit.com/r/example/comments/abc123/title/?share_id=x&utm_medium=y",
        "https://reddit.com/r/example/comments/abc123/title",
    ),
    (
        "https://redd.it/abc123",
        "https://reddit.com/comments/abc123",
    ),
    (
        "https://www.instagram.com/p/AbC123/?igsh=xyz&utm_source=ig_web_copy_link",
        "https://instagram.com/p/AbC123",
    ),
    (
        "https://www.tiktok.com/@someone/video/123?is_from_webapp=1&sender_device=pc&_r=1",
        "https://tiktok.com/@someone/video/123",
    ),
    (
        "https://web.facebook.com/some.page/posts/1?__cft__[0]=AZ&__tn__=R",
        "https://facebook.com/some.page/posts/1",
    ),
];

#[test]
fn canonical_forms() {
    let mut failures = Vec::new();
    for &(input, expected) in CANONICAL {
        match canonicalize(input) {
            Ok(url) if url.as_str() == expected => {}
            got => failures.push(format!("{input:?}: expected {expected:?}, got {got:?}")),
        }
        // The expected form is itself canonical.
        match canonicalize(expected) {
            Ok(url) if url.as_str() == expected => {}
            got => failures.push(format!("{expected:?} is not a fixed point: {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn errors() {
    let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
    // Under the input limit, but over it once percent-encoded.
    let grows = format!("https://example.com/{}", "é".repeat(3000));
    let long_label = format!("https://{}.com/", "a".repeat(64));
    let cases: &[(&str, UrlError)] = &[
        ("", UrlError::Empty),
        (" \t\n", UrlError::Empty),
        (
            "ftp://example.com/",
            UrlError::UnsupportedScheme("ftp".into()),
        ),
        (
            "mailto:someone@example.com",
            UrlError::UnsupportedScheme("mailto".into()),
        ),
        (
            "javascript:alert(1)",
            UrlError::UnsupportedScheme("javascript".into()),
        ),
        (
            "data:text/plain,hi",
            UrlError::UnsupportedScheme("data".into()),
        ),
        (
            "file:///etc/hosts",
            UrlError::UnsupportedScheme("file".into()),
        ),
        (
            "user:pass@example.com",
            UrlError::UnsupportedScheme("user".into()),
        ),
        (
            "https://example..com/",
            UrlError::InvalidHost("example..com".into()),
        ),
        (
            "https://.example.com/",
            UrlError::InvalidHost(".example.com".into()),
        ),
        (
            "https://example.com../",
            UrlError::InvalidHost("example.com.".into()),
        ),
        (
            "https://exa$mple.com/",
            UrlError::InvalidHost("exa$mple.com".into()),
        ),
        (&long_label, UrlError::InvalidHost("a".repeat(64))),
        (
            &long,
            UrlError::TooLong {
                len: long.len(),
                max: MAX_URL_LEN,
            },
        ),
        (
            &grows,
            UrlError::TooLong {
                len: 20 + 6 * 3000,
                max: MAX_URL_LEN,
            },
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(canonicalize(input).as_ref(), Err(expected), "{input:?}");
    }
    for input in [
        "https://",
        "https://exa mple.com/",
        "https://xn--zz.com/",
        "https://999.1.1.1/",
        "https://example.com:99999/",
        "https://[::1/",
    ] {
        assert!(
            matches!(canonicalize(input), Err(UrlError::Malformed(_))),
            "{input:?}: {:?}",
            canonicalize(input)
        );
    }
}

#[test]
fn error_messages_are_lowercase_without_period() {
    let errors = [
        UrlError::Empty,
        UrlError::TooLong {
            len: 9000,
            max: 8192,
        },
        UrlError::UnsupportedScheme("ftp".into()),
        UrlError::InvalidHost("a..b".into()),
        canonicalize("https://xn--zz.com/").expect_err("invalid punycode"),
    ];
    for e in errors {
        let msg = e.to_string();
        assert!(msg.starts_with(|c: char| c.is_lowercase()), "{msg}");
        assert!(!msg.ends_with('.'), "{msg}");
    }
    assert_eq!(
        UrlError::UnsupportedScheme("ftp".into()).to_string(),
        r#"url scheme "ftp" is not http or https"#
    );
}

#[test]
fn registrable_domains() {
    let cases: &[(&str, Option<&str>)] = &[
        ("a.b.example.co.uk", Some("example.co.uk")),
        ("example.com", Some("example.com")),
        ("WWW.Example.COM.", Some("example.com")),
        ("пример.рф", Some("xn--e1afmkfd.xn--p1ai")),
        ("sub.xn--e1afmkfd.xn--p1ai", Some("xn--e1afmkfd.xn--p1ai")),
        ("someone.github.io", Some("someone.github.io")),
        ("foo.someone.github.io", Some("someone.github.io")),
        ("a.example.internal", Some("example.internal")),
        ("abc.xyz.onion", Some("xyz.onion")),
        ("t.me", Some("t.me")),
        ("co.uk", None),
        ("com", None),
        ("github.io", None),
        ("localhost", None),
        ("192.168.0.1", None),
        ("[::1]", None),
        ("", None),
        ("https://example.com/", None),
        ("exa mple.com", None),
        ("example..com", None),
    ];
    for &(host, expected) in cases {
        assert_eq!(registrable_domain(host).as_deref(), expected, "{host:?}");
    }
}

#[test]
fn canonical_url_accessors() {
    let url = canonicalize("https://a.b.example.co.uk:8443/p/q?x=1#!frag").expect("valid");
    assert_eq!(url.as_str(), "https://a.b.example.co.uk:8443/p/q?x=1#!frag");
    assert_eq!(url.host(), "a.b.example.co.uk");
    assert_eq!(url.port(), Some(8443));
    assert_eq!(url.registrable_domain(), Some("example.co.uk"));
    assert_eq!(url.path(), "/p/q");
    assert_eq!(url.query(), Some("x=1"));
    assert_eq!(url.fragment(), Some("!frag"));

    let ip = canonicalize("http://[::1]/").expect("valid");
    assert_eq!(ip.host(), "[::1]");
    assert_eq!(ip.registrable_domain(), None);
    assert_eq!(ip.port(), None);
    assert_eq!(ip.path(), "/");
    assert_eq!(ip.query(), None);
    assert_eq!(ip.fragment(), None);

    let v4 = canonicalize("1.2.3.4/a").expect("valid");
    assert_eq!(v4.registrable_domain(), None);

    let parsed: CanonicalUrl = "WWW.example.com/a/".parse().expect("valid");
    assert_eq!(parsed.to_string(), "https://example.com/a");
}

#[test]
fn serde_round_trip() {
    let url = canonicalize("https://example.com/a").expect("valid");
    let json = serde_json::to_string(&url).expect("serialises");
    assert_eq!(json, r#""https://example.com/a""#);
    let back: CanonicalUrl = serde_json::from_str(r#""HTTP://www.example.com/a/""#).expect("valid");
    assert_eq!(back, url);
    assert!(serde_json::from_str::<CanonicalUrl>(r#""ftp://example.com/""#).is_err());
}

/// `(text, [(span text, canonical form)])`.
const EXTRACTED: &[(&str, &[(&str, &str)])] = &[
    (
        "see https://example.com/a.",
        &[("https://example.com/a", "https://example.com/a")],
    ),
    (
        "bare example.com/path and www.example.org, then",
        &[
            ("example.com/path", "https://example.com/path"),
            ("www.example.org", "https://example.org/"),
        ],
    ),
    (
        "mirror hxxps://example[.]com/x!",
        &[("hxxps://example[.]com/x", "https://example.com/x")],
    ),
    (
        "hXXp://evil(.)example(.)net/a{.}mp4",
        &[(
            "hXXp://evil(.)example(.)net/a{.}mp4",
            "https://evil.example.net/a.mp4",
        )],
    ),
    (
        "example[dot]com",
        &[("example[dot]com", "https://example.com/")],
    ),
    (
        "example [.] com",
        &[("example [.] com", "https://example.com/")],
    ),
    (
        "example . com",
        &[("example . com", "https://example.com/")],
    ),
    (
        "hxxp://example dot org/page",
        &[("hxxp://example dot org/page", "https://example.org/page")],
    ),
    ("the dot com boom: example dot com", &[]),
    (
        "www dot example dot com",
        &[("www dot example dot com", "https://example.com/")],
    ),
    (
        "hxxps[:]//example[.]com and https[://]example.org",
        &[
            ("hxxps[:]//example[.]com", "https://example.com/"),
            ("https[://]example.org", "https://example.org/"),
        ],
    ),
    (
        "https:// example.com/a",
        &[("https:// example.com/a", "https://example.com/a")],
    ),
    (
        "(see https://en.wikipedia.org/wiki/Foo_(bar))",
        &[(
            "https://en.wikipedia.org/wiki/Foo_(bar)",
            "https://en.wikipedia.org/wiki/Foo_(bar)",
        )],
    ),
    (
        "[https://example.com/a](https://example.com/a)",
        &[
            ("https://example.com/a", "https://example.com/a"),
            ("https://example.com/a", "https://example.com/a"),
        ],
    ),
    ("mail alice@example.com or john.de@example.org", &[]),
    (
        "e.g. file.txt report.pdf i.e. 3.14 v1.2.3 1.2.3.4 a.m.",
        &[],
    ),
    ("notes.md", &[("notes.md", "https://notes.md/")]),
    ("It ended . Then we left", &[]),
    ("it was late.Today we", &[]),
    ("EXAMPLE.COM", &[("EXAMPLE.COM", "https://example.com/")]),
    ("ftp://example.com/file", &[]),
    (
        "«t.me/somechannel»",
        &[("t.me/somechannel", "https://t.me/somechannel")],
    ),
    (
        r#"{"url":"https:\/\/example.com\/a\/b"}"#,
        &[(r"https:\/\/example.com\/a\/b", "https://example.com/a/b")],
    ),
    (
        "https://user:pw@example.com:8080/x?utm_source=a",
        &[(
            "https://user:pw@example.com:8080/x?utm_source=a",
            "https://example.com:8080/x",
        )],
    ),
    (
        "http://[2001:db8::1]:8080/a",
        &[(
            "http://[2001:db8::1]:8080/a",
            "https://[2001:db8::1]:8080/a",
        )],
    ),
    (
        "youtu.be/dQw4w9WgXcQ?si=abc!",
        &[(
            "youtu.be/dQw4w9WgXcQ?si=abc",
            "https://youtube.com/watch?v=dQw4w9WgXcQ",
        )],
    ),
    (
        "посмотри пример.рф/страница",
        &[(
            "пример.рф/страница",
            "https://xn--e1afmkfd.xn--p1ai/%D1%81%D1%82%D1%80%D0%B0%D0%BD%D0%B8%D1%86%D0%B0",
        )],
    ),
    (
        "http://example.com . then",
        &[("http://example.com", "https://example.com/")],
    ),
    (
        "example[.]com[:]8080/x",
        &[("example[.]com[:]8080/x", "https://example.com:8080/x")],
    ),
    ("localhost:8080", &[]),
    (
        "http://localhost:8080/x",
        &[("http://localhost:8080/x", "https://localhost:8080/x")],
    ),
    (
        "Visit example.com, example.org; and example.net!",
        &[
            ("example.com", "https://example.com/"),
            ("example.org", "https://example.org/"),
            ("example.net", "https://example.net/"),
        ],
    ),
    (
        "http://1.2.3.4/x",
        &[("http://1.2.3.4/x", "https://1.2.3.4/x")],
    ),
    (
        r#"<a href="https://example.com/a?b=1&c=2">x</a>"#,
        &[(
            "https://example.com/a?b=1&c=2",
            "https://example.com/a?b=1&c=2",
        )],
    ),
    (
        "رابط: https://example.com/a",
        &[("https://example.com/a", "https://example.com/a")],
    ),
    (
        "'https://example.com/it's'",
        &[("https://example.com/it's", "https://example.com/it's")],
    ),
    (
        "https://example.com/a,https://example.org/b",
        &[(
            "https://example.com/a,https://example.org/b",
            "https://example.com/a,https://example.org/b",
        )],
    ),
    ("mailto:someone@example.com", &[]),
    (
        "example.com/a?b=1&amp;c=2",
        &[("example.com/a?b=1&amp;c=2", "https://example.com/a?b=1&c=2")],
    ),
    (
        "h**ps://t[.]me/somechannel",
        &[("h**ps://t[.]me/somechannel", "https://t.me/somechannel")],
    ),
    (
        "hxxp://198[.]51[.]100[.]7/payload",
        &[(
            "hxxp://198[.]51[.]100[.]7/payload",
            "https://198.51.100.7/payload",
        )],
    ),
    (
        "🔥example.com🔥",
        &[("example.com", "https://example.com/")],
    ),
    (
        "Go to example.com:abc now",
        &[("example.com", "https://example.com/")],
    ),
    (
        "**https://example.com/x**",
        &[("https://example.com/x", "https://example.com/x")],
    ),
    (
        "foo.example.com.then",
        &[("foo.example.com", "https://foo.example.com/")],
    ),
];

#[test]
fn extraction() {
    let mut failures = Vec::new();
    for &(text, expected) in EXTRACTED {
        let got: Vec<(&str, &str)> = extract_urls(text)
            .iter()
            .map(|e| (&text[e.span.clone()], e.url.as_str()))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(span, url)| (span, leak(url)))
            .collect();
        if got != expected {
            failures.push(format!(
                "{text:?}:\n  expected {expected:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Keeps a string for the life of the test binary, to compare with the
/// `'static` table.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

#[test]
fn extraction_marks_deobfuscated() {
    let flags: Vec<bool> = extract_urls("https://example.com/a hxxp://example.org example[.]net/x")
        .iter()
        .map(|e| e.deobfuscated)
        .collect();
    assert_eq!(flags, [false, true, true]);
}

#[test]
fn extraction_limits() {
    let many = "a.com ".repeat(MAX_EXTRACTED_URLS + 10);
    assert_eq!(extract_urls(&many).len(), MAX_EXTRACTED_URLS);

    let mut late = " ".repeat(MAX_TEXT_LEN - 4);
    late.push_str("é example.com");
    assert!(extract_urls(&late).is_empty());
    late.insert_str(0, "example.org ");
    assert_eq!(extract_urls(&late).len(), 1);

    let long_path = format!(
        "https://example.com/{} example.org",
        "a".repeat(MAX_URL_LEN)
    );
    let found = extract_urls(&long_path);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].url.as_str(), "https://example.org/");
}

#[test]
fn extraction_of_adversarial_text_finishes() {
    // Each of these once could make a scanner quadratic.
    for unit in ["a . ", "a(", "a.", "hxxp://a", "[.]a", "a dot ", "www.a"] {
        let text = unit.repeat(MAX_TEXT_LEN / unit.len());
        let started = std::time::Instant::now();
        let _ = extract_urls(&text);
        // Linear scans take well under a second; quadratic ones took minutes.
        let elapsed = started.elapsed();
        assert!(elapsed.as_secs() < 20, "{unit:?} took {elapsed:?}");
    }
}

/// Pieces that URL-ish strings are built from, chosen to hit every rule.
fn urlish() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec![
        "", "http://", "https://", "HTTPS://", "//", "ftp://", "http:",
    ]);
    let userinfo = prop::sample::select(vec!["", "user@", "u:p@", "@"]);
    let host = prop::sample::select(vec![
        "example.com",
        "www.example.co.uk",
        "m.example",
        "M.Example.COM.",
        "bücher.example",
        "xn--bcher-kva.example",
        "youtu.be",
        "www.youtube.com",
        "twitter.com",
        "telegram.me",
        "t.me",
        "mega.co.nz",
        "redd.it",
        "old.reddit.com",
        "127.0.0.1",
        "0x7f.1",
        "[::1]",
        "localhost",
        "www.co.uk",
        "a..b",
        "",
    ]);
    let port = prop::sample::select(vec!["", ":80", ":443", ":8080", ":0", ":"]);
    let segment = prop::sample::select(vec![
        "a",
        "B",
        ".",
        "..",
        "%2e",
        "%2E%2e",
        "%41",
        "%7e",
        "%zz",
        "%",
        "é",
        " ",
        "|",
        "shorts",
        "s",
        "watch",
        "dQw4w9WgXcQ",
        "embed",
        "+x",
        "",
        "#",
        "?",
        "\\",
        "%2F",
    ]);
    let path = prop::collection::vec(segment, 0..5).prop_map(|s| s.join("/"));
    let param = prop::sample::select(vec![
        "v=abc",
        "utm_source=x",
        "b=2",
        "a=1",
        "a",
        "a=",
        "=",
        "",
        "si=1",
        "feature=share",
        "q=%7e+%2b",
        "x=%",
        "k=é",
        "s=20",
        "t=1",
    ]);
    let query = prop::collection::vec(param, 0..4).prop_map(|p| {
        if p.is_empty() {
            String::new()
        } else {
            format!("?{}", p.join("&"))
        }
    });
    let fragment = prop::sample::select(vec![
        "",
        "#",
        "#top",
        "#!",
        "#!/a/b",
        "#!/A/../b?c=1",
        "#F!id!key",
        "#!id!key",
        "#!/#!/x",
    ]);
    (scheme, userinfo, host, port, path, query, fragment).prop_map(
        |(scheme, userinfo, host, port, path, query, fragment)| {
            format!("{scheme}{userinfo}{host}{port}/{path}{query}{fragment}")
        },
    )
}

fn assert_fixed_point(input: &str) -> Result<(), TestCaseError> {
    if let Ok(url) = canonicalize(input) {
        let again = canonicalize(url.as_str());
        prop_assert_eq!(again.as_ref(), Ok(&url), "input {:?}", input);
        prop_assert!(url.as_str().is_ascii());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn canonicalize_is_idempotent(input in urlish()) {
        assert_fixed_point(&input)?;
    }

    #[test]
    fn canonicalize_never_panics(input in any::<String>()) {
        assert_fixed_point(&input)?;
    }

    #[test]
    fn canonicalize_never_panics_on_url_characters(
        input in "[a-zA-Z0-9:/?#\\[\\]@!$&'()*+,;=%._~ \\\\-]{0,60}",
    ) {
        assert_fixed_point(&input)?;
    }

    #[test]
    fn extraction_is_sound(
        text in prop::collection::vec(
            prop_oneof![
                urlish(),
                any::<String>(),
                prop::sample::select(vec![
                    " ", ". ", "(", ")", "[.]", " dot ", "hxxp://", "@", "www", "\n", "é", "’",
                ]).prop_map(str::to_owned),
            ],
            0..8,
        ).prop_map(|parts| parts.concat()),
    ) {
        let found = extract_urls(&text);
        let mut last_end = 0;
        for e in &found {
            prop_assert!(e.span.start >= last_end && e.span.start < e.span.end);
            prop_assert!(text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
            prop_assert!(e.span.end <= text.len());
            last_end = e.span.end;
            let again = canonicalize(e.url.as_str());
            prop_assert_eq!(again.as_ref(), Ok(&e.url));
        }
    }
}
