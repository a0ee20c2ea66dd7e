//! A deliberately tiny evaluator, to prove the runner without the PromQL engine:
//! number and string literals, and plain instant-vector selectors
//! (`name{l="v", l!="v", l=~"re", l!~"re"}`) with `offset` and `@`, over a real
//! `Db`, with Prometheus's 5-minute lookback (left-open window) and staleness.
//! Anything else is an error, so those cases fail.

use std::collections::BTreeMap;

use tidemark::model::Matcher;

use super::labels::Labels;
use super::query::{Tok, Token, tokenize};
use super::run::{Evaluator, Outcome, QueryError, Sample, Series, Value};
use super::script::duration_ms;
use super::series::{is_stale, parse_string};
use super::storage::{TestDb, from_tidemark};

const LOOKBACK_MS: i64 = 5 * 60 * 1000;

pub struct Reference {
    db: Option<TestDb>,
}

enum Expr {
    Number(f64),
    Str(String),
    Selector {
        matchers: Vec<Matcher>,
        offset_ms: i64,
        at_ms: Option<i64>,
    },
}

fn fail<T>(msg: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError {
        message: msg.into(),
    })
}

impl Reference {
    pub fn new() -> Reference {
        Reference { db: None }
    }

    fn parse(&self, q: &str) -> Result<Expr, QueryError> {
        let toks = tokenize(q).map_err(|message| QueryError { message })?;
        let text = |t: &Token| &q[t.start..t.end];
        let mut i = 0;
        let mut neg = false;
        while let Some(Token {
            tok: Tok::Punct(p @ ("-" | "+")),
            ..
        }) = toks.get(i)
        {
            neg ^= *p == "-";
            i += 1;
        }
        let Some(first) = toks.get(i) else {
            return fail("empty query");
        };
        let lone = i + 1 == toks.len();
        match &first.tok {
            Tok::Number if lone => {
                let v: f64 = text(first)
                    .parse()
                    .or_else(|_| duration_ms(text(first)).map(|ms| ms as f64 / 1000.0))
                    .or_else(|_| fail("bad number"))?;
                return Ok(Expr::Number(if neg { -v } else { v }));
            }
            Tok::Ident(w) if lone && matches!(w.to_ascii_lowercase().as_str(), "inf" | "nan") => {
                let v = if w.eq_ignore_ascii_case("inf") {
                    f64::INFINITY
                } else {
                    f64::NAN
                };
                return Ok(Expr::Number(if neg { -v } else { v }));
            }
            Tok::Str if lone && !neg => {
                let (s, _) = parse_string(text(first)).or_else(|e| fail(e.0))?;
                return Ok(Expr::Str(s));
            }
            _ => {}
        }
        if neg {
            return fail("reference evaluator: unary minus on a selector is not supported");
        }
        let mut matchers = Vec::new();
        if let Tok::Ident(name) = &first.tok {
            matchers.push(Matcher::equal("__name__", name.clone()));
            i += 1;
        }
        if matches!(
            toks.get(i),
            Some(Token {
                tok: Tok::Punct("{"),
                ..
            })
        ) {
            i += 1;
            loop {
                match toks.get(i).map(|t| &t.tok) {
                    Some(Tok::Punct("}")) => {
                        i += 1;
                        break;
                    }
                    Some(Tok::Ident(_) | Tok::Str) => {}
                    _ => return fail("reference evaluator: bad label matcher"),
                }
                let name_tok = &toks[i];
                let name = match name_tok.tok {
                    Tok::Str => parse_string(text(name_tok)).or_else(|e| fail(e.0))?.0,
                    _ => text(name_tok).to_owned(),
                };
                let op = match toks.get(i + 1).map(|t| &t.tok) {
                    Some(Tok::Punct(op @ ("=" | "!=" | "=~" | "!~"))) => *op,
                    _ if name_tok.tok == Tok::Str => {
                        matchers.push(Matcher::equal("__name__", name));
                        i += 1;
                        if matches!(toks.get(i).map(|t| &t.tok), Some(Tok::Punct(","))) {
                            i += 1;
                        }
                        continue;
                    }
                    _ => return fail("reference evaluator: bad label matcher"),
                };
                let Some(vt) = toks.get(i + 2).filter(|t| t.tok == Tok::Str) else {
                    return fail("reference evaluator: label value must be a string");
                };
                let value = parse_string(text(vt)).or_else(|e| fail(e.0))?.0;
                let m = match op {
                    "=" => Matcher::equal(name, value),
                    "!=" => Matcher::not_equal(name, value),
                    "=~" => Matcher::regex(name, value).or_else(|e| fail(e.to_string()))?,
                    _ => Matcher::not_regex(name, value).or_else(|e| fail(e.to_string()))?,
                };
                matchers.push(m);
                i += 3;
                if matches!(toks.get(i).map(|t| &t.tok), Some(Tok::Punct(","))) {
                    i += 1;
                }
            }
        }
        if matchers.is_empty() {
            return fail("reference evaluator: only literals and plain selectors are supported");
        }
        let mut offset_ms = 0;
        let mut at_ms = None;
        while i < toks.len() {
            let kw = text(&toks[i]);
            let (sign, j) = match toks.get(i + 1).map(|t| &t.tok) {
                Some(Tok::Punct("-")) => (-1, i + 2),
                _ => (1, i + 1),
            };
            let Some(arg) = toks.get(j).filter(|t| t.tok == Tok::Number) else {
                return fail(
                    "reference evaluator: only literals and plain selectors are supported",
                );
            };
            match kw {
                "offset" => {
                    offset_ms = sign * duration_ms(text(arg)).or_else(fail)?;
                }
                "@" => {
                    let secs: f64 = text(arg).parse().or_else(|_| fail("bad @ timestamp"))?;
                    at_ms = Some(sign * (secs * 1000.0).round() as i64);
                }
                _ => {
                    return fail(
                        "reference evaluator: only literals and plain selectors are supported",
                    );
                }
            }
            i = j + 1;
        }
        Ok(Expr::Selector {
            matchers,
            offset_ms,
            at_ms,
        })
    }

    fn select(&self, e: &Expr, t: i64) -> Result<Vec<Sample>, QueryError> {
        let Expr::Selector {
            matchers,
            offset_ms,
            at_ms,
        } = e
        else {
            return Ok(Vec::new());
        };
        let Some(db) = &self.db else {
            return fail("no storage");
        };
        let ref_t = at_ms.unwrap_or(t) - offset_ms;
        let q = db.db().querier(ref_t - LOOKBACK_MS + 1, ref_t);
        let set = q.select(matchers).or_else(|e| fail(e.to_string()))?;
        let mut out = Vec::new();
        for s in set {
            if let Some(last) = s.iter().last()
                && !is_stale(last.v)
            {
                out.push(Sample {
                    labels: from_tidemark(s.labels()),
                    t,
                    v: last.v,
                });
            }
        }
        Ok(out)
    }
}

impl Evaluator for Reference {
    fn load(&mut self, series: &[(Labels, Vec<(i64, f64)>)]) -> Result<(), String> {
        match &self.db {
            Some(db) => db.load(series),
            None => Err("no storage".into()),
        }
    }

    fn clear(&mut self) -> Result<(), String> {
        self.db = None;
        self.db = Some(TestDb::open()?);
        Ok(())
    }

    fn instant(&mut self, query: &str, t_ms: i64) -> Result<Outcome, QueryError> {
        let e = self.parse(query)?;
        let value = match &e {
            Expr::Number(v) => Value::Scalar { t: t_ms, v: *v },
            Expr::Str(s) => Value::String {
                t: t_ms,
                v: s.clone(),
            },
            Expr::Selector { .. } => Value::Vector(self.select(&e, t_ms)?),
        };
        Ok(Outcome {
            value,
            warnings: Vec::new(),
            infos: Vec::new(),
        })
    }

    fn range(
        &mut self,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Outcome, QueryError> {
        if step_ms <= 0 {
            return fail("zero or negative query resolution step widths are not accepted");
        }
        let e = self.parse(query)?;
        let mut by_labels: BTreeMap<Vec<(String, String)>, Series> = BTreeMap::new();
        let mut t = start_ms;
        while t <= end_ms {
            let samples = match &e {
                Expr::Number(v) => vec![Sample {
                    labels: Labels::default(),
                    t,
                    v: *v,
                }],
                Expr::Str(_) => {
                    return fail(
                        "invalid expression type \"string\" for range query, must be Scalar or instant Vector",
                    );
                }
                Expr::Selector { .. } => self.select(&e, t)?,
            };
            for s in samples {
                let key: Vec<(String, String)> = s
                    .labels
                    .iter()
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect();
                by_labels
                    .entry(key)
                    .or_insert_with(|| Series {
                        labels: s.labels.clone(),
                        points: Vec::new(),
                    })
                    .points
                    .push((t, s.v));
            }
            t += step_ms;
        }
        let mut m: Vec<Series> = by_labels.into_values().collect();
        m.sort_by(|a, b| a.labels.compare(&b.labels));
        Ok(Outcome {
            value: Value::Matrix(m),
            warnings: Vec::new(),
            infos: Vec::new(),
        })
    }
}

/// Whether the reference evaluator understands `query` (a literal or a plain
/// selector).
pub fn supports(query: &str) -> bool {
    Reference::new().parse(query).is_ok()
}
