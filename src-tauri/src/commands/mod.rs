//! Thin `#[tauri::command]`s: take arguments, call the core off the UI thread, map the error.

pub mod api;
pub mod keys;
pub mod providers;
pub mod settings;
pub mod sharing;
pub mod signin;
pub mod tokens;
pub mod vault;
