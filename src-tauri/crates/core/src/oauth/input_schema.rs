//! The JSON Schema (OpenAPI 3.0) of what each validator of `oauth/provider.rs` accepts: the
//! REST API's document describes `ProviderInput` with it. One function per validator, named as
//! it is, so a field's `check NAME` picks both; the rules between fields sit in
//! `between_fields`, as they do in `ProviderInput::validate`. The patterns are the shapes the
//! schema tests (schemathesis) generate: the validators accept more, and the descriptions say
//! the rule itself.

use serde_json::{json, Map, Value};

use super::presets;
use super::provider::RESERVED_PARAMS;

/// What a validator accepts, and whether the field must be given.
pub struct InputSchema {
    pub schema: Value,
    /// The rule in words, after the field's own description.
    pub rules: &'static str,
    pub required: bool,
}

fn parsed(schema: &str) -> Value {
    serde_json::from_str(schema).expect("an input schema is JSON")
}

fn optional(schema: &str, rules: &'static str) -> InputSchema {
    InputSchema {
        schema: parsed(schema),
        rules,
        required: false,
    }
}

fn required(schema: &str, rules: &'static str) -> InputSchema {
    InputSchema {
        schema: parsed(schema),
        rules,
        required: true,
    }
}

pub fn name() -> InputSchema {
    required(
        r#"{"type": "string", "pattern": "^ *[^\\u0000-\\u001f\\u007f-\\u009f ](?:[^\\u0000-\\u001f\\u007f-\\u009f]{0,198}[^\\u0000-\\u001f\\u007f-\\u009f ])? *$"}"#,
        "Unique; 1 to 200 characters once surrounding spaces are trimmed; no control characters. A name already taken is 409.",
    )
}

/// Any preset's id, or empty.
pub fn preset() -> InputSchema {
    let ids: Vec<&str> = presets::all().iter().map(|p| p.id).collect();
    InputSchema {
        schema: json!({
            "type": "string",
            "nullable": true,
            "pattern": format!("^ *(?:{})? *$", ids.join("|")),
        }),
        rules: "A preset id (`oauth-desk provider presets`), or empty.",
        required: false,
    }
}

pub fn url() -> InputSchema {
    optional(
        r#"{"type": "string", "nullable": true, "pattern": "^ *(?:(?:https://[a-z][a-z0-9]{0,15}(?:\\.[a-z][a-z0-9]{0,15}){0,3}|http://(?:127\\.0\\.0\\.1|localhost))(?::[0-9]{1,4})?(?:[/?][^\\u0000-\\u001f\\u007f-\\u009f#]*)?)? *$", "maxLength": 8192}"#,
        "An endpoint: https (plain http only on 127.0.0.1, [::1] or localhost), no user name, password or fragment; surrounding spaces are trimmed; empty or null means not set. The pattern is the shape the tests generate; any URL meeting those rules is accepted.",
    )
}

pub fn token_url() -> InputSchema {
    required(
        r#"{"type": "string", "pattern": "^ *(?:https://[a-z][a-z0-9]{0,15}(?:\\.[a-z][a-z0-9]{0,15}){0,3}|http://(?:127\\.0\\.0\\.1|localhost))(?::[0-9]{1,4})?(?:[/?][^\\u0000-\\u001f\\u007f-\\u009f#]*)? *$", "maxLength": 8192}"#,
        "Required. An endpoint: https (plain http only on 127.0.0.1, [::1] or localhost), no user name, password or fragment; surrounding spaces are trimmed; empty or null means not set. The pattern is the shape the tests generate; any URL meeting those rules is accepted.",
    )
}

pub fn client_id() -> InputSchema {
    required(
        r#"{"type": "string", "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\u0000-\\u001f\\u007f-\\u009f ][^\\u0000-\\u001f\\u007f-\\u009f]*$", "maxLength": 8192}"#,
        "Required: not empty once surrounding spaces are trimmed; no control characters; at most 8 KB.",
    )
}

pub fn client_auth() -> InputSchema {
    optional(
        r#"{"type": "string", "nullable": true, "pattern": "^ *(?:basic|post|none|client_secret_jwt|private_key_jwt|self_signed_tls_client_auth)? *$"}"#,
        "basic, post, none, client_secret_jwt, private_key_jwt or self_signed_tls_client_auth (the CLI and the window also take tls_client_auth, whose certificate comes from a file); empty picks basic when there is a secret, none otherwise.",
    )
}

pub fn names() -> InputSchema {
    optional(
        r#"{"nullable": true, "anyOf": [{"type": "array", "maxItems": 32, "items": {"type": "string", "pattern": "^[A-Za-z0-9+._-]{0,32}$"}}, {"type": "string", "pattern": "^ *(?:[A-Za-z0-9+._-]{1,32}(?: +|$)){0,32}$"}]}"#,
        "A list, or text separated by spaces, of at most 32 names (letters, digits, +._-).",
    )
}

pub fn scopes() -> InputSchema {
    optional(
        r#"{"nullable": true, "anyOf": [{"type": "array", "items": {"type": "string", "pattern": "^[!#-\\[\\]-~]{0,8192}$"}}, {"type": "string", "pattern": "^ *(?:[!#-\\[\\]-~]{1,8192}(?: +|$))*$"}]}"#,
        "A list, or text separated by spaces. Each scope is printable ASCII other than space, \" and \\ (RFC 6749 §3.3), at most 8 KB; empty ones are skipped, repeated ones kept once.",
    )
}

pub fn resources() -> InputSchema {
    optional(
        r#"{"nullable": true, "anyOf": [{"type": "array", "maxItems": 16, "items": {"type": "string", "pattern": "^(?:https://[a-z][a-z0-9]{0,15}(?:\\.[a-z][a-z0-9]{0,15}){0,3}(?:/[a-z0-9/]{0,32})?)?$"}}, {"type": "string", "pattern": "^ *(?:https://[a-z][a-z0-9]{0,15}(?:\\.[a-z][a-z0-9]{0,15}){0,3}(?:/[a-z0-9/]{0,32})?(?: +|$)){0,16}$"}]}"#,
        "A list, or text separated by spaces, of at most 16 absolute URIs without a fragment (RFC 8707 §2); repeated ones are kept once.",
    )
}

pub fn audience() -> InputSchema {
    optional(
        r#"{"type": "string", "nullable": true, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$", "maxLength": 8192}"#,
        "Any text without control characters; surrounding spaces are trimmed; empty or null means none.",
    )
}

/// Set by discovery; a face sends back what it was given.
pub fn discovered() -> InputSchema {
    let fields: Vec<&str> = super::discovery::endpoint_fields().collect();
    // An endpoint as the metadata gave it: never null.
    let mut endpoint = url().schema;
    endpoint.as_object_mut().map(|o| o.remove("nullable"));
    InputSchema {
        schema: json!({
            "nullable": true,
            "anyOf": [
                {
                    "type": "object",
                    "patternProperties": {
                        format!("^(?:{})$", fields.join("|")): endpoint,
                    },
                    "additionalProperties": false,
                },
                { "type": "string", "maxLength": 0 },
            ],
        }),
        rules: "Set by discovery: each endpoint field as the provider's metadata last gave it. An endpoint whose value differs was set by hand, and discovering again keeps it. Send back what was read, or nothing.",
        required: false,
    }
}

/// Keys of letters, digits and `._~-`, none of OAuth Desk's own parameters.
pub fn extra_params() -> InputSchema {
    let reserved = RESERVED_PARAMS.join("|");
    let not_reserved: Vec<Value> = RESERVED_PARAMS
        .iter()
        .map(|k| json!({ "required": [k] }))
        .collect();
    InputSchema {
        schema: json!({
            "nullable": true,
            "anyOf": [
                {
                    "type": "object",
                    "patternProperties": {
                        "^[A-Za-z0-9._~-]+$": {
                            "type": "string",
                            "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
                            "maxLength": 8192,
                        }
                    },
                    "additionalProperties": false,
                    "not": { "anyOf": not_reserved },
                },
                {
                    "type": "string",
                    "pattern": format!(
                        "^ *(?:(?!(?:{reserved}) *=)[A-Za-z0-9._~-]+ *= *[^\\u0000-\\u001f\\u007f-\\u009f]*)?$"
                    ),
                    "maxLength": 8192,
                },
            ],
        }),
        rules: "An object, or key=value text (the form's text area also takes one pair a line, each key once). Keys are letters, digits and . _ ~ -; OAuth Desk's own parameters (response_type, client_id, redirect_uri, scope, state, code_challenge, code_challenge_method, nonce) cannot be set; values have no control characters.",
        required: false,
    }
}

pub fn port() -> InputSchema {
    optional(
        r#"{"nullable": true, "anyOf": [{"type": "integer", "minimum": 0, "maximum": 65535}, {"type": "string", "pattern": "^ *(?:\\+?0{0,3}(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))? *$"}]}"#,
        "The loopback redirect's port, 0 (or empty) for any free one.",
    )
}

pub fn redirect_path() -> InputSchema {
    optional(
        r#"{"type": "string", "nullable": true, "pattern": "^ *(?:/[A-Za-z0-9/\\-._~!$&'()*+,;=:@%]*)? *$", "maxLength": 8192}"#,
        "The loopback redirect's path, starting with /; empty for /callback.",
    )
}

pub fn sign_in_with() -> InputSchema {
    optional(
        r#"{"type": "string", "nullable": true, "pattern": "^ *(?:window|browser)? *$"}"#,
        "window (the default) or browser.",
    )
}

pub fn color() -> InputSchema {
    optional(
        r#"{"type": "string", "nullable": true, "pattern": "^ *(?:#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6}))? *$"}"#,
        "#rgb or #rrggbb, or empty.",
    )
}

pub fn boolean() -> InputSchema {
    optional(
        r#"{"nullable": true, "anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false", ""]}]}"#,
        "true or false, as JSON or as text; empty is false.",
    )
}

/// An endpoint that must be there: `token_url`'s shape.
fn set_endpoint() -> Value {
    token_url().schema
}

/// The secret is not a field of the configuration: it sits beside it.
pub fn client_secret() -> Value {
    let mut schema = parsed(
        r#"{"type": "string", "nullable": true, "writeOnly": true, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$", "maxLength": 8192}"#,
    );
    schema["description"] = json!("Write-only. Empty or null: none (on update, the stored one is kept). Required for basic and post client authentication, refused with none.");
    schema
}

/// The client's signing key is not a field either. The REST API generates one; a key of your
/// own is imported through the CLI (`--client-key-stdin`) or the window.
pub fn client_key() -> Value {
    json!({
        "type": "object",
        "nullable": true,
        "writeOnly": true,
        "additionalProperties": false,
        "required": ["generate"],
        "properties": { "generate": {
            "type": "string",
            "enum": crate::oauth::signing_key::Alg::ALL.map(|a| a.as_str()),
        } },
        "description": "Generate the private key private_key_jwt signs with, for this algorithm; it never leaves the vault, and the provider's client_key.jwk is its public half. Left out or null: the stored key is kept.",
    })
}

/// The rules between fields (`ProviderInput::validate`).
pub fn between_fields() -> Value {
    let mut rules = parsed(
        r#"[{"description": "Client authentication and secret agree.", "anyOf": [{"properties": {"client_auth": {"type": "string", "nullable": true, "pattern": "^ *$"}}}, {"required": ["client_auth", "client_secret"], "properties": {"client_auth": {"type": "string", "pattern": "^ *(?:basic|post|client_secret_jwt) *$"}, "client_secret": {"type": "string", "minLength": 1}}}, {"required": ["client_auth"], "properties": {"client_auth": {"type": "string", "pattern": "^ *none *$"}, "client_secret": {"type": "string", "nullable": true, "maxLength": 0}}}, {"required": ["client_auth", "client_key"], "properties": {"client_auth": {"type": "string", "pattern": "^ *private_key_jwt *$"}, "client_key": {"type": "object"}}}, {"required": ["client_auth"], "properties": {"client_auth": {"type": "string", "pattern": "^ *self_signed_tls_client_auth *$"}}}]}, {"description": "A custom redirect URL is caught by the login window, so it cannot go with sign_in_with browser.", "not": {"required": ["redirect_url", "sign_in_with"], "properties": {"redirect_url": {"type": "string", "pattern": "^ *(?:https://[a-z][a-z0-9]{0,15}(?:\\.[a-z][a-z0-9]{0,15}){0,3}|http://(?:127\\.0\\.0\\.1|localhost))(?::[0-9]{1,4})?"}, "sign_in_with": {"type": "string", "pattern": "^ *browser *$"}}}}]"#,
    );
    let pushed = json!({
        "description": "Pushing authorization requests (par) needs the endpoint to push them to (par_url).",
        "anyOf": [
            { "properties": { "par": {
                "nullable": true,
                "anyOf": [
                    { "type": "boolean", "enum": [false] },
                    { "type": "string", "enum": ["false", ""] },
                ],
            } } },
            { "required": ["par_url"], "properties": { "par_url": set_endpoint() } },
        ],
    });
    rules.as_array_mut().expect("a list of rules").push(pushed);
    rules
}

/// The object of every field: `fields` are (name, description, schema) in the declared order.
pub fn object(fields: &[(&str, &str, InputSchema)]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, description, input) in fields {
        let mut schema = input.schema.clone();
        schema["description"] = json!(format!("{}. {}", description.trim(), input.rules)
            .trim_end_matches(". ")
            .to_owned());
        properties.insert((*name).to_owned(), schema);
        if input.required {
            required.push(*name);
        }
    }
    properties.insert("client_secret".into(), client_secret());
    properties.insert("client_key".into(), client_key());
    json!({
        "type": "object",
        "description": "A provider as typed. Unknown fields are refused.",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
        "allOf": between_fields(),
    })
}
