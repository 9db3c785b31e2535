//! The command line, as clap reads it. Secrets never come through argv: passphrases come from
//! the environment or standard input.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::provider_flags::ProviderFields;

#[derive(Debug, Parser)]
#[command(
    name = "oauth-desk",
    version,
    about = "Manage OAuth 2.0 clients and their tokens; with no command, open the OAuth Desk window",
    after_help = "Exit codes: 0 ok, 1 error, 2 usage, 3 needs sign-in."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Errors go out as JSON when the command was asked for JSON.
    pub fn json_errors(&self) -> bool {
        match &self.command {
            Some(Command::Vault(VaultCmd::Status { json } | VaultCmd::Check { json })) => *json,
            Some(Command::Provider(cmd)) => cmd.json(),
            Some(Command::Login(a)) => a.json,
            Some(Command::Token(t)) => t.json(),
            Some(Command::Settings(SettingsCmd::Get { json, .. })) => *json,
            Some(Command::Activity { json, .. }) => *json,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The vault file [default: $XDG_DATA_HOME/oauth-desk/vault.db]
    #[arg(long, global = true, env = "OAUTH_DESK_VAULT", value_name = "PATH")]
    pub vault: Option<PathBuf>,

    /// Read the vault's passphrase from the first line of standard input (or set
    /// OAUTH_DESK_PASSPHRASE); used where no OS keyring is available
    #[arg(long, global = true)]
    pub passphrase_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The encrypted vault: where it is, how it is unlocked, what it holds
    #[command(subcommand)]
    Vault(VaultCmd),

    /// OAuth providers: add (by hand, by discovery or from a preset), list, show, update, remove
    #[command(subcommand)]
    Provider(Box<ProviderCmd>),

    /// Sign in to a provider and store the account's token: in the browser (authorization code
    /// + PKCE, redirected to 127.0.0.1), with the device flow, or with client credentials
    Login(LoginArgs),

    /// Tokens: list them, print a fresh one, refresh, revoke, import, rename an account
    #[command(subcommand)]
    Token(TokenCmd),

    /// git's credential helper (gitcredentials(7)): answers `get` with a fresh access token as
    /// the password; `store` and `erase` do nothing (the token belongs to the vault). Set it up
    /// with `oauth-desk git setup`
    #[command(name = "git-credential")]
    GitCredential(GitCredentialArgs),

    /// Make git ask OAuth Desk for a host's credentials
    #[command(subcommand)]
    Git(GitCmd),

    /// docker's credential helper (what `docker-credential-oauth-desk` runs): answers `get`
    /// for a registry set up with `oauth-desk docker setup` with a fresh access token; `list`
    /// names those registries; `erase` (docker logout) forgets one; `store` keeps nothing
    #[command(name = "docker-credential")]
    DockerCredential {
        /// What docker asks: get, store, erase, list or version
        action: String,
    },

    /// Make docker (and skopeo, buildah, crane) ask OAuth Desk for a registry's credentials
    #[command(subcommand)]
    Docker(DockerCmd),

    /// Print the shell's completion script: `source <(oauth-desk completions bash)`, the same
    /// for zsh, `oauth-desk completions fish | source`. It completes commands, flags, and the
    /// vault's provider names and account labels
    Completions {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },

    /// Write a manual page for every command into DIR (the packages install them)
    #[command(hide = true)]
    Manual { dir: PathBuf },

    /// Run a program with a fresh token in its environment (and, with --file, in a file kept
    /// fresh while it runs); signals reach it and its exit status is this command's
    Exec(ExecArgs),

    /// kubectl's exec credential plugin: prints an ExecCredential with a fresh access token
    /// (client.authentication.k8s.io/v1, or v1beta1 when kubectl asks for it)
    #[command(name = "kube-credential")]
    KubeCredential {
        name: String,
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
    },

    /// Print a kubeconfig whose user gets its token from `kube-credential` (merge it with
    /// KUBECONFIG=~/.kube/config:FILE, or use it alone with --kubeconfig FILE)
    Kubeconfig {
        name: String,
        /// The API server, such as https://k8s.example.com:6443
        #[arg(long, value_name = "URL")]
        server: String,
        /// The API server's CA certificate (PEM), if not one the system trusts
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
    },

    /// The activity log, newest first: what was done to which provider and account, and how
    /// it went (never a secret)
    Activity {
        #[arg(long)]
        json: bool,
        /// How many entries, newest first
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        limit: u32,
    },

    /// Serve the local REST API on 127.0.0.1 (see `oauth-desk api key`)
    Serve {
        /// The port; 0 picks a free one
        #[arg(long, default_value_t = 8765)]
        port: u16,
    },

    /// The local REST API's key
    #[command(subcommand)]
    Api(ApiCmd),

    /// Settings shared with the window: background refresh, clipboard clearing, the REST API,
    /// the HTTP proxy
    #[command(subcommand)]
    Settings(SettingsCmd),
}

#[derive(Debug, Subcommand)]
pub enum SettingsCmd {
    /// Every setting (or one), never a secret
    Get {
        /// refresh-window, clipboard-clear, api, api-port, proxy, proxy-user, proxy-password
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Change one setting:
    ///   refresh-window SECONDS   refresh tokens this long before they expire (0: never)
    ///   clipboard-clear SECONDS  clear a copied token after this long (0: never)
    ///   api on|off               the window starts the REST API when it opens
    ///   api-port PORT            the port it listens on (127.0.0.1)
    ///   proxy environment|off|URL   HTTPS_PROXY/NO_PROXY, no proxy, or this proxy
    ///   proxy-user NAME          the proxy's user name ("" for none)
    ///   proxy-password           read from the terminal, OAUTH_DESK_PROXY_PASSWORD or stdin
    ///                            (empty: remove it); never given on the command line
    #[command(verbatim_doc_comment)]
    Set {
        name: String,
        /// The new value ("-5" is a value here, not a flag, so that it gets a range error)
        #[arg(allow_hyphen_values = true)]
        value: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiCmd {
    /// Print the key clients send as `Authorization: Bearer <key>` (made on first use)
    Key {
        /// Replace it: every client needs the new one
        #[arg(long)]
        regenerate: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Every account's token: status, expiry, scopes (never a token)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print the access token alone, refreshed first when it expires within --min-valid
    /// seconds. Exit code 3 when the account must sign in again
    Get {
        name: String,
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// Refresh first when the token expires within this many seconds
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        min_valid: i64,
        /// Print the HTTP header instead (`Authorization: Bearer ...`), for `curl -H`; for a
        /// DPoP-bound token, `Authorization: DPoP ...` and the `DPoP:` proof for --url
        #[arg(long, conflicts_with = "json")]
        header: bool,
        /// With --header: the request's method, for a DPoP proof
        #[arg(
            long,
            value_name = "METHOD",
            default_value = "GET",
            requires = "header"
        )]
        method: String,
        /// With --header: the request's URL, for a DPoP proof
        #[arg(long, value_name = "URL", requires = "header")]
        url: Option<String>,
        /// With --header: the nonce the server asked for (its DPoP-Nonce header)
        #[arg(long, value_name = "NONCE", requires = "url")]
        nonce: Option<String>,
        /// Print {token, token_type, expires_at, scopes, account} as JSON
        #[arg(long)]
        json: bool,
        /// A token for fewer scopes than the account's (RFC 6749 §6), from its refresh token,
        /// kept beside the account's own (repeatable)
        #[arg(long = "scope", value_name = "SCOPE", conflicts_with = "header")]
        scopes: Vec<String>,
        /// A token for this resource only (RFC 8707), from the account's refresh token
        #[arg(long, value_name = "URI", conflicts_with = "header")]
        resource: Option<String>,
    },
    /// Print a DPoP proof (RFC 9449) for one request with the account's DPoP-bound token: the
    /// value of the `DPoP` header, beside `Authorization: DPoP <token>`
    Proof {
        name: String,
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// The request's method
        #[arg(long, value_name = "METHOD", default_value = "GET")]
        method: String,
        /// The request's URL
        #[arg(long, value_name = "URL")]
        url: String,
        /// The nonce the server asked for (its DPoP-Nonce header, RFC 9449 §9)
        #[arg(long, value_name = "NONCE")]
        nonce: Option<String>,
        /// Refresh first when the token expires within this many seconds
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        min_valid: i64,
    },
    /// Refresh now (RFC 6749 §6)
    Refresh {
        /// The provider [required unless --all]
        #[arg(required_unless_present = "all")]
        name: Option<String>,
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// Every account that has a refresh token
        #[arg(long, conflicts_with_all = ["name", "account"])]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Revoke at the provider (RFC 7009) and forget the token here
    Revoke {
        name: String,
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Store a token obtained elsewhere: a token response as JSON on standard input
    /// (access_token, refresh_token, expires_in or expires_at, scope)
    Import {
        name: String,
        #[arg(long, value_name = "LABEL")]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Give an account another label
    Rename {
        name: String,
        #[arg(long, value_name = "LABEL")]
        account: String,
        #[arg(long, value_name = "LABEL")]
        to: String,
    },
    /// Sign an account out: revoke its tokens (RFC 7009) and, where the provider has an
    /// end-session endpoint, end its session there too (RP-Initiated Logout); the account is
    /// kept as signed out, or forgotten with --forget
    #[command(name = "sign-out")]
    SignOut {
        name: String,
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// Forget the account here too, instead of keeping it as signed out
        #[arg(long)]
        forget: bool,
        /// Do not open a browser: print the end-session URL alone on the first line of
        /// standard output, then wait for the provider to send the person back
        #[arg(long)]
        no_browser: bool,
        #[arg(long)]
        json: bool,
    },
    /// Trade an account's token for one of NAME's (RFC 8693 token exchange), stored as an
    /// account of NAME
    Exchange {
        name: String,
        /// The account whose fresh token is the subject token
        #[arg(long, value_name = "PROVIDER[:ACCOUNT]")]
        subject: String,
        /// The account acting for the subject (delegation)
        #[arg(long, value_name = "PROVIDER[:ACCOUNT]")]
        actor: Option<String>,
        /// The service the token is for (a logical name)
        #[arg(long)]
        audience: Option<String>,
        /// The resource the token is for (an absolute URI, RFC 8707)
        #[arg(long, value_name = "URI")]
        resource: Option<String>,
        /// A scope to ask for (repeatable)
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// The token type to ask for [default: urn:ietf:params:oauth:token-type:access_token]
        #[arg(long, value_name = "TYPE")]
        requested_type: Option<String>,
        /// The label to store it under [default: "exchanged from PROVIDER / ACCOUNT"]
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

impl TokenCmd {
    pub fn json(&self) -> bool {
        match self {
            TokenCmd::List { json }
            | TokenCmd::Refresh { json, .. }
            | TokenCmd::Revoke { json, .. }
            | TokenCmd::Import { json, .. }
            | TokenCmd::Get { json, .. }
            | TokenCmd::Exchange { json, .. }
            | TokenCmd::SignOut { json, .. } => *json,
            TokenCmd::Rename { .. } | TokenCmd::Proof { .. } => false,
        }
    }
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("how").multiple(false))]
pub struct LoginArgs {
    /// The provider's name
    pub name: String,
    /// Store the token under this account label [default: the email, user name or subject the
    /// provider reports; the client id for client credentials]
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,
    /// Ask for these scopes instead of the provider's defaults (repeatable)
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Ask for tokens for this resource (RFC 8707) instead of the provider's (repeatable)
    #[arg(long = "resource", value_name = "URI")]
    pub resources: Vec<String>,
    /// Ask for tokens for this audience instead of the provider's
    #[arg(long, value_name = "AUDIENCE")]
    pub audience: Option<String>,
    /// Do not open a browser: print the authorization URL alone on the first line of standard
    /// output, then wait for the redirect
    #[arg(long, group = "how")]
    pub no_browser: bool,
    /// Use the device flow (RFC 8628): print a code to enter on another device
    #[arg(long, group = "how")]
    pub device: bool,
    /// Use client credentials (RFC 6749 §4.4): a token for the client itself
    #[arg(long, group = "how")]
    pub client_credentials: bool,
    /// Use the JWT bearer grant (RFC 7523 §2.1): an assertion signed with the provider's client
    /// key, for a service account (the client itself) or --subject
    #[arg(long, group = "how")]
    pub jwt_bearer: bool,
    /// With --jwt-bearer: whom the assertion is about [default: the client id]
    #[arg(long, value_name = "SUB", requires = "jwt_bearer")]
    pub subject: Option<String>,
    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum VaultCmd {
    /// Show the vault's path, key mode, schema version and counts
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Create the vault (its key goes to the OS keyring, or comes from a passphrase)
    Init,
    /// Read every page and verify the vault's structure and encryption
    Check {
        /// Print JSON (errors too)
        #[arg(long)]
        json: bool,
    },
    /// Protect the vault with a new passphrase: from keyring mode, or to change the passphrase.
    /// The new one is typed twice on a terminal, or comes from OAUTH_DESK_NEW_PASSPHRASE or the
    /// next line of standard input
    Passphrase,
    /// Keep the vault's key in the OS keyring instead of deriving it from a passphrase
    UseKeyring,
    /// Re-encrypt the vault under a fresh random key (same mode; a passphrase vault gets a new
    /// salt). Every key change is atomic: a crash leaves the old key or the new one working
    RotateKey,
    /// Write an encrypted copy of the vault to FILE, under a passphrase you choose (typed twice,
    /// or OAUTH_DESK_BACKUP_PASSPHRASE, or the next line of standard input), never the keyring key
    Backup { file: PathBuf },
    /// Replace the vault's contents with a backup, after showing what it holds and asking.
    /// The vault it replaces is kept beside it as <vault>.before-restore
    Restore {
        file: PathBuf,
        /// Do not ask (for scripts)
        #[arg(long)]
        yes: bool,
    },
    /// Remove <vault>.before-restore, the copy of the vault a restore replaced (it still holds
    /// the old providers and tokens)
    RemoveBeforeRestore,
}

#[derive(Debug, Subcommand)]
pub enum ProviderCmd {
    /// Register a provider. With --issuer, its endpoints come from the issuer's discovery
    /// document; with --preset, from a built-in preset. Flags win over both.
    Add {
        /// A name of your choice, used by `login`, `token get` and the window
        name: String,
        #[command(flatten)]
        fields: ProviderFields,
        /// Print the new provider as JSON
        #[arg(long)]
        json: bool,
    },
    /// Register a new client at the provider (RFC 7591) and add the provider with it. The
    /// registration endpoint (from --issuer's discovery, or --registration-url) gets the
    /// redirect URIs, grants, authentication method and client key OAuth Desk will use; the
    /// client id and secret it gives are kept, with the token that manages the registration
    Register {
        /// A name of your choice, used by `login`, `token get` and the window
        name: String,
        #[command(flatten)]
        fields: ProviderFields,
        /// Read the initial access token the provider requires for registering (RFC 7591 §3)
        /// from standard input
        #[arg(long)]
        initial_token_stdin: bool,
        /// Print the new provider as JSON
        #[arg(long)]
        json: bool,
    },
    /// List the providers
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one provider (its client secret only as set or not)
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// The public JWKS of the provider's client key, to register with the provider (the
    /// private key never leaves the vault)
    Jwks { name: String },
    /// Discover a provider again from its issuer: the endpoints its metadata gives replace
    /// those it gave before; an endpoint set by hand stays. An endpoint that moves to another
    /// host takes no secret or token with it
    Discover {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a provider: only the flags given change. --issuer runs discovery again.
    Update {
        name: String,
        /// A new name
        #[arg(long, value_name = "NAME")]
        rename: Option<String>,
        #[command(flatten)]
        fields: ProviderFields,
        /// Then send the provider's settings to the client's registration at the provider
        /// (RFC 7592), for a client `provider register` created
        #[arg(long)]
        update_registration: bool,
        #[arg(long)]
        json: bool,
    },
    /// Remove a provider and every token of it. Asks first on a terminal.
    Remove {
        name: String,
        /// Remove without asking (for scripts)
        #[arg(long, short = 'y')]
        yes: bool,
        /// Delete the client at the provider first (RFC 7592), for a client `provider
        /// register` created; when the provider refuses, nothing is removed
        #[arg(long)]
        deregister: bool,
        #[arg(long)]
        json: bool,
    },
    /// The built-in presets and the values each needs
    Presets {
        #[arg(long)]
        json: bool,
    },
    /// Write providers as JSON to standard output (all, or those named), without client
    /// secrets or tokens: the file a team shares
    Export { names: Vec<String> },
    /// Add or update the providers of a file written by `export`, after listing what changes
    /// and asking. New clients that need a secret ask for it (typed on a terminal, or one line
    /// each on standard input with --secrets-stdin, in the file's order)
    Import {
        /// The JSON file; - reads standard input
        file: std::path::PathBuf,
        /// Do not ask (for scripts)
        #[arg(long)]
        yes: bool,
        /// Read the secrets the new clients need from standard input, one per line
        #[arg(long)]
        secrets_stdin: bool,
        #[arg(long)]
        json: bool,
    },
}

impl ProviderCmd {
    pub fn json(&self) -> bool {
        match self {
            ProviderCmd::Add { json, .. }
            | ProviderCmd::List { json }
            | ProviderCmd::Show { json, .. }
            | ProviderCmd::Update { json, .. }
            | ProviderCmd::Discover { json, .. }
            | ProviderCmd::Remove { json, .. }
            | ProviderCmd::Register { json, .. }
            | ProviderCmd::Presets { json }
            | ProviderCmd::Import { json, .. } => *json,
            ProviderCmd::Export { .. } | ProviderCmd::Jwks { .. } => false,
        }
    }
}

#[derive(Debug, Args)]
pub struct GitCredentialArgs {
    /// The provider whose token is the password; without it, no answer (the next helper's turn)
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,
    /// The user name to answer with (GitLab wants oauth2; most hosts take any)
    #[arg(long, value_name = "NAME", default_value = "oauth2")]
    pub username: String,
    /// What git asks: get, store or erase
    pub operation: String,
}

#[derive(Debug, Subcommand)]
pub enum GitCmd {
    /// Add OAuth Desk as the credential helper for https://HOST to your git configuration
    /// (~/.gitconfig), and show the line
    Setup {
        /// The provider whose tokens HOST takes
        name: String,
        /// The git host, such as git.example.com (a port may follow: host:8443)
        #[arg(long)]
        host: String,
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DockerCmd {
    /// Answer REGISTRY with NAME's tokens: names oauth-desk in `credHelpers` of docker's
    /// config.json ($DOCKER_CONFIG or ~/.docker) and keeps the mapping beside the vault
    Setup {
        /// The provider whose tokens the registry takes
        name: String,
        /// The registry, such as registry.example.com or localhost:5000
        #[arg(long)]
        registry: String,
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// The user name docker sends with the token (most registries take any)
        #[arg(long, value_name = "NAME", default_value = "oauth2")]
        username: String,
    },
    /// Stop answering REGISTRY (the provider keeps its tokens)
    Remove {
        #[arg(long)]
        registry: String,
    },
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    pub name: String,
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,
    /// The variable the token is in
    #[arg(long = "env", value_name = "VAR", default_value = "OAUTH_TOKEN")]
    pub var: String,
    /// Also keep the token in this file, mode 0600, replaced before it expires and removed when
    /// the program ends; a relative path is in $XDG_RUNTIME_DIR
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// The program and its arguments, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}
