//! `provider add` and `provider update`'s flags: one for each provider field the core declares
//! with a flag (`oauth::provider::FIELDS`), so a new field gets its flag without an edit here,
//! and the few flags that are not fields (discovery, a preset's values, the secret on stdin).

use std::collections::BTreeMap;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use oauth_desk_core::oauth::provider::{ProviderInput, FIELDS};
use oauth_desk_core::{Error, FieldError, Result};

/// The flags that are not provider fields.
#[derive(Debug, Args, Default)]
pub struct NotFields {
    /// With --issuer: keep the issuer but fetch nothing
    #[arg(long)]
    pub no_discovery: bool,
    /// A value the preset needs, such as tenant=contoso.onmicrosoft.com
    #[arg(long = "preset-param", value_name = "KEY=VALUE")]
    pub preset_params: Vec<String>,
    /// Read the client secret from standard input (its first line, or the line after the
    /// passphrase with --passphrase-stdin); secrets never come through arguments
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// Generate the client's signing key for private_key_jwt: ES256, RS256, PS256 or EdDSA.
    /// It stays in the vault; `provider jwks` prints its public half for the provider
    #[arg(long, value_name = "ALG", conflicts_with = "client_key_stdin")]
    pub generate_key: Option<String>,
    /// Read the client's private key from standard input, after the secret's line if
    /// --client-secret-stdin is given too: PEM (PKCS#8, RSA or EC) or a JWK
    #[arg(long)]
    pub client_key_stdin: bool,
    /// The algorithm an imported key signs with [default: from the key, and the algorithms
    /// the provider accepts]
    #[arg(long, value_name = "ALG", requires = "client_key_stdin")]
    pub key_alg: Option<String>,
    /// The client's certificate for tls_client_auth (RFC 8705): a PEM file with its chain (and
    /// its key, or give the key with --client-key-stdin), or a PKCS#12 file (its password in
    /// OAUTH_DESK_PKCS12_PASSWORD)
    #[arg(long, value_name = "FILE")]
    pub client_cert: Option<std::path::PathBuf>,
    /// A Google service-account key file (JSON): its token endpoint, its email as the client
    /// id and its private key (kept in the vault, not the file's path), for `login
    /// --jwt-bearer`. Other flags win over what it gives
    #[arg(long, value_name = "FILE", conflicts_with_all = ["client_key_stdin", "generate_key"])]
    pub service_account_key: Option<std::path::PathBuf>,
}

/// A provider's fields as flags. Values are checked by the core, as the window's form is.
#[derive(Debug, Default)]
pub struct ProviderFields {
    /// The values given, by field name; a repeated flag keeps each.
    given: BTreeMap<&'static str, Vec<String>>,
    pub more: NotFields,
}

impl ProviderFields {
    /// The last value given for `field`'s flag.
    pub fn value(&self, field: &str) -> Option<&String> {
        self.given.get(field).and_then(|v| v.last())
    }

    /// Sets every field whose flag was given, in the declared order, except `skip` (fields
    /// whose flag does more than set a value, such as --issuer's discovery).
    pub fn apply_to(&self, input: &mut ProviderInput, skip: &[&str]) -> Result<()> {
        for f in FIELDS.iter().filter(|f| !skip.contains(&f.name)) {
            let (Some(values), Some((flag, _))) = (self.given.get(f.name), f.flag) else {
                continue;
            };
            input
                .set_from_flag(f.name, values)
                .map_err(|message| Error::InvalidFields(vec![FieldError::new(flag, message)]))?;
        }
        Ok(())
    }
}

impl Args for ProviderFields {
    fn augment_args(cmd: Command) -> Command {
        let cmd = FIELDS.iter().fold(cmd, |cmd, f| {
            let Some((long, value_name)) = f.flag else {
                return cmd;
            };
            let arg = Arg::new(f.name)
                .long(long)
                .value_name(value_name)
                .help(f.description.trim())
                .action(if f.many {
                    ArgAction::Append
                } else {
                    ArgAction::Set
                });
            // `--par` alone is true; the value only with `=`, so that `--par NAME` does not
            // take the provider's name for it.
            let arg = if f.switch {
                arg.num_args(0..=1)
                    .require_equals(true)
                    .default_missing_value("true")
            } else {
                arg
            };
            cmd.arg(arg)
        });
        NotFields::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for ProviderFields {
    fn from_arg_matches(m: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        let given = FIELDS
            .iter()
            .filter(|f| f.flag.is_some())
            .filter_map(|f| {
                let values = m.get_many::<String>(f.name)?;
                Some((f.name, values.cloned().collect()))
            })
            .collect();
        Ok(ProviderFields {
            given,
            more: NotFields::from_arg_matches(m)?,
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::args::{Cli, Command, ProviderCmd};

    fn fields(args: &[&str]) -> super::ProviderFields {
        let argv = [&["oauth-desk", "provider", "add", "idp"], args].concat();
        let Some(Command::Provider(cmd)) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not a provider command");
        };
        match *cmd {
            ProviderCmd::Add { fields, .. } => fields,
            other => panic!("not provider add: {other:?}"),
        }
    }

    /// The flags of shared/DESIGN.md §4, which scripts use, come from the field list.
    #[test]
    fn every_field_flag_is_read_into_its_field() {
        let f = fields(&[
            "--auth-url=https://a.example/auth",
            "--scope=openid email",
            "--scope=offline_access",
            "--param=audience=api",
            "--param=prompt=consent",
            "--redirect-port=8400",
            "--client-secret-stdin",
        ]);
        assert_eq!(
            f.value("authorization_url").unwrap(),
            "https://a.example/auth"
        );
        assert!(f.more.client_secret_stdin);
        let mut input = oauth_desk_core::oauth::provider::ProviderInput::default();
        f.apply_to(&mut input, &[]).unwrap();
        let form = input.to_form();
        assert_eq!(form["scopes"], "openid email offline_access");
        assert_eq!(form["extra_params"], "audience=api\nprompt=consent");
        assert_eq!(form["redirect_port"], "8400");
        assert_eq!(form["authorization_url"], "https://a.example/auth");
    }

    #[test]
    fn a_switch_stands_alone_or_takes_its_value_after_an_equals_sign() {
        assert_eq!(fields(&["--par"]).value("par").unwrap(), "true");
        assert_eq!(fields(&["--par=false"]).value("par").unwrap(), "false");
        assert!(fields(&[]).value("par").is_none());
        // The provider's name after a switch stays the name.
        let argv = ["oauth-desk", "provider", "add", "--par", "idp"];
        let Some(Command::Provider(cmd)) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not a provider command");
        };
        assert!(matches!(*cmd, ProviderCmd::Add { ref name, .. } if name == "idp"));
    }

    #[test]
    fn a_malformed_pair_names_its_flag() {
        let mut input = oauth_desk_core::oauth::provider::ProviderInput::default();
        let err = fields(&["--param", "no-equals"])
            .apply_to(&mut input, &[])
            .unwrap_err();
        match err {
            oauth_desk_core::Error::InvalidFields(f) => {
                assert_eq!(f[0].field, "param");
                assert!(f[0].message.contains("KEY=VALUE"), "{f:?}");
            }
            e => panic!("expected a field error, got {e:?}"),
        }
    }

    #[test]
    fn a_field_without_a_flag_is_not_a_flag() {
        assert!(
            Cli::try_parse_from(["oauth-desk", "provider", "add", "idp", "--jwks-uri=x"]).is_err()
        );
        assert!(
            Cli::try_parse_from(["oauth-desk", "provider", "add", "idp", "--iss-required"])
                .is_err()
        );
    }
}
