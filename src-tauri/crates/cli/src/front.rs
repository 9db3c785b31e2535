//! The `oauth-desk` command beside this one: what git and kubectl are set up to run (the small
//! front, which hands over to this full command).

/// Its absolute path when it is there, else the bare name for the PATH to find.
pub fn path() -> String {
    std::env::current_exe()
        .ok()
        .map(|me| me.with_file_name("oauth-desk"))
        .filter(|front| front.exists())
        .map(|front| front.display().to_string())
        .unwrap_or_else(|| "oauth-desk".into())
}
