//! Thin `#[tauri::command]`s: take arguments, call the core off the UI thread, map the error.

pub mod api;
pub mod providers;
pub mod signin;
pub mod tokens;
pub mod vault;
