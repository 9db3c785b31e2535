//! `oauth-desk`: OAuth Desk on the command line. It links no GUI library, so that scripts
//! calling it pay for a process start and a vault read, nothing more. With no arguments it
//! starts the window (the `oauth-desk-app` binary installed beside it).

mod activity_cmd;
mod api_cmd;
mod args;
mod ask;
mod completion;
mod docker_cmd;
mod exec_cmd;
mod front;
mod git_cmd;
mod kube_cmd;
mod launch;
mod login_cmd;
mod output;
mod provider_cmd;
mod provider_flags;
mod provider_share_cmd;
mod settings_cmd;
mod token_cmd;
mod unlock;
mod vault_cmd;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// Exit codes of the CLI contract (shared/DESIGN.md §4).
pub mod exit {
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NEEDS_SIGNIN: u8 = 3;
}

fn main() -> ExitCode {
    ask::take_handed_secrets();
    completion::answer_shell();
    quiet_on_closed_stdout();
    oauth_desk_core::logging::init_from_env();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let json = cli.json_errors();
    let result = match cli.command {
        None => launch::start_gui(&cli.global),
        Some(Command::Vault(cmd)) => vault_cmd::run(&cli.global, cmd),
        Some(Command::Provider(cmd)) => provider_cmd::run(&cli.global, *cmd),
        Some(Command::Login(args)) => login_cmd::run(&cli.global, args),
        Some(Command::Token(cmd)) => token_cmd::run(&cli.global, cmd),
        Some(Command::GitCredential(args)) => git_cmd::credential(&cli.global, &args),
        Some(Command::Git(cmd)) => git_cmd::run(cmd),
        // The helper protocol has its own way of answering errors, and its own exit status.
        Some(Command::DockerCredential { action }) => {
            return docker_cmd::credential(&cli.global, &action)
        }
        Some(Command::Docker(cmd)) => docker_cmd::run(&cli.global, cmd),
        Some(Command::Exec(args)) => exec_cmd::run(&cli.global, args),
        Some(Command::KubeCredential { name, account }) => {
            kube_cmd::credential(&cli.global, &name, account.as_deref())
        }
        Some(Command::Kubeconfig {
            name,
            server,
            ca,
            account,
        }) => kube_cmd::kubeconfig(&name, &server, ca.as_deref(), account.as_deref()),
        Some(Command::Serve { port }) => api_cmd::serve(&cli.global, port),
        Some(Command::Activity { json, limit }) => activity_cmd::run(&cli.global, json, limit),
        Some(Command::Api(cmd)) => api_cmd::run(&cli.global, cmd),
        Some(Command::Settings(cmd)) => settings_cmd::run(&cli.global, cmd),
        Some(Command::Completions { shell }) => completion::script(&shell),
        Some(Command::Manual { dir }) => completion::man_pages(&dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::print_error(&e, json);
            ExitCode::from(output::exit_code(&e))
        }
    }
}

/// `oauth-desk token list | head -1`: when the reader goes away, Rust's `println!` panics
/// (Rust ignores SIGPIPE, so the write fails with EPIPE instead of ending the process). The
/// reader has what it wanted; leave without a panic message, as other Unix tools do. Not
/// SIGPIPE's default action: `serve` and the token agent must survive a client that leaves.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") {
            std::process::exit(exit::ERROR.into());
        }
        default(info);
    }));
}
