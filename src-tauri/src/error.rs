//! What a failed command sends to the window: `{code, message}`. The UI branches on `code`.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
}

impl From<oauth_desk_core::Error> for CommandError {
    fn from(e: oauth_desk_core::Error) -> Self {
        CommandError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
