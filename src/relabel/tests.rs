//! Cases re-expressed from Prometheus's `model/relabel/relabel_test.go`
//! (`TestRelabel`, `TestRelabelValidate`), plus the corners of template expansion.

use super::apply::{lower_char, map_chars, upper_char};
use super::expand::expand;
use super::*;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs.iter().copied()).unwrap()
}

/// A rule from `(option, value)` pairs, as a YAML entry would give them.
fn rule(options: &[(&str, &str)]) -> RelabelConfig {
    try_rule(options).unwrap()
}

fn try_rule(options: &[(&str, &str)]) -> Result<RelabelConfig, RelabelConfigError> {
    let mut o = RelabelOptions::default();
    for &(key, value) in options {
        let v = Some(value.to_string());
        match key {
            "source_labels" => {
                o.source_labels = Some(value.split(',').map(str::to_string).collect());
            }
            "separator" => o.separator = v,
            "regex" => o.regex = v,
            "modulus" => o.modulus = Some(value.parse().unwrap()),
            "target_label" => o.target_label = v,
            "replacement" => o.replacement = v,
            "action" => o.action = v,
            other => panic!("no option {other}"),
        }
    }
    RelabelConfig::new(o)
}

#[track_caller]
fn check(input: &[(&str, &str)], rules: &[RelabelConfig], want: Option<&[(&str, &str)]>) {
    let got = relabel(&labels(input), rules).unwrap();
    assert_eq!(got, want.map(labels), "input {input:?}");
}

const ABC: &[(&str, &str)] = &[("a", "foo"), ("b", "bar"), ("c", "baz")];

#[test]
fn replace_expands_captures_into_target() {
    let r = rule(&[
        ("source_labels", "a"),
        ("regex", "f(.*)"),
        ("target_label", "d"),
        ("replacement", "ch${1}-ch${1}"),
    ]);
    check(
        ABC,
        &[r],
        Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "choo-choo")]),
    );
}

#[test]
fn replace_chains_and_joins_sources_with_separator() {
    let rules = [
        rule(&[
            ("source_labels", "a,b"),
            ("regex", "f(.*);(.*)r"),
            ("target_label", "a"),
            ("replacement", "b${1}${2}m"),
        ]),
        // Sees the `a` the first rule wrote.
        rule(&[
            ("source_labels", "c,a"),
            ("regex", "(b).*b(.*)ba(.*)"),
            ("target_label", "d"),
            ("replacement", "$1$2$2$3"),
        ]),
    ];
    check(
        ABC,
        &rules,
        Some(&[("a", "boobam"), ("b", "bar"), ("c", "baz"), ("d", "boooom")]),
    );
}

#[test]
fn drop_and_keep_match_the_whole_value() {
    let drop = |re| rule(&[("source_labels", "a"), ("regex", re), ("action", "drop")]);
    let keep = |re| rule(&[("source_labels", "a"), ("regex", re), ("action", "keep")]);
    let later = rule(&[
        ("source_labels", "a"),
        ("regex", "f(.*)"),
        ("target_label", "d"),
        ("replacement", "ch$1-ch$1"),
    ]);
    check(&[("a", "foo")], &[drop(".*o.*"), later], None);
    check(&[("a", "foo"), ("b", "bar")], &[drop(".*o.*")], None);
    check(&[("a", "foo")], &[drop("no-match")], Some(&[("a", "foo")]));
    // Anchored: `f|o` matches neither all of "foo" nor a part of it.
    check(&[("a", "foo")], &[drop("f|o")], Some(&[("a", "foo")]));
    check(&[("a", "foo")], &[keep("no-match")], None);
    check(&[("a", "foo")], &[keep("f.*")], Some(&[("a", "foo")]));
    // An absent source label is "", which `(.*)` (the default) matches.
    let keep_default = rule(&[("source_labels", "missing"), ("action", "keep")]);
    check(&[("a", "foo")], &[keep_default], Some(&[("a", "foo")]));
}

#[test]
fn replace_takes_a_group_out_of_the_middle() {
    let r = rule(&[
        ("source_labels", "a"),
        ("regex", ".*(b).*"),
        ("target_label", "d"),
    ]);
    check(&[("a", "abc")], &[r], Some(&[("a", "abc"), ("d", "b")]));
}

#[test]
fn replace_without_match_changes_nothing() {
    let r = rule(&[
        ("source_labels", "a"),
        ("regex", "f"),
        ("target_label", "b"),
        ("replacement", "bar"),
    ]);
    check(&[("a", "boo")], &[r], Some(&[("a", "boo")]));
}

#[test]
fn empty_replacement_deletes_the_target() {
    let r = rule(&[
        ("source_labels", "a"),
        ("regex", "(f).*"),
        ("target_label", "$1"),
        ("replacement", "$2"),
    ]);
    check(&[("a", "foo"), ("f", "baz")], &[r], Some(&[("a", "foo")]));
}

#[test]
fn defaults_copy_a_label_and_set_static_values() {
    let copy = rule(&[
        ("source_labels", "__address__"),
        ("target_label", "instance"),
    ]);
    assert_eq!(copy.separator, ";");
    assert_eq!(copy.regex.as_str(), "(.*)");
    assert_eq!(copy.replacement, "$1");
    assert_eq!(copy.action, Action::Replace);
    let fixed = rule(&[("target_label", "cluster"), ("replacement", "dev")]);
    check(
        &[("__address__", "h:1")],
        &[copy, fixed],
        Some(&[
            ("__address__", "h:1"),
            ("cluster", "dev"),
            ("instance", "h:1"),
        ]),
    );
}

#[test]
fn hashmod_matches_prometheus_values() {
    let r = rule(&[
        ("source_labels", "c"),
        ("target_label", "d"),
        ("action", "hashmod"),
        ("modulus", "1000"),
    ]);
    check(
        ABC,
        &[r],
        Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "976")]),
    );
    let r = rule(&[
        ("source_labels", "a"),
        ("target_label", "b"),
        ("action", "hashmod"),
        ("modulus", "1000"),
    ]);
    check(
        &[("a", "foo\nbar")],
        &[r],
        Some(&[("a", "foo\nbar"), ("b", "734")]),
    );
}

#[test]
fn labelmap_copies_matching_names() {
    let r = rule(&[
        ("regex", "(b.*)"),
        ("replacement", "bar_${1}"),
        ("action", "labelmap"),
    ]);
    check(
        &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
        &[r],
        Some(&[
            ("a", "foo"),
            ("b1", "bar"),
            ("b2", "baz"),
            ("bar_b1", "bar"),
            ("bar_b2", "baz"),
        ]),
    );
    let r = rule(&[
        ("regex", "__meta_(my.*)"),
        ("replacement", "${1}"),
        ("action", "labelmap"),
    ]);
    check(
        &[
            ("a", "foo"),
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
        ],
        &[r],
        Some(&[
            ("a", "foo"),
            ("__meta_my_bar", "aaa"),
            ("__meta_my_baz", "bbb"),
            ("__meta_other", "ccc"),
            ("my_bar", "aaa"),
            ("my_baz", "bbb"),
        ]),
    );
}

#[test]
fn labelmap_to_an_empty_name_is_an_invalid_result() {
    let r = rule(&[("regex", "a(x?)"), ("action", "labelmap")]);
    assert!(matches!(
        relabel(&labels(&[("a", "1")]), &[r]),
        Err(LabelsError::InvalidName { .. })
    ));
}

#[test]
fn target_label_from_captures() {
    let re = "some-([^-]+)-([^,]+)";
    let r = |target, replacement| {
        rule(&[
            ("source_labels", "a"),
            ("regex", re),
            ("target_label", target),
            ("replacement", replacement),
        ])
    };
    check(
        &[("a", "some-name-value")],
        &[r("${1}", "${2}")],
        Some(&[("a", "some-name-value"), ("name", "value")]),
    );
    // A replacement naming a group that does not exist is "": the target goes.
    check(
        &[("a", "some-name-value")],
        &[r("${1}", "${3}")],
        Some(&[("a", "some-name-value")]),
    );
    // A target that expands to "" is not a label name: the rule does nothing.
    let other = rule(&[
        ("source_labels", "a"),
        ("regex", "some-([^-]+)(-[^,]+)"),
        ("target_label", "${3}"),
        ("replacement", "${1}"),
    ]);
    check(
        &[("a", "some-name-0")],
        &[r("${3}", "${1}"), r("${3}", "${1}"), other],
        Some(&[("a", "some-name-0")]),
    );
}

#[test]
fn real_life_tags_to_labels() {
    let tags = "path:/secret,job:some-job,label:foo=bar";
    let r = |re, target, replacement| {
        rule(&[
            ("source_labels", "__meta_sd_tags"),
            ("regex", re),
            ("target_label", target),
            ("replacement", replacement),
        ])
    };
    check(
        &[("__meta_sd_tags", tags)],
        &[
            r("(?:.+,|^)path:(/[^,]+).*", "__metrics_path__", "${1}"),
            r("(?:.+,|^)job:([^,]+).*", "job", "${1}"),
            r("(?:.+,|^)label:([^=]+)=([^,]+).*", "${1}", "${2}"),
        ],
        Some(&[
            ("__meta_sd_tags", tags),
            ("__metrics_path__", "/secret"),
            ("job", "some-job"),
            ("foo", "bar"),
        ]),
    );
}

#[test]
fn labeldrop_then_replace_then_keep_sees_the_new_value() {
    // Prometheus issue 12283.
    let port_name = "__meta_kubernetes_pod_container_port_name";
    let port = "__meta_kubernetes_pod_annotation_XXX_metrics_port";
    let rules = [
        rule(&[
            ("regex", "^__meta_kubernetes_pod_container_port_name$"),
            ("action", "labeldrop"),
        ]),
        rule(&[
            ("source_labels", port),
            ("regex", "(.+)"),
            ("replacement", "metrics"),
            ("target_label", port_name),
        ]),
        rule(&[
            ("source_labels", port_name),
            ("regex", "^metrics$"),
            ("action", "keep"),
        ]),
    ];
    check(
        &[(port_name, "foo"), (port, "9091")],
        &rules,
        Some(&[(port, "9091"), (port_name, "metrics")]),
    );
}

#[test]
fn labelkeep_and_labeldrop_match_names() {
    let input = &[("a", "foo"), ("b1", "bar"), ("b2", "baz")];
    let keep = rule(&[("regex", "(b.*)"), ("action", "labelkeep")]);
    check(input, &[keep], Some(&[("b1", "bar"), ("b2", "baz")]));
    let drop = rule(&[("regex", "(b.*)"), ("action", "labeldrop")]);
    check(input, &[drop], Some(&[("a", "foo")]));
}

#[test]
fn lowercase_and_uppercase_set_the_target() {
    let rules = [
        rule(&[
            ("source_labels", "foo"),
            ("action", "uppercase"),
            ("target_label", "foo_uppercase"),
        ]),
        rule(&[
            ("source_labels", "foo"),
            ("action", "lowercase"),
            ("target_label", "foo_lowercase"),
        ]),
    ];
    check(
        &[("foo", "bAr123Foo")],
        &rules,
        Some(&[
            ("foo", "bAr123Foo"),
            ("foo_lowercase", "bar123foo"),
            ("foo_uppercase", "BAR123FOO"),
        ]),
    );
    // One character to one, as Go's unicode.ToUpper/ToLower.
    assert_eq!(map_chars("straße ΣΑΣ", upper_char), "STRAßE ΣΑΣ");
    assert_eq!(map_chars("ΣΑΣ İ", lower_char), "σασ i");
}

#[test]
fn keepequal_and_dropequal_compare_with_the_target() {
    let input = &[
        ("__tmp_port", "1234"),
        ("__port1", "1234"),
        ("__port2", "5678"),
    ];
    let r = |action, target| {
        rule(&[
            ("source_labels", "__tmp_port"),
            ("action", action),
            ("target_label", target),
        ])
    };
    check(input, &[r("keepequal", "__port1")], Some(input));
    check(input, &[r("dropequal", "__port1")], None);
    check(input, &[r("dropequal", "__port2")], Some(input));
    check(input, &[r("keepequal", "__port2")], None);
}

#[test]
fn dot_matches_newline_and_unmatched_group_is_empty() {
    let input = &[("a", "line1\nline2"), ("b", "bar"), ("utf-8.label", "x")];
    let r = |source, target| {
        rule(&[
            ("source_labels", source),
            ("regex", "line1.*line2"),
            ("target_label", target),
            ("replacement", "match${1}"),
        ])
    };
    check(
        input,
        &[
            r("a", "d"),
            r("a", "utf-8.target"),
            r("a", "utf-8.templ${1}"),
        ],
        Some(&[
            ("a", "line1\nline2"),
            ("b", "bar"),
            ("d", "match"),
            ("utf-8.label", "x"),
            ("utf-8.target", "match"),
            ("utf-8.templ", "match"),
        ]),
    );
}

#[test]
fn named_groups_in_both_template_styles() {
    let r = |target, replacement| {
        rule(&[
            ("source_labels", "a"),
            ("regex", "(line1).*(?<second>line2)"),
            ("target_label", target),
            ("replacement", replacement),
        ])
    };
    check(
        &[("a", "line1\nline2")],
        &[
            r("label1_${1}", "val_${second}"),
            r("label2_$1", "val_$second"),
        ],
        Some(&[
            ("a", "line1\nline2"),
            ("label1_line1", "val_line2"),
            ("label2_line1", "val_line2"),
        ]),
    );
}

#[test]
fn metadata_labels_are_ordinary_targets() {
    let r = rule(&[
        ("source_labels", "__name__"),
        ("regex", ".*_total$"),
        ("target_label", "__type__"),
        ("replacement", "counter"),
    ]);
    check(
        &[("__name__", "http_requests_total")],
        &[r],
        Some(&[("__name__", "http_requests_total"), ("__type__", "counter")]),
    );
}

#[test]
fn expansion_follows_go() {
    let re = regex::Regex::new("^(?s:(?<x>a)(b)?(c))$").unwrap();
    let caps = re.captures("ac").unwrap();
    let e = |t| expand(&re, &caps, t);
    assert_eq!(e("$1-${3}-$x-${x}"), "a-c-a-a");
    // `$$` is a dollar; an unmatched group, an unknown name and `$1x` (the name
    // "1x") are empty; a leading zero makes a name, not a number.
    assert_eq!(e("$$1 [$2] [$nope] [$1x] [${01}]"), "$1 [] [] [] []");
    // A `$` without a valid name stays.
    assert_eq!(e("$ ${ ${} ${1 $-"), "$ ${ ${} ${1 $-");
    assert_eq!(e("${1}x"), "ax");
}

#[test]
fn validation_follows_prometheus() {
    let err = |options: &[(&str, &str)]| try_rule(options).unwrap_err();
    let e = err(&[("action", "Bogus")]);
    assert_eq!(
        (e.key(), e.to_string().as_str()),
        ("action", "unknown relabel action \"Bogus\"")
    );
    assert_eq!(
        err(&[("action", "")]).to_string(),
        "unknown relabel action \"\""
    );
    // Action names are case-insensitive.
    assert_eq!(
        rule(&[("action", "LabelDrop"), ("regex", "x")]).action,
        Action::LabelDrop
    );

    let e = err(&[("target_label", "t"), ("action", "hashmod")]);
    assert_eq!(
        (e.key(), e.to_string().as_str()),
        (
            "modulus",
            "relabel configuration for hashmod requires non-zero modulus"
        )
    );
    for action in [
        "replace",
        "lowercase",
        "uppercase",
        "keepequal",
        "dropequal",
    ] {
        let e = err(&[("action", action)]);
        assert_eq!(e.key(), "target_label");
        assert_eq!(
            e.to_string(),
            format!("relabel configuration for {action} action requires 'target_label' value")
        );
    }
    let e = err(&[("action", "hashmod"), ("modulus", "2")]);
    assert_eq!(
        e.to_string(),
        "relabel configuration for hashmod action requires 'target_label' value"
    );

    // UTF-8 names: templates and names that were invalid before are accepted.
    for target in ["${3}", "0${3}", "-${3}", "utf-8.x"] {
        rule(&[("source_labels", "a"), ("target_label", target)]);
    }
    rule(&[("action", "lowercase"), ("target_label", "${3}")]);
    rule(&[
        ("action", "labelmap"),
        ("regex", "__meta_(.+)"),
        ("replacement", "${1}"),
    ]);

    let e = err(&[
        ("action", "uppercase"),
        ("target_label", "t"),
        ("replacement", "x"),
    ]);
    assert_eq!(
        (e.key(), e.to_string().as_str()),
        (
            "replacement",
            "'replacement' can not be set for uppercase action"
        )
    );
    let e = err(&[("action", "labelmap"), ("replacement", "")]);
    assert_eq!(
        e.to_string(),
        "\"\" is invalid 'replacement' for labelmap action"
    );

    // keepequal/dropequal: no regex (even the default), modulus or separator.
    for extra in [("regex", "(.*)"), ("modulus", "3"), ("separator", ",")] {
        let e = err(&[("action", "keepequal"), ("target_label", "t"), extra]);
        assert_eq!(
            e.to_string(),
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields"
        );
    }
    // Options equal to their defaults count as not set, as in Prometheus.
    rule(&[
        ("action", "dropequal"),
        ("target_label", "t"),
        ("separator", ";"),
        ("replacement", "$1"),
    ]);

    for extra in [
        ("source_labels", "a"),
        ("target_label", "t"),
        ("modulus", "3"),
        ("replacement", "x"),
    ] {
        let e = err(&[("action", "labeldrop"), extra]);
        assert_eq!(
            e.to_string(),
            "labeldrop action requires only 'regex', and no other fields"
        );
    }

    let e = err(&[("regex", "(")]);
    assert_eq!(e.key(), "regex");
    assert!(e.to_string().starts_with("invalid regex \"(\": "), "{e}");
    let e = err(&[("source_labels", "a,"), ("target_label", "t")]);
    assert_eq!(
        (e.key(), e.to_string().as_str()),
        ("source_labels", "\"\" is not a valid label name")
    );
}
