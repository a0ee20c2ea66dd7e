use super::*;

const RANGE_QUERY: DurationContext = DurationContext {
    step_s: 5.0,
    range_s: 10.0,
};

fn rw(q: &str) -> String {
    let r = rewrite(q, RANGE_QUERY).unwrap();
    assert!(r.deferred.is_none(), "{q}: {:?}", r.deferred);
    r.text.into_owned()
}

fn parse_error(q: &str, ctx: DurationContext) -> String {
    rewrite(q, ctx).unwrap_err().message
}

fn deferred(q: &str, ctx: DurationContext) -> String {
    rewrite(q, ctx).unwrap().deferred.unwrap().message
}

#[test]
fn plain_durations_are_left_alone() {
    for q in [
        "rate(m[5m])",
        "m offset 5m",
        "max_over_time(m[1h30m:1m])",
        "max_over_time(m[1h:])",
        "m[90] offset 1.5",
        r#"m{a="[5m*2]", b="offset (1)"} offset 1m"#,
        "m offset 5m + 1",
        "m @ 100 offset 5m",
        "# a comment [1+1]\nm",
    ] {
        let r = rewrite(q, RANGE_QUERY).unwrap();
        assert!(matches!(r.text, Cow::Borrowed(_)), "{q}");
    }
}

#[test]
fn expressions_become_milliseconds() {
    assert_eq!(rw("changes(m[26m+4m])"), "changes(m[1800000ms])");
    assert_eq!(rw("changes(m[60*30])"), "changes(m[1800000ms])");
    assert_eq!(rw("changes(m[1h30m % 1h])"), "changes(m[1800000ms])");
    assert_eq!(rw("changes(m[1_800])"), "changes(m[1800000ms])");
    assert_eq!(rw("s(m[29s+1s:5s+5s])"), "s(m[30000ms:10000ms])");
    assert_eq!(rw("s(m[1m:step()])"), "s(m[1m:5000ms])");
    assert_eq!(
        rw("count_over_time(m[range()])"),
        "count_over_time(m[10000ms])"
    );
    assert_eq!(rw("m[1+(STep()-5)*2]"), "m[1000ms]");
    assert_eq!(rw("m[1/3]"), "m[333ms]");
    assert_eq!(rw("m[(9m30s+30s)*3]"), "m[1800000ms]");
    assert_eq!(rw("m[24m+((1.5*2m)+2m)]"), "m[1740000ms]");
    assert_eq!(
        rw("m[((max_of(min_of((step()+1),((1h))),1ms)))]"),
        "m[6000ms]"
    );
    assert_eq!(rw("m[ (1m) : (2s) ]"), "m[ 60000ms : 2000ms ]");
}

#[test]
fn offsets_end_where_prometheus_grammar_ends_them() {
    assert_eq!(rw("m offset (2 ^ 2)"), "m offset 4000ms");
    assert_eq!(rw("m offset (-2 ^ 2)"), "m offset -4000ms");
    assert_eq!(rw("m offset -2 ^ 2"), "m offset -2000ms ^ 2");
    assert_eq!(rw("m offset -step()*2"), "m offset -5000ms*2");
    assert_eq!(rw("m offset step()^0"), "m offset 5000ms^0");
    assert_eq!(
        rw("m offset min_of(step(), 1s)+8000"),
        "m offset 1000ms+8000"
    );
    assert_eq!(
        rw("m offset -(min_of(step(), 2s)-5)+8000"),
        "m offset 3000ms+8000"
    );
    assert_eq!(rw("m offset -(1m) + n"), "m offset -60000ms + n");
    assert_eq!(rw("m offset -1m"), "m offset -60000ms");
    assert_eq!(rw("m OFFSET +1m"), "m OFFSET 60000ms");
    // A bracketed offset goes on through the operators after it.
    assert_eq!(rw("m offset (1m) * 2"), "m offset 120000ms");
    assert_eq!(rw("m offset (1m) * 2 > 3"), "m offset 120000ms > 3");
    assert_eq!(rw("m offset (1m) and n"), "m offset 60000ms and n");
}

#[test]
fn zero_offsets_are_dropped() {
    assert_eq!(rw("m offset 0"), "m ");
    assert_eq!(rw("m offset 0s + 1"), "m  + 1");
    assert_eq!(rw("m offset (step() - 5)"), "m ");
    let instant = rewrite("m offset range()", DurationContext::default()).unwrap();
    assert_eq!(instant.text, "m ");
}

#[test]
fn offset_as_a_metric_name_is_not_a_modifier() {
    for q in [
        "offset - 1",
        "sum(offset) by (offset)",
        "a and offset",
        "a + on(offset) group_left offset",
        r#"offset{step="1s"}[5m]"#,
        r#"step{offset="1s"}[5m]"#,
    ] {
        assert_eq!(rw(q), q);
    }
}

#[test]
fn malformed_durations_are_parse_errors_at_their_position() {
    let instant = DurationContext::default();
    for (q, want) in [
        ("foo[step()/0d]", "1:11: parse error: division by zero"),
        ("foo[5s/0d]", "1:7: parse error: division by zero"),
        ("foo offset (4d/0)", "1:15: parse error: division by zero"),
        ("foo[5s%0d]", "1:7: parse error: modulo by zero"),
        (
            "foo offset 9.5e10",
            "1:12: parse error: duration out of range",
        ),
        ("foo[9.5e10]", "1:5: parse error: duration out of range"),
        (
            "foo[0m]",
            "1:5: parse error: duration must be greater than 0",
        ),
        (
            "foo[-1]",
            "1:5: parse error: duration must be greater than 0",
        ),
        (
            "foo[5m:0s]",
            "1:8: parse error: duration must be greater than 0",
        ),
        (
            "foo[5m1h]",
            "1:5: parse error: not a valid duration string: \"5m1h\"",
        ),
        (
            "foo[5m:1m1]",
            "1:8: parse error: bad number or duration syntax: \"1m1\"",
        ),
        (
            r#"foo["5m"]"#,
            "1:5: parse error: unexpected character in duration expression: '\"'",
        ),
        (
            "foo[]",
            "1:5: parse error: unexpected \"]\" in subquery or range selector, expected number, duration, step(), or range()",
        ),
        (
            "foo[step]",
            "1:9: parse error: unexpected \"]\" in subquery or range selector, expected number, duration, step(), or range()",
        ),
        (
            "foo[5m+]",
            "1:8: parse error: unexpected \"]\" in subquery or range selector, expected number, duration, step(), or range()",
        ),
        (
            "foo[5m 1m]",
            "1:8: parse error: unexpected duration \"1m\" in subquery or range, expected \":\" or \"]\"",
        ),
        (
            "foo[5m:1m:]",
            "1:10: parse error: unexpected \":\" in subquery selector, expected \"]\"",
        ),
        (
            "foo[5m:*]",
            "1:8: parse error: unexpected <op:*> in subquery selector, expected number, duration, step(), range(), or \"]\"",
        ),
        (
            "foo[5m",
            "1:7: parse error: unexpected end of input in duration expression",
        ),
        (
            "foo[min_of(1m)]",
            "1:14: parse error: unexpected \")\" in subquery or range selector, expected number, duration, step(), or range()",
        ),
        (
            "foo\n + bar[1m\n*x]",
            "3:2: parse error: unexpected character in duration expression: 'x'",
        ),
        (
            "foo offset",
            "1:11: parse error: unexpected end of input in offset, expected number, duration, step(), or range()",
        ),
        (
            "foo offset bar",
            "1:12: parse error: unexpected identifier \"bar\" in offset, expected number, duration, step(), or range()",
        ),
        (
            "foo offset (1m) + bar",
            "1:19: parse error: unexpected identifier \"bar\" in offset, expected number, duration, step(), or range()",
        ),
        (
            "foo offset 1mm",
            "1:12: parse error: bad number or duration syntax: \"1mm\"",
        ),
    ] {
        assert_eq!(parse_error(q, instant), want, "{q}");
    }
}

#[test]
fn failures_that_depend_on_the_query_are_deferred() {
    let instant = DurationContext::default();
    assert_eq!(
        deferred("foo[step()]", instant),
        "4:10: duration must be greater than 0"
    );
    assert_eq!(
        deferred("foo[1m-1m]", instant),
        "4:9: duration must be greater than 0"
    );
    assert_eq!(
        deferred("foo[5m:1m/(step()-5)]", RANGE_QUERY),
        "7:19: division by zero"
    );
    assert_eq!(
        deferred("foo[10^400]", instant),
        "4:10: duration is out of range"
    );
    assert_eq!(
        deferred("foo[0.0001*1]", instant),
        "4:12: duration must be greater than 0"
    );
    assert_eq!(
        deferred("foo offset (10^400)", instant),
        "12:18: duration is out of range"
    );
    // A placeholder keeps the text parseable.
    let r = rewrite("rate(foo[step()])", instant).unwrap();
    assert_eq!(r.text, "rate(foo[1ms])");
}

#[test]
fn no_input_panics() {
    let queries = [
        "sum_over_time(m[29s+1s:20*500ms] offset -(20*(((((8 - 2) / 3) * 7s) % 4) + 8000ms)))",
        "m[max_of(min_of(step()+1,1h),1ms)] offset -min_of(step(), 1s)^0 # x",
        r#"m{a="}]"}[5m)] offset (1m) ^ "x" [ ] ) ( é[é] 0x_1 1e+ .5. ,:]"#,
    ];
    for q in queries {
        for end in (0..=q.len()).filter(|&e| q.is_char_boundary(e)) {
            for start in (0..end).filter(|&s| q.is_char_boundary(s)) {
                let _ = rewrite(&q[start..end], RANGE_QUERY);
            }
        }
    }
}
