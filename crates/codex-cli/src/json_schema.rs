//! A JSON Schema checker for what structured outputs use: `type`, `enum`, `const`,
//! `properties`, `required`, `additionalProperties`, `items`, `prefixItems`, `anyOf`, `oneOf`,
//! `allOf`, `not`, local `$ref`s (`$defs`, `definitions`), and the size and range keywords.
//! `pattern` and `format` are not checked: the provider enforces the schema when it writes the
//! answer, so this is a second look, and a general-purpose validator (regex engines, big
//! numbers, remote references) made every `codex` start measurably slower for it.

use serde_json::{Map, Value};

const TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "number", "integer", "string",
];

/// Why `schema` cannot be used, or `None`: each keyword checked here must have the shape
/// JSON Schema gives it, and each `$ref` must lead somewhere in the document.
pub(crate) fn schema_error(schema: &Value) -> Option<String> {
    shape_error(schema, schema, "")
}

/// The first place where `value` breaks `schema`: its JSON pointer and what is wrong.
pub(crate) fn first_error(schema: &Value, value: &Value) -> Option<(String, String)> {
    check(schema, schema, value, "", 0)
}

fn shape_error(root: &Value, schema: &Value, at: &str) -> Option<String> {
    let s = match schema {
        Value::Bool(_) => return None,
        Value::Object(s) => s,
        _ => return Some(format!("{}: a schema is an object or a boolean", here(at))),
    };
    if let Some(t) = s.get("type") {
        let names: Vec<&Value> = match t {
            Value::Array(a) => a.iter().collect(),
            one => vec![one],
        };
        for n in names {
            if !n.as_str().is_some_and(|n| TYPES.contains(&n)) {
                return Some(format!("{}/type: {n} is not a JSON Schema type", here(at)));
            }
        }
    }
    if s.get("required")
        .is_some_and(|r| !r.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
    {
        return Some(format!("{}/required: not an array of names", here(at)));
    }
    if s.get("enum").is_some_and(|e| !e.is_array()) {
        return Some(format!("{}/enum: not an array", here(at)));
    }
    if let Some(r) = s.get("$ref") {
        let found = r.as_str().and_then(|r| resolve(root, r));
        if found.is_none() {
            return Some(format!(
                "{}/$ref: {r} does not lead to a schema in this file",
                here(at)
            ));
        }
    }
    let mut children: Vec<(String, &Value)> = Vec::new();
    for key in ["properties", "$defs", "definitions"] {
        match s.get(key) {
            None => {}
            Some(Value::Object(m)) => {
                children.extend(m.iter().map(|(k, v)| (format!("{at}/{key}/{k}"), v)));
            }
            Some(_) => return Some(format!("{}/{key}: not an object", here(at))),
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        match s.get(key) {
            None => {}
            Some(Value::Array(a)) => {
                children.extend(
                    a.iter()
                        .enumerate()
                        .map(|(i, v)| (format!("{at}/{key}/{i}"), v)),
                );
            }
            Some(_) => return Some(format!("{}/{key}: not an array", here(at))),
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(v) = s.get(key) {
            children.push((format!("{at}/{key}"), v));
        }
    }
    children
        .into_iter()
        .find_map(|(at, child)| shape_error(root, child, &at))
}

/// `#`, `#/$defs/name`, `#/definitions/name` or any other JSON pointer into the document.
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    let pointer = pointer.replace("~1", "/").replace("~0", "~");
    root.pointer(&pointer)
}

fn check(
    root: &Value,
    schema: &Value,
    v: &Value,
    at: &str,
    depth: u32,
) -> Option<(String, String)> {
    let fail = |what: String| Some((at.to_string(), what));
    let s = match schema {
        Value::Bool(true) => return None,
        Value::Bool(false) => return fail("nothing is allowed here".into()),
        Value::Object(s) => s,
        _ => return None,
    };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        // A schema that refers to itself without consuming the value would never end.
        if depth > 64 {
            return fail(format!("$ref {r} nests too deep"));
        }
        if let Some(target) = resolve(root, r)
            && let Some(e) = check(root, target, v, at, depth + 1)
        {
            return Some(e);
        }
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::Array(a) => a.iter().filter_map(Value::as_str).any(|n| is_type(v, n)),
            one => one.as_str().is_some_and(|n| is_type(v, n)),
        };
        if !ok {
            return fail(format!("{} is not of type {t}", brief(v)));
        }
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.contains(v)
    {
        return fail(format!(
            "{} is not one of {}",
            brief(v),
            brief(&Value::Array(options.clone()))
        ));
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        return fail(format!("{} is not {}", brief(v), brief(c)));
    }
    if let Some(e) = combinators(root, s, v, at, depth) {
        return Some(e);
    }
    match v {
        Value::Object(o) => object(root, s, o, at, depth),
        Value::Array(a) => array(root, s, a, at, depth),
        Value::String(text) => {
            let n = text.chars().count() as f64;
            bound(s, "minLength", n, |n, m| n >= m, "characters, fewer than")
                .or_else(|| bound(s, "maxLength", n, |n, m| n <= m, "characters, more than"))
                .map(|w| (at.to_string(), w))
        }
        Value::Number(num) => {
            let x = num.as_f64().unwrap_or(0.0);
            let multiple = s
                .get("multipleOf")
                .and_then(Value::as_f64)
                .filter(|m| *m > 0.0 && ((x / m).round() * m - x).abs() > 1e-9 * x.abs().max(1.0));
            if let Some(m) = multiple {
                return fail(format!("{x} is not a multiple of {m}"));
            }
            bound(s, "minimum", x, |x, m| x >= m, "is less than")
                .or_else(|| bound(s, "maximum", x, |x, m| x <= m, "is more than"))
                .or_else(|| bound(s, "exclusiveMinimum", x, |x, m| x > m, "is not more than"))
                .or_else(|| bound(s, "exclusiveMaximum", x, |x, m| x < m, "is not less than"))
                .map(|w| (at.to_string(), w))
        }
        _ => None,
    }
}

fn combinators(
    root: &Value,
    s: &Map<String, Value>,
    v: &Value,
    at: &str,
    depth: u32,
) -> Option<(String, String)> {
    let list = |key: &str| s.get(key).and_then(Value::as_array);
    let passes = |sub: &Value| check(root, sub, v, at, depth + 1).is_none();
    let fail = |what: &str| Some((at.to_string(), what.to_string()));
    if let Some(all) = list("allOf")
        && let Some(e) = all
            .iter()
            .find_map(|sub| check(root, sub, v, at, depth + 1))
    {
        return Some(e);
    }
    if let Some(any) = list("anyOf")
        && !any.iter().any(passes)
    {
        return fail("it matches none of anyOf");
    }
    if let Some(one) = list("oneOf")
        && one.iter().filter(|sub| passes(sub)).count() != 1
    {
        return fail("it does not match exactly one of oneOf");
    }
    if s.get("not").is_some_and(passes) {
        return fail("it matches the schema under not");
    }
    None
}

fn object(
    root: &Value,
    s: &Map<String, Value>,
    o: &Map<String, Value>,
    at: &str,
    depth: u32,
) -> Option<(String, String)> {
    for name in s
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = name.as_str()
            && !o.contains_key(name)
        {
            return Some((at.to_string(), format!("\"{name}\" is required")));
        }
    }
    let properties = s.get("properties").and_then(Value::as_object);
    for (k, value) in o {
        let at = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
        let sub = match properties.and_then(|p| p.get(k)) {
            Some(sub) => sub,
            None => match s.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    return Some((at, "this property is not allowed".into()));
                }
                Some(sub) => sub,
                None => continue,
            },
        };
        if let Some(e) = check(root, sub, value, &at, depth + 1) {
            return Some(e);
        }
    }
    let n = o.len() as f64;
    bound(
        s,
        "minProperties",
        n,
        |n, m| n >= m,
        "properties, fewer than",
    )
    .or_else(|| {
        bound(
            s,
            "maxProperties",
            n,
            |n, m| n <= m,
            "properties, more than",
        )
    })
    .map(|w| (at.to_string(), w))
}

fn array(
    root: &Value,
    s: &Map<String, Value>,
    a: &[Value],
    at: &str,
    depth: u32,
) -> Option<(String, String)> {
    let prefix = s.get("prefixItems").and_then(Value::as_array);
    for (i, item) in a.iter().enumerate() {
        let sub = match prefix.and_then(|p| p.get(i)) {
            Some(sub) => sub,
            None => match s.get("items") {
                Some(sub) => sub,
                None => continue,
            },
        };
        if let Some(e) = check(root, sub, item, &format!("{at}/{i}"), depth + 1) {
            return Some(e);
        }
    }
    let n = a.len() as f64;
    bound(s, "minItems", n, |n, m| n >= m, "items, fewer than")
        .or_else(|| bound(s, "maxItems", n, |n, m| n <= m, "items, more than"))
        .map(|w| (at.to_string(), w))
}

/// The message when `s[key]` is a number that `x` does not satisfy.
fn bound(
    s: &Map<String, Value>,
    key: &str,
    x: f64,
    ok: fn(f64, f64) -> bool,
    says: &str,
) -> Option<String> {
    let limit = s.get(key).and_then(Value::as_f64)?;
    (!ok(x, limit)).then(|| format!("{x} {says} {limit} ({key})"))
}

fn is_type(v: &Value, name: &str) -> bool {
    match name {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "number" => v.is_number(),
        "integer" => {
            v.as_i64().is_some()
                || v.as_u64().is_some()
                || v.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "string" => v.is_string(),
        _ => false,
    }
}

/// A value shortened for a one-line message.
fn brief(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

fn here(at: &str) -> &str {
    if at.is_empty() { "the schema" } else { at }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(schema: Value, v: Value) -> Option<String> {
        assert_eq!(schema_error(&schema), None, "{schema}");
        first_error(&schema, &v).map(|(at, what)| format!("{at}: {what}"))
    }

    #[test]
    fn types_required_and_additional_properties_are_checked_with_their_place() {
        let s = json!({
            "type": "object",
            "properties": {"n": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
            "required": ["n"],
            "additionalProperties": false,
        });
        assert_eq!(err(s.clone(), json!({"n": 3, "tags": ["a"]})), None);
        assert_eq!(err(s.clone(), json!({"n": 3.0})), None);
        assert!(
            err(s.clone(), json!({"n": "3"}))
                .expect("type")
                .starts_with("/n: ")
        );
        assert!(
            err(s.clone(), json!({"n": 1.5}))
                .expect("integer")
                .starts_with("/n: ")
        );
        assert!(
            err(s.clone(), json!({"tags": []}))
                .expect("required")
                .contains("\"n\" is required")
        );
        assert!(
            err(s.clone(), json!({"n": 1, "x": 1}))
                .expect("extra")
                .starts_with("/x: ")
        );
        assert!(
            err(s, json!({"n": 1, "tags": ["a", 2]}))
                .expect("item")
                .starts_with("/tags/1: ")
        );
    }

    #[test]
    fn enums_consts_ranges_sizes_and_combinators_are_checked() {
        assert!(err(json!({"enum": ["a", "b"]}), json!("c")).is_some());
        assert_eq!(err(json!({"enum": ["a", null]}), json!(null)), None);
        assert!(err(json!({"const": 1}), json!(2)).is_some());
        assert!(
            err(
                json!({"type": "number", "minimum": 1, "maximum": 2}),
                json!(3)
            )
            .is_some()
        );
        assert!(err(json!({"type": "number", "exclusiveMinimum": 1}), json!(1)).is_some());
        assert!(err(json!({"multipleOf": 0.5}), json!(1.25)).is_some());
        assert_eq!(err(json!({"multipleOf": 0.5}), json!(1.5)), None);
        assert!(err(json!({"minLength": 2}), json!("é")).is_some());
        assert!(err(json!({"maxItems": 1}), json!([1, 2])).is_some());
        let any = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
        assert_eq!(err(any.clone(), json!(null)), None);
        assert!(err(any, json!(1)).is_some());
        assert!(
            err(
                json!({"oneOf": [{"type": "number"}, {"type": "integer"}]}),
                json!(1)
            )
            .is_some()
        );
        assert!(err(json!({"not": {"type": "string"}}), json!("s")).is_some());
        assert!(err(json!(false), json!(1)).is_some());
    }

    #[test]
    fn local_refs_are_followed_and_a_recursive_one_ends() {
        let s = json!({
            "$defs": {"node": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}, "v": {"type": "integer"}}, "required": ["v"]}},
            "$ref": "#/$defs/node",
        });
        assert_eq!(
            err(s.clone(), json!({"v": 1, "next": {"v": 2, "next": null}})),
            None
        );
        assert!(err(s, json!({"v": 1, "next": {"next": null}})).is_some());
        let looping = json!({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"});
        assert!(first_error(&looping, &json!(1)).is_some());
    }

    #[test]
    fn a_malformed_schema_is_named_where_it_breaks() {
        assert!(schema_error(&json!({"type": "no-such-type"})).is_some());
        assert!(
            schema_error(&json!({"properties": {"a": {"type": 3}}}))
                .expect("nested")
                .contains("/properties/a/type")
        );
        assert!(schema_error(&json!({"required": "a"})).is_some());
        assert!(schema_error(&json!({"$ref": "#/$defs/missing"})).is_some());
        assert!(schema_error(&json!({"anyOf": {}})).is_some());
        assert_eq!(
            schema_error(&json!({"type": ["string", "null"], "pattern": "^a"})),
            None
        );
    }
}
