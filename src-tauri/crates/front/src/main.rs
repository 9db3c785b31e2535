//! `oauth-desk`: see the library for what it answers itself and what it hands over.

fn main() -> std::process::ExitCode {
    oauth_desk::run(&[])
}
