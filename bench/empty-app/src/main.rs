//! The smallest Tauri 2 app: one window, one static page, no commands, no plugins.
fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the empty app runs");
}
