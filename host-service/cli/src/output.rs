//! Human and JSON renderings of results.

use keyhold_core::{KeyInfo, KeyOrigin};
use serde_json::{Value, json};

fn origin(o: KeyOrigin) -> &'static str {
    match o {
        KeyOrigin::Generated => "generated",
        KeyOrigin::Imported => "imported",
        KeyOrigin::Derived => "derived",
    }
}

/// A key's metadata as JSON.
pub fn key_json(k: &KeyInfo) -> Value {
    let p = &k.policy;
    json!({
        "id": k.id.to_string(),
        "alias": k.alias,
        "algorithm": k.algorithm.name(),
        "hd_scheme": k.hd_scheme.map(|s| s.name()),
        "origin": origin(k.origin),
        "public_key_hex": hex::encode(&k.public_key),
        "usage_count": k.usage_count,
        "created_at_ms": k.created_at_ms,
        "sealer": k.sealer,
        "policy": {
            "allowed_callers": p.allowed_callers.iter().map(|r| json!({
                "uid": r.uid,
                "app_id": r.app_id,
                "code_sha256": r.code_sha256.map(hex::encode),
            })).collect::<Vec<_>>(),
            "allowed_operations": p.allowed_operations.map(|s| s.iter().map(|o| o.name()).collect::<Vec<_>>()),
            "allowed_path_prefixes": p.allowed_path_prefixes.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "max_uses": p.max_uses,
        },
    })
}

/// A key's metadata for people.
pub fn key_text(k: &KeyInfo) -> String {
    let mut out = format!(
        "id:          {}\nalias:       {}\nalgorithm:   {}\n",
        k.id,
        k.alias,
        k.algorithm.name()
    );
    if let Some(s) = k.hd_scheme {
        out.push_str(&format!("hd scheme:   {}\n", s.name()));
    }
    out.push_str(&format!("origin:      {}\n", origin(k.origin)));
    if !k.public_key.is_empty() {
        out.push_str(&format!("public key:  {}\n", hex::encode(&k.public_key)));
    }
    out.push_str(&format!(
        "uses:        {}\nsealer:      {}\n",
        k.usage_count, k.sealer
    ));
    for r in &k.policy.allowed_callers {
        let mut who = Vec::new();
        if let Some(u) = r.uid {
            who.push(format!("uid {u}"));
        }
        if let Some(a) = &r.app_id {
            who.push(format!("app {a}"));
        }
        if let Some(c) = r.code_sha256 {
            who.push(format!("code sha256 {}", hex::encode(c)));
        }
        out.push_str(&format!("allowed:     {}\n", who.join(", ")));
    }
    if let Some(ops) = k.policy.allowed_operations {
        let names: Vec<_> = ops.iter().map(|o| o.name()).collect();
        out.push_str(&format!("operations:  {}\n", names.join(", ")));
    }
    for p in &k.policy.allowed_path_prefixes {
        out.push_str(&format!("path prefix: {p}\n"));
    }
    if let Some(m) = k.policy.max_uses {
        out.push_str(&format!("max uses:    {m}\n"));
    }
    out.trim_end().to_owned()
}

/// One line per key, for `list`.
pub fn key_line(k: &KeyInfo) -> String {
    let kind = match k.hd_scheme {
        Some(s) => s.name(),
        None => k.algorithm.name(),
    };
    format!(
        "{}  {:<16} {:<10} {}",
        k.id,
        kind,
        origin(k.origin),
        k.alias
    )
}
