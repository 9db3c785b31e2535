//! `docker-credential-oauth-desk`: docker's name for `oauth-desk docker-credential`. docker runs
//! `docker-credential-` + the `credHelpers` entry of a registry, with the action as its one
//! argument.

fn main() -> std::process::ExitCode {
    oauth_desk::run(&["docker-credential"])
}
