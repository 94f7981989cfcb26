//! CSV text: tokens a hostile file might hold, in rows of any shape.

use nn_train::{CsvOptions, Header, parse_csv};
use proptest::prelude::*;

use crate::{HOSTILE_NUMBERS, config, mutated, within_budget};

const SEED: &str = "sepal,petal,width,class\n5.1,3.5,1.4,0\n4.9,3.0,1.4,1\n6.2,2.9,4.3,2\n";

fn options() -> impl Strategy<Value = CsvOptions> {
    (
        prop_oneof![Just(','), Just(';'), Just('\t')],
        prop_oneof![
            Just(Header::Auto),
            Just(Header::Present),
            Just(Header::Absent)
        ],
        prop::option::of(prop_oneof![0usize..5, Just(usize::MAX)]),
    )
        .prop_map(|(delimiter, header, label_column)| CsvOptions {
            delimiter,
            header,
            label_column,
        })
}

/// Parses in both precisions: an error, or finite features and labels for every row.
fn check(text: &str, opts: &CsvOptions) {
    within_budget("parse_csv", text.as_bytes(), || {
        if let Ok((x, labels)) = parse_csv::<f32>("fuzz", text, opts) {
            assert!(x.iter().all(|v| v.is_finite()), "a non-finite f32 feature");
            assert_eq!(labels.len(), x.ncols());
        }
        if let Ok((x, _)) = parse_csv::<f64>("fuzz", text, opts) {
            assert!(x.iter().all(|v| v.is_finite()), "a non-finite f64 feature");
        }
    });
}

#[test]
fn every_truncation_of_a_csv_file_parses_or_is_an_error() {
    for len in 0..=SEED.len() {
        check(&SEED[..len], &CsvOptions::default());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_csv_files_are_errors_or_finite(
        bytes in mutated(SEED.as_bytes().to_vec()),
        opts in options(),
    ) {
        check(&String::from_utf8_lossy(&bytes), &opts);
    }

    #[test]
    fn hostile_tokens_are_refused_or_read_finite(
        rows in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    prop::sample::select(HOSTILE_NUMBERS.to_vec()).prop_map(String::from),
                    prop::sample::select(vec!["inf", "-inf", "nan", "", " ", "\"1\"", "1e-50", "0x10", "3.", "-0"])
                        .prop_map(String::from),
                    any::<f64>().prop_map(|v| v.to_string()),
                    "[0-9a-z.eE+-]{0,6}",
                ],
                0..5),
            0..6),
        opts in options(),
    ) {
        let text: String = rows
            .iter()
            .map(|r| r.join(&opts.delimiter.to_string()) + "\n")
            .collect();
        check(&text, &opts);
    }
}
