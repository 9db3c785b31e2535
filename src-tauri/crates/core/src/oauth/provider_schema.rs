//! The machinery behind the provider's one field list (`provider_fields!` in
//! `oauth/provider.rs`). A field is declared once there: its name (which is also its JSON
//! name, its vault column and its form field), its type, its validation, its command-line flag
//! and its description. From that one line this module derives the configuration struct, the
//! input a person types, the form the window shows, the vault's named columns, and the list of
//! changed fields; `FieldValue` says how each Rust type crosses those boundaries.

use std::collections::BTreeMap;

use rusqlite::types::{FromSql, FromSqlResult, Value, ValueRef};
use serde::{Deserialize, Serialize};

use crate::vault::provider_table::{ClientAuth, SignInWith};

/// One provider field as the faces see it: what the CLI, the OpenAPI document and the
/// window's form are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The JSON name, the vault column and the form field's name.
    pub name: &'static str,
    /// The `provider add`/`update` flag and its value's name, when the field has one.
    #[serde(skip)]
    pub flag: Option<(&'static str, &'static str)>,
    /// The flag may be repeated (`--scope a --scope b`).
    #[serde(skip)]
    pub many: bool,
    /// The flag alone means true (`--par`); `--par=false` turns it off.
    #[serde(skip)]
    pub switch: bool,
    /// The validator that checks it (`url` for an endpoint).
    #[serde(skip)]
    pub check: &'static str,
    /// For an endpoint that receives the client's authentication or a stored token: what a
    /// person calls it. A credential follows its endpoint (`providers/moves.rs`).
    #[serde(skip)]
    pub guarded: Option<&'static str>,
    pub description: &'static str,
}

/// Every value as the window's form shows it: text, keyed by field name.
pub type ProviderForm = BTreeMap<&'static str, String>;

/// Scopes as a JSON list, or as text separated by spaces (how the form and RFC 6749 write them).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ListOrText {
    List(Vec<String>),
    Text(String),
}

/// Extra parameters as a JSON object, or as `key=value` lines (the form's text area).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum MapOrText {
    Map(BTreeMap<String, String>),
    Text(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum NumberOrText {
    Number(i64),
    Text(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum BoolOrText {
    Bool(bool),
    Text(String),
}

/// How a field's type crosses each boundary: typed by a person, shown in the form, stored in
/// a vault column. One impl a type, so a new field of a known type needs no code here.
pub trait FieldValue: Sized {
    /// What a person may type for it (JSON, a flag, the form).
    type Input;
    /// Its command-line flag may be repeated.
    const MANY: bool = false;
    /// Its command-line flag may stand alone, for true.
    const SWITCH: bool = false;
    /// The input that gives this value back (the start of an edit).
    fn to_input(&self) -> Option<Self::Input>;
    /// The input as the form's text.
    fn input_text(input: &Self::Input) -> String;
    /// The form's text for a field left out, given the field's default.
    fn blank_text(default: &Self) -> String;
    fn to_column(&self) -> Value;
    fn from_column(v: ValueRef<'_>) -> FromSqlResult<Self>;
    /// The input a flag's values give, over `before` (what a preset or discovery filled).
    /// The error says what to write instead.
    fn from_flag(values: &[String], before: Option<Self::Input>) -> Result<Self::Input, String>;
    /// The value as text, for the fields that are text.
    fn as_text(&self) -> Option<&str> {
        None
    }
}

/// A flag given once, or the last of several: its value as typed.
fn last(values: &[String]) -> String {
    values.last().cloned().unwrap_or_default()
}

impl FieldValue for String {
    type Input = String;
    fn to_input(&self) -> Option<String> {
        Some(self.clone())
    }
    fn input_text(input: &String) -> String {
        input.clone()
    }
    fn blank_text(default: &Self) -> String {
        default.clone()
    }
    fn to_column(&self) -> Value {
        Value::Text(self.clone())
    }
    fn from_column(v: ValueRef<'_>) -> FromSqlResult<Self> {
        String::column_result(v)
    }
    fn from_flag(values: &[String], _: Option<String>) -> Result<String, String> {
        Ok(last(values))
    }
    fn as_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl FieldValue for Option<String> {
    type Input = String;
    fn to_input(&self) -> Option<String> {
        self.clone()
    }
    fn input_text(input: &String) -> String {
        input.clone()
    }
    fn blank_text(_: &Self) -> String {
        String::new()
    }
    fn to_column(&self) -> Value {
        self.clone().map_or(Value::Null, Value::Text)
    }
    fn from_column(v: ValueRef<'_>) -> FromSqlResult<Self> {
        Option::<String>::column_result(v)
    }
    fn from_flag(values: &[String], _: Option<String>) -> Result<String, String> {
        Ok(last(values))
    }
    fn as_text(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// Lists and maps are stored as JSON text.
fn json_column<T: Serialize>(v: &T) -> Value {
    Value::Text(serde_json::to_string(v).expect("lists and maps of strings serialize"))
}

/// A damaged JSON column reads as empty rather than failing every read of the provider; the
/// next save writes it whole again.
fn from_json_column<T: for<'de> Deserialize<'de> + Default>(v: ValueRef<'_>) -> FromSqlResult<T> {
    Ok(serde_json::from_str(v.as_str()?).unwrap_or_default())
}

impl FieldValue for Vec<String> {
    type Input = ListOrText;
    const MANY: bool = true;
    fn to_input(&self) -> Option<ListOrText> {
        Some(ListOrText::List(self.clone()))
    }
    fn input_text(input: &ListOrText) -> String {
        match input {
            ListOrText::List(l) => l.join(" "),
            ListOrText::Text(t) => t.clone(),
        }
    }
    fn blank_text(_: &Self) -> String {
        String::new()
    }
    fn to_column(&self) -> Value {
        json_column(self)
    }
    fn from_column(v: ValueRef<'_>) -> FromSqlResult<Self> {
        from_json_column(v)
    }
    /// Each flag may hold several, separated by spaces; the flags replace the scopes before.
    fn from_flag(values: &[String], _: Option<ListOrText>) -> Result<ListOrText, String> {
        Ok(ListOrText::Text(values.join(" ")))
    }
}

impl FieldValue for BTreeMap<String, String> {
    type Input = MapOrText;
    const MANY: bool = true;
    fn to_input(&self) -> Option<MapOrText> {
        Some(MapOrText::Map(self.clone()))
    }
    fn input_text(input: &MapOrText) -> String {
        match input {
            MapOrText::Map(m) => m
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n"),
            MapOrText::Text(t) => t.clone(),
        }
    }
    fn blank_text(_: &Self) -> String {
        String::new()
    }
    fn to_column(&self) -> Value {
        json_column(self)
    }
    fn from_column(v: ValueRef<'_>) -> FromSqlResult<Self> {
        from_json_column(v)
    }
    /// `KEY=VALUE` each, added to the parameters before (a preset's, say).
    fn from_flag(values: &[String], before: Option<MapOrText>) -> Result<MapOrText, String> {
        let mut map = match before {
            Some(MapOrText::Map(m)) => m,
            _ => BTreeMap::new(),
        };
        for v in values {
            let (k, v) = v
                .split_once('=')
                .ok_or_else(|| format!("write KEY=VALUE, not {}", crate::text::visible(v)))?;
            map.insert(k.trim().to_owned(), v.to_owned());
        }
        Ok(MapOrText::Map(map))
    }
}

impl FieldValue for u16 {
    type Input = NumberOrText;
    fn to_input(&self) -> Option<NumberOrText> {
        Some(NumberOrText::Number((*self).into()))
    }
    fn input_text(input: &NumberOrText) -> String {
        match input {
            NumberOrText::Number(n) => n.to_string(),
            NumberOrText::Text(t) => t.clone(),
        }
    }
    fn blank_text(default: &Self) -> String {
        default.to_string()
    }
    fn to_column(&self) -> Value {
        Value::Integer((*self).into())
    }
    fn from_column(v: ValueRef<'_>) -> FromSqlResult<Self> {
        u16::column_result(v)
    }
    fn from_flag(values: &[String], _: Option<NumberOrText>) -> Result<NumberOrText, String> {
        Ok(NumberOrText::Text(last(values)))
    }
}

impl FieldValue for bool {
    type Input = BoolOrText;
    const SWITCH: bool = true;
    fn to_input(&self) -> Option<BoolOrText> {
        Some(BoolOrText::Bool(*self))
    }
    fn input_text(input: &BoolOrText) -> String {
        let yes = match input {
            BoolOrText::Bool(b) => *b,
            BoolOrText::Text(t) => t == "true",
        };
        yes.to_string()
    }
    fn blank_text(default: &Self) -> String {
        default.to_string()
    }
    fn to_column(&self) -> Value {
        Value::Integer((*self).into())
    }
    fn from_column(v: ValueRef<'_>) -> FromSqlResult<Self> {
        bool::column_result(v)
    }
    fn from_flag(values: &[String], _: Option<BoolOrText>) -> Result<BoolOrText, String> {
        Ok(BoolOrText::Text(last(values)))
    }
}

/// The plain enums cross every boundary by their wire names (`wire.rs`).
macro_rules! wire_field {
    ($ty:ty, blank: $blank:expr) => {
        impl FieldValue for $ty {
            type Input = String;
            fn to_input(&self) -> Option<String> {
                Some(self.as_str().into())
            }
            fn input_text(input: &String) -> String {
                input.clone()
            }
            fn blank_text(default: &Self) -> String {
                let blank: fn(&Self) -> String = $blank;
                blank(default)
            }
            fn to_column(&self) -> Value {
                Value::Text(self.as_str().into())
            }
            fn from_column(v: ValueRef<'_>) -> FromSqlResult<Self> {
                <$ty as FromSql>::column_result(v)
            }
            fn from_flag(values: &[String], _: Option<String>) -> Result<String, String> {
                Ok(last(values))
            }
        }
    };
}

// Left empty, the client authentication is chosen by whether a secret is given.
wire_field!(ClientAuth, blank: |_| String::new());
wire_field!(SignInWith, blank: |d| d.as_str().into());

/// A vault column read as a field's type: `row.get::<_, Column<T>>("name")`.
pub(crate) struct Column<T>(pub T);

impl<T: FieldValue> FromSql for Column<T> {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        T::from_column(v).map(Column)
    }
}

/// Declares the provider's fields; each line is
/// `/// description` then `name: Type [= default], check VALIDATOR, flag FLAG [, guard "LABEL"];`
/// where VALIDATOR is a `Validator` method `(field, &Option<Input>) -> Type` and a function of
/// `input_schema`, FLAG is `Some(("long-name", "VALUE"))` or `None`, and LABEL names an
/// endpoint that receives credentials (see `Field::guarded`).
macro_rules! provider_fields {
    ($(
        $(#[doc = $doc:literal])+
        $field:ident: $ty:ty $(= $default:expr)?, check $check:ident, flag $flag:expr
            $(, guard $guard:literal)?;
    )+) => {
        /// A provider's configuration, validated: every field but the client secret, which
        /// `ProviderRecord` keeps beside it.
        #[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
        pub struct ProviderConfig {
            $( $(#[doc = $doc])+ pub $field: $ty, )+
        }

        impl Default for ProviderConfig {
            fn default() -> Self {
                ProviderConfig { $( $field: provider_fields!(@default $($default)?), )+ }
            }
        }

        /// What the user typed (the form, the command line, the REST API, a shared file).
        /// Left out or empty means "not set"; lists may come as a list or as text.
        #[derive(Debug, Clone, Default, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct ProviderInput {
            $( $(#[doc = $doc])+ pub $field: Option<<$ty as FieldValue>::Input>, )+
            /// Write-only. Empty keeps the stored secret when editing.
            pub client_secret: Option<Secret<String>>,
            /// Write-only: a key to generate or import. None keeps the stored one.
            pub client_key: Option<crate::oauth::signing_key::KeyInput>,
            /// A certificate (with its key, maybe) to import. None keeps the stored one.
            pub client_cert: Option<crate::oauth::client_cert::CertInput>,
        }

        /// Every field, in the order the faces show them.
        pub const FIELDS: &[Field] = &[$(
            Field {
                name: stringify!($field),
                flag: $flag,
                many: <$ty as FieldValue>::MANY,
                switch: <$ty as FieldValue>::SWITCH,
                check: stringify!($check),
                guarded: provider_fields!(@some $($guard)?),
                description: concat!($($doc),+),
            }
        ),+];

        /// The REST API's document: every field's validator says what it accepts.
        impl schemars::JsonSchema for ProviderInput {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "ProviderInput".into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let fields = [$(
                    (stringify!($field), concat!($($doc),+), input_schema::$check()),
                )+];
                input_schema::object(&fields)
                    .try_into()
                    .expect("an input schema is an object")
            }
        }

        impl ProviderConfig {
            /// The names of the fields that differ from `other`'s.
            pub fn changed_fields(&self, other: &Self) -> Vec<&'static str> {
                let mut changed = Vec::new();
                $( if self.$field != other.$field { changed.push(stringify!($field)); } )+
                changed
            }

            /// The text of field `name`, when it is a text field and set.
            pub fn text(&self, name: &str) -> Option<&str> {
                match name {
                    $( stringify!($field) => FieldValue::as_text(&self.$field), )+
                    _ => None,
                }
            }

            /// Every field by name, in the declared order, as JSON (a shared file).
            pub fn entries(&self) -> Vec<(&'static str, serde_json::Value)> {
                vec![$(
                    (stringify!($field), serde_json::to_value(&self.$field).expect("a field serializes")),
                )+]
            }

            /// Every field as a named SQL parameter (`:name`), for the vault.
            pub(crate) fn named_columns(&self) -> Vec<(&'static str, rusqlite::types::Value)> {
                vec![$( (concat!(":", stringify!($field)), FieldValue::to_column(&self.$field)), )+]
            }

            /// Reads every field from the row's column of the same name.
            pub(crate) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(ProviderConfig {
                    $( $field: r.get::<_, Column<$ty>>(stringify!($field))?.0, )+
                })
            }
        }

        impl ProviderInput {
            /// The input that would produce `config` (without a secret): the start of an edit.
            pub fn from_config(config: &ProviderConfig) -> ProviderInput {
                ProviderInput {
                    $( $field: FieldValue::to_input(&config.$field), )+
                    client_secret: None,
                    client_key: None,
                    client_cert: None,
                }
            }

            /// The form showing this input (its secret left out).
            pub fn to_form(&self) -> ProviderForm {
                let blank = ProviderConfig::default();
                ProviderForm::from([$(
                    (stringify!($field), match &self.$field {
                        Some(typed) => <$ty as FieldValue>::input_text(typed),
                        None => FieldValue::blank_text(&blank.$field),
                    }),
                )+])
            }

            /// Sets `field` from its command-line flag's values (see `Field::flag`).
            pub fn set_from_flag(&mut self, field: &str, values: &[String]) -> Result<(), String> {
                match field {
                    $( stringify!($field) => {
                        self.$field = Some(<$ty as FieldValue>::from_flag(values, self.$field.take())?);
                    } )+
                    _ => {}
                }
                Ok(())
            }

            /// Each field checked alone; the rules between fields come after (`validate`).
            fn check_fields(&self, v: &mut Validator) -> ProviderConfig {
                ProviderConfig { $( $field: v.$check(stringify!($field), &self.$field), )+ }
            }
        }
    };
    (@some) => { None };
    (@some $value:literal) => { Some($value) };
    (@default) => { Default::default() };
    (@default $default:expr) => { $default };
}
pub(crate) use provider_fields;
