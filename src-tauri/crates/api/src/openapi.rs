//! The OpenAPI document the server serves. Paths, responses and the token schemas are written
//! in `openapi.json`; the provider's schemas are generated from the core's Rust types with
//! schemars (`ProviderView`, `Updated`, and `ProviderInput`, whose schema each field's
//! validator gives), so a new provider field reaches the document with no edit here.

use std::sync::LazyLock;

use oauth_desk_core::oauth::provider::ProviderInput;
use oauth_desk_core::providers::Updated;
use oauth_desk_core::vault::provider_table::ProviderView;
use schemars::generate::SchemaSettings;
use serde_json::{json, Value};

const WRITTEN: &str = include_str!("../openapi.json");

/// What an update's body may also do, beyond what `ProviderInput` says.
const UPDATE_NOTE: &str = " On update the fields replace the stored ones. Beyond what this \
    schema says, an empty client_secret with basic or post is also accepted when the provider \
    has a stored secret, which it keeps, and private_key_jwt without client_key when it has a \
    stored key, which it keeps (a client_key replaces it).";

static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());

/// The document as served.
pub fn served() -> &'static str {
    &DOCUMENT
}

pub fn document() -> Value {
    let mut doc: Value = serde_json::from_str(WRITTEN).expect("openapi.json is JSON");
    let mut generator = SchemaSettings::openapi3().for_serialize().into_generator();
    generator.subschema_for::<ProviderView>();
    generator.subschema_for::<Updated>();
    generator.subschema_for::<ProviderInput>();
    let mut generated = generator.take_definitions(true);
    let mut update = generated["ProviderInput"].clone();
    let described = format!(
        "{}{UPDATE_NOTE}",
        update["description"].as_str().unwrap_or_default()
    );
    update["description"] = json!(described);
    generated.insert("ProviderUpdate".into(), update);
    // Registering: the provider gives the client id and secret, and the registration
    // endpoint is what it is all about.
    let mut registration = generated["ProviderInput"].clone();
    if let Some(properties) = registration["properties"].as_object_mut() {
        properties.remove("client_id");
        properties.remove("client_secret");
        // Required here: an endpoint as the (required) token endpoint is one.
        let mut endpoint = properties["token_url"].clone();
        endpoint["description"] = json!(
            "The client registration endpoint (RFC 7591), where the client is registered. \
             Required. An endpoint: https (plain http only on 127.0.0.1, [::1] or localhost), \
             no user name, password or fragment."
        );
        properties.insert("registration_url".into(), endpoint);
    }
    let mut required: Vec<Value> = registration["required"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f != "client_id" && f != "client_secret")
        .collect();
    required.push(json!("registration_url"));
    registration["required"] = json!(required);
    registration["description"] = json!(
        "A provider to register a new client at: ProviderInput without client_id and \
         client_secret, which the provider gives."
    );
    generated.insert("ProviderRegistration".into(), registration);
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("openapi.json has components.schemas");
    for (name, schema) in generated {
        schemas.insert(name, schema);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every schema the document names is in it: a renamed Rust type would leave a dangling
    /// `$ref` that schemathesis reports only as a confusing failure.
    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap();
            let path = target.strip_prefix("#/").expect("a local reference");
            let found = path.split('/').try_fold(&doc, |node, key| node.get(key));
            assert!(found.is_some(), "{target} is not in the document");
        }
    }

    #[test]
    fn the_provider_schemas_list_every_field() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let fields: Vec<&str> = oauth_desk_core::oauth::provider::FIELDS
            .iter()
            .map(|f| f.name)
            .collect();
        for (schema, extra) in [
            ("ProviderInput", &["client_secret", "client_key"][..]),
            ("ProviderUpdate", &["client_secret", "client_key"][..]),
            (
                "Provider",
                &[
                    "id",
                    "has_client_secret",
                    "client_key",
                    "dpop_key",
                    "client_cert",
                    "registered",
                    "endpoint_sources",
                    "accounts",
                    "created_at",
                    "updated_at",
                ][..],
            ),
        ] {
            let properties = schemas[schema]["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{schema} has properties: {}", schemas[schema]));
            let mut listed: Vec<&str> = properties.keys().map(String::as_str).collect();
            let mut expected: Vec<&str> = fields.iter().chain(extra).copied().collect();
            listed.sort_unstable();
            expected.sort_unstable();
            assert_eq!(listed, expected, "{schema}");
        }
    }
}
