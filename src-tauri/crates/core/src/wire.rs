//! The names a plain enum crosses a boundary with (the window's and the REST API's JSON, the
//! CLI's `--json` and text, SQL) are its serde names, declared once on the enum with
//! `#[serde(rename_all = ...)]`. `wire_names!` gives such an enum `as_str`, `parse` and its
//! SQL conversions from those same names, so no second list of strings can drift from them.

use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::ser::{Impossible, Serialize, Serializer};

/// The serde name of a unit variant. Panics for anything else: only `wire_names!` calls it,
/// on enums of unit variants.
pub fn name<T: Serialize>(value: &T) -> &'static str {
    value
        .serialize(VariantName)
        .expect("wire_names! is used on enums of unit variants only")
}

/// The variant whose serde name is `s`, if any.
pub fn parse<T: DeserializeOwned>(s: &str) -> Option<T> {
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(s)).ok()
}

/// Declares `as_str`, `parse` and rusqlite's `ToSql`/`FromSql` of enums of unit variants from
/// their serde names.
#[macro_export]
macro_rules! wire_names {
    ($($t:ty),+ $(,)?) => {$(
        impl $t {
            /// Its name in JSON, SQL and the CLI's output (its serde name).
            pub fn as_str(self) -> &'static str {
                $crate::wire::name(&self)
            }
            pub fn parse(s: &str) -> Option<Self> {
                $crate::wire::parse(s)
            }
        }
        impl rusqlite::types::ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }
        impl rusqlite::types::FromSql for $t {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let s = value.as_str()?;
                <$t>::parse(s).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("{s:?} is not a known {}", stringify!($t)).into(),
                    )
                })
            }
        }
    )+};
}

/// A serializer that only takes a unit variant, and gives its name.
struct VariantName;

#[derive(Debug)]
struct NotAUnitVariant;

impl std::fmt::Display for NotAUnitVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a unit variant")
    }
}

impl std::error::Error for NotAUnitVariant {}

impl serde::ser::Error for NotAUnitVariant {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        NotAUnitVariant
    }
}

macro_rules! refuse {
    ($($f:ident($($a:ty),*)),* $(,)?) => {$(
        fn $f(self, $(_: $a),*) -> Result<&'static str, NotAUnitVariant> {
            Err(NotAUnitVariant)
        }
    )*};
}

impl Serializer for VariantName {
    type Ok = &'static str;
    type Error = NotAUnitVariant;
    type SerializeSeq = Impossible<&'static str, NotAUnitVariant>;
    type SerializeTuple = Impossible<&'static str, NotAUnitVariant>;
    type SerializeTupleStruct = Impossible<&'static str, NotAUnitVariant>;
    type SerializeTupleVariant = Impossible<&'static str, NotAUnitVariant>;
    type SerializeMap = Impossible<&'static str, NotAUnitVariant>;
    type SerializeStruct = Impossible<&'static str, NotAUnitVariant>;
    type SerializeStructVariant = Impossible<&'static str, NotAUnitVariant>;

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<&'static str, NotAUnitVariant> {
        Ok(variant)
    }

    refuse!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<&'static str, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<&'static str, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<&'static str, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        Err(NotAUnitVariant)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(NotAUnitVariant)
    }
}

/// Checks that each `(variant, name)` crosses every boundary as `name`: serde's JSON both ways,
/// `as_str`, `parse` and SQL.
#[cfg(test)]
pub(crate) fn assert_names<T>(pinned: &[(T, &str)], as_str: fn(T) -> &'static str)
where
    T: Serialize + DeserializeOwned + rusqlite::types::ToSql + rusqlite::types::FromSql,
    T: Copy + PartialEq + std::fmt::Debug,
{
    let conn = crate::vault::cipher::open_in_memory().unwrap();
    for &(variant, name) in pinned {
        assert_eq!(serde_json::to_value(variant).unwrap(), name, "{variant:?}");
        assert_eq!(serde_json::from_value::<T>(name.into()).unwrap(), variant);
        assert_eq!(as_str(variant), name);
        assert_eq!(parse::<T>(name), Some(variant));
        let sql: String = conn
            .query_row("SELECT ?1", [variant], |r| r.get(0))
            .unwrap();
        assert_eq!(sql, name);
        let back: T = conn.query_row("SELECT ?1", [name], |r| r.get(0)).unwrap();
        assert_eq!(back, variant);
    }
    assert_eq!(parse::<T>("no-such-name"), None);
}
