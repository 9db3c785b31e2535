//! What a failed command sends to the window: `{code, message}`. The UI branches on `code`.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
    /// For `invalid_input`: each field's problem, so the form shows it beside the field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<oauth_desk_core::FieldError>,
}

impl From<oauth_desk_core::Error> for CommandError {
    fn from(e: oauth_desk_core::Error) -> Self {
        let (code, message) = (e.code(), e.to_string());
        let fields = match e {
            oauth_desk_core::Error::InvalidFields(f) => f,
            _ => Vec::new(),
        };
        CommandError {
            code,
            message,
            fields,
        }
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
