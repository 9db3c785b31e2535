//! `oauth-desk provider export | import`: provider definitions shared without secrets.

use std::collections::HashMap;
use std::io::{IsTerminal, Read};
use std::path::Path;

use oauth_desk_core::provider_sharing::{self, Change, Plan};
use oauth_desk_core::vault::Create;
use oauth_desk_core::{time, Error, Result, Secret};

use crate::args::Global;
use crate::output::printable;
use crate::{ask, unlock};

pub fn export(global: &Global, names: &[String]) -> Result<()> {
    let vault = unlock::open(global, Create::Never)?;
    print!("{}", provider_sharing::export(&vault, names)?);
    Ok(())
}

pub fn import(
    global: &Global,
    file: &Path,
    yes: bool,
    secrets_stdin: bool,
    json: bool,
) -> Result<()> {
    if file == Path::new("-") && secrets_stdin {
        return Err(Error::InvalidInput(
            "standard input cannot hold both the file and the secrets; give the file's path".into(),
        ));
    }
    let text = read_file(file)?;
    let vault = unlock::open(global, Create::IfMissing)?;
    let plan = provider_sharing::plan(&vault, &text)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan).expect("the plan serializes")
        );
    } else {
        print_plan(&plan);
    }
    if !plan.changes_anything() {
        if !json {
            println!("Nothing to change.");
        }
        return Ok(());
    }
    if !yes {
        let question = "Make these changes?";
        let hint = "importing changes the providers listed above; pass --yes to confirm in a \
                    script. Nothing was changed";
        if !ask::confirm(question, hint)? {
            return Err(Error::Cancelled("Nothing was changed.".into()));
        }
    }
    let secrets = secrets_for(&plan, secrets_stdin)?;
    let notices = provider_sharing::apply(&vault, &plan, &secrets, time::now())?;
    if !json {
        println!("Imported.");
    }
    // On stderr with --json, where stdout holds the plan alone.
    for (name, notice) in notices {
        let line = format!("Note: {}: {notice}.", printable(&name));
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    Ok(())
}

fn read_file(file: &Path) -> Result<String> {
    let mut bytes = Vec::new();
    let limit = provider_sharing::MAX_FILE as u64 + 1;
    let read = if file == Path::new("-") {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| {
        Error::io(
            format!("cannot read {}", printable(&file.display().to_string())),
            e,
        )
    })?;
    String::from_utf8(bytes)
        .map_err(|_| Error::InvalidInput("the provider file is not UTF-8 text".into()))
}

fn print_plan(plan: &Plan) {
    for p in &plan.providers {
        let name = printable(&p.name);
        let secret = if p.needs_secret {
            " (needs its client secret)"
        } else {
            ""
        };
        match &p.change {
            Change::Add => println!("  add     {name}{secret}"),
            Change::Unchanged => println!("  same    {name}{secret}"),
            Change::Update {
                fields,
                endpoints,
                warning,
                ..
            } => {
                println!("  update  {name}: {}{secret}", fields.join(", "));
                // Every endpoint old -> new: a file that points one at another host shows it.
                let shown = |v: &Option<String>| v.as_deref().map_or("(none)".into(), printable);
                for e in endpoints {
                    println!(
                        "          {}: {} -> {}",
                        e.field,
                        shown(&e.old),
                        shown(&e.new)
                    );
                }
                if let Some(w) = warning {
                    println!("          warning: {w}");
                }
            }
        }
    }
}

/// The secret of every new client that needs one: typed on a terminal, or read from stdin.
fn secrets_for(plan: &Plan, from_stdin: bool) -> Result<HashMap<String, Secret<String>>> {
    let mut secrets = HashMap::new();
    for p in plan.needing_secrets() {
        let secret = if from_stdin {
            ask::stdin_line("client secret")?
        } else if std::io::stdin().is_terminal() {
            rpassword::prompt_password(format!("Client secret for {}: ", printable(&p.name)))
                .map_err(|e| Error::InvalidInput(format!("cannot read from the terminal: {e}")))?
        } else {
            String::new()
        };
        if secret.is_empty() {
            return Err(Error::InvalidInput(format!(
                "{} needs its client secret: type it on a terminal, or pass --secrets-stdin with \
                 one secret a line. Nothing was imported",
                printable(&p.name)
            )));
        }
        secrets.insert(p.name.clone(), Secret::new(secret));
    }
    Ok(secrets)
}
