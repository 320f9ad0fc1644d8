//! `local_file` and dataset CSV, read from real files and round-tripped.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use ronda_exchange::{CsvReader, CsvWriter, Error, LocalFileReader, Record, Signal};

const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

/// `Ok(value)` per record, `Err(line)` per bad line; panics on a fatal error.
fn outcome(items: Vec<Result<Record, Error>>) -> Vec<Result<String, u64>> {
    items
        .into_iter()
        .map(|r| match r {
            Ok(rec) => Ok(format!(
                "{} {}",
                rec.signal.signal_type(),
                rec.signal.value()
            )),
            Err(Error::Line(e)) => Err(e.line),
            Err(e) => panic!("unexpected fatal error: {e}"),
        })
        .collect()
}

fn bad_hash_list_paths() -> Vec<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![manifest.join("tests/data/bad-hash-list.txt")];
    let shared = manifest.join("../../../shared/testdata/bad/bad-hash-list.txt");
    if shared.exists() {
        paths.push(shared);
    } else {
        eprintln!("skipped: ../shared/testdata not found; only the bundled copy ran");
    }
    paths
}

#[test]
fn bad_hash_list_reports_each_bad_line_and_keeps_the_good_ones() {
    for path in bad_hash_list_paths() {
        let file = std::fs::File::open(&path).unwrap();
        let items: Vec<_> = LocalFileReader::new(BufReader::new(file)).collect();
        let messages: Vec<String> = items
            .iter()
            .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
            .collect();
        assert_eq!(
            outcome(items),
            vec![
                Ok(format!("pdq {PDQ}")),
                Err(2), // pdq nothex!
                Err(3), // pdq abc
                Err(4), // unknown_type 1234
                // line 5 is blank
                // line 6: upper-case hex is accepted, as Signal::parse does,
                // and comes back in lower case: the same hash as line 1.
                Ok(format!("pdq {PDQ}")),
                Ok(format!("md5 {MD5}")),
                Err(8), // md5 with 31 digits, last line without a newline
            ],
            "{}",
            path.display()
        );
        assert_eq!(
            messages,
            [
                "line 2: bad pdq value: expected 64 hex digits, got 7 characters",
                "line 3: bad pdq value: expected 64 hex digits, got 3 characters",
                "line 4: unknown signal type \"unknown_type\"",
                "line 8: bad md5 value: expected 32 hex digits, got 31 characters",
            ]
        );
    }
}

#[test]
fn upper_case_hex_is_accepted_exactly_when_signal_parse_accepts_it() {
    let upper = format!("pdq {}", PDQ.to_uppercase());
    let via_reader: Vec<_> = LocalFileReader::new(upper.as_bytes()).collect();
    let via_parse = Signal::parse_line(&upper);
    assert_eq!(via_reader.len(), 1);
    assert_eq!(
        via_reader[0].as_ref().ok().map(|r| &r.signal),
        via_parse.as_ref().ok()
    );
    let csv = format!(
        "signal_type,signal_str,collab,category,tags\npdq,{}, , ,\n",
        PDQ.to_uppercase()
    );
    let via_csv: Vec<_> = CsvReader::new(csv.as_bytes()).collect();
    assert_eq!(
        via_csv[0].as_ref().ok().map(|r| &r.signal),
        via_parse.as_ref().ok()
    );
}

fn awkward_records() -> Vec<Record> {
    let mut records = Vec::new();
    let mut r = Record::new(Signal::parse_line(&format!("pdq {PDQ}")).unwrap());
    r.collab = Some("Sample, \"quoted\" collab".into());
    r.category = Some("TRUE_POSITIVE".into());
    r.tags = vec![
        "ísis".into(),
        "نشيد".into(),
        "tag,with,commas".into(),
        "q\"uote".into(),
    ];
    records.push(r);
    let mut r = Record::new(Signal::RawText(
        "line one\nline \"two\", with comma\r\nline three".into(),
    ));
    r.collab = Some("multi\nline collab".into());
    records.push(r);
    records.push(Record::new(
        Signal::parse_line(&format!("video_md5 {MD5}")).unwrap(),
    ));
    let mut r = Record::new(Signal::parse_line("url https://example.org/a?b=1,2").unwrap());
    r.tags = vec!["#hash".into()];
    records.push(r);
    records.push(Record::new(Signal::RawText("\"starts with a quote".into())));
    records
}

#[test]
fn csv_round_trips_awkward_values() {
    let records = awkward_records();
    let mut w = CsvWriter::new(Vec::new()).unwrap();
    for r in &records {
        w.write(r).unwrap();
    }
    let out = w.into_inner().unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.starts_with("signal_type,signal_str,collab,category,tags\n"),
        "{text}"
    );
    assert!(
        text.contains("\"Sample, \"\"quoted\"\" collab\""),
        "commas and quotes are quoted: {text}"
    );
    let back: Vec<Record> = CsvReader::new(&out[..]).map(|r| r.unwrap()).collect();
    assert_eq!(back, records);
    // And through a reader with a tiny buffer, so rows straddle refills.
    let back: Vec<Record> = CsvReader::new(BufReader::with_capacity(3, &out[..]))
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(back, records);
}

#[test]
fn csv_as_python_writes_it() {
    // csv.DictWriter's output: CRLF line endings, empty tags.
    let text = "signal_type,signal_str,collab,category,tags\r\n\
                url,https://developers.facebook.com/docs/threat-exchange/reference/apis/,Sample Signals,INVESTIGATION_SEED,\r\n\
                pdq,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,Sample Signals,TRUE_POSITIVE,media_type_photo sample\r\n";
    let records: Vec<Record> = CsvReader::new(text.as_bytes())
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0].signal.value(),
        "https://developers.facebook.com/docs/threat-exchange/reference/apis"
    );
    assert_eq!(records[0].collab.as_deref(), Some("Sample Signals"));
    assert_eq!(records[0].category.as_deref(), Some("INVESTIGATION_SEED"));
    assert!(records[0].tags.is_empty());
    assert_eq!(records[1].tags, ["media_type_photo", "sample"]);
}

#[test]
fn csv_bad_rows_are_numbered_by_their_first_line() {
    let text = format!(
        "\u{feff}signal_type,signal_str,collab,category,tags\n\
         pdq,{PDQ},c,,\n\
         \n\
         raw_text,\"two\nlines\",c,,\n\
         md5,xyz,c,,\n\
         photo,abc,,,\n\
         md5,{MD5},too,many,fields,here\n\
         md5,{MD5}\n\
         raw_text,\"caf\u{e9}\",,,\n\
         md5,{MD5},,,a  b\n"
    );
    let items: Vec<_> = CsvReader::new(text.as_bytes()).collect();
    let errors: Vec<String> = items
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
        .collect();
    assert_eq!(
        outcome(items),
        vec![
            Ok(format!("pdq {PDQ}")),
            Ok("raw_text two\nlines".to_owned()),
            Err(6),
            Err(7),
            Err(8),
            Err(9),
            Ok("raw_text caf\u{e9}".to_owned()),
            Ok(format!("md5 {MD5}")),
        ]
    );
    assert_eq!(
        errors,
        [
            "line 6: bad md5 value: expected 32 hex digits, got 3 characters",
            "line 7: unknown signal type \"photo\"",
            "line 8: expected 5 fields, got 6",
            "line 9: expected 5 fields, got 2",
        ]
    );
}

#[test]
fn csv_header_mismatch_is_fatal() {
    for (text, found) in [
        (
            "signal_type,signal,collab,category,tags\npdq,x,,,\n",
            "signal_type,signal,collab,category,tags",
        ),
        ("pdq,abc,,,\n", "pdq,abc,,,"),
        ("", ""),
    ] {
        let items: Vec<_> = CsvReader::new(text.as_bytes()).collect();
        assert_eq!(items.len(), 1, "{text:?}");
        match &items[0] {
            Err(Error::Header { found: f, .. }) => assert_eq!(f, found),
            other => panic!("expected a header error, got {other:?}"),
        }
        assert!(
            items[0]
                .as_ref()
                .unwrap_err()
                .to_string()
                .starts_with("csv header is"),
        );
    }
    // A quoted but otherwise identical header is the same header.
    let quoted = "\"signal_type\",\"signal_str\",collab,category,tags\n";
    assert_eq!(CsvReader::new(quoted.as_bytes()).count(), 0);
}

#[test]
fn csv_limits_rows_without_buffering_them() {
    let big = "x".repeat(10_000);
    let text = format!(
        "signal_type,signal_str,collab,category,tags\n\
         raw_text,{big},,,\n\
         raw_text,\"{big}\n{big}\",,,\n\
         md5,{MD5},,,\n\
         raw_text,\"never closed\n"
    );
    let items: Vec<_> = CsvReader::new(text.as_bytes())
        .with_max_record_bytes(1000)
        .collect();
    let errors: Vec<String> = items
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
        .collect();
    let outcome = outcome(items);
    // Line 2 is too long; so is line 3, the start of a quoted field whose
    // remainder (line 4) is then read as a row of its own, and is bad.
    assert_eq!(outcome[..2], [Err(2), Err(3)]);
    assert!(outcome.contains(&Ok(format!("md5 {MD5}"))), "{outcome:?}");
    assert_eq!(outcome.last(), Some(&Err(6)));
    assert_eq!(errors[0], "line 2: row is over the limit of 1000 bytes");
    assert_eq!(
        errors.last().unwrap(),
        "line 6: quoted field is not closed before the end of the file"
    );
}

#[test]
fn csv_writer_refuses_what_would_not_read_back() {
    let mut w = CsvWriter::new(Vec::new()).unwrap();
    let mut r = Record::new(Signal::parse_line(&format!("md5 {MD5}")).unwrap());
    r.tags = vec!["two words".into()];
    assert!(matches!(w.write(&r), Err(Error::Unwritable { .. })));
    r.tags = vec![String::new()];
    assert!(matches!(w.write(&r), Err(Error::Unwritable { .. })));
    r.tags.clear();
    r.deleted = true;
    assert_eq!(
        w.write(&r).unwrap_err().to_string(),
        "cannot write md5 record: the dataset csv has no way to mark a record deleted"
    );
    assert!(matches!(
        w.write(&Record::new(Signal::RawText(" padded".into()))),
        Err(Error::Unwritable { .. })
    ));
    let out = w.into_inner().unwrap();
    assert_eq!(out, b"signal_type,signal_str,collab,category,tags\n");
}
