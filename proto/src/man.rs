//! One man page per binary, composed the same way for speedrackd and speedrackctl (feature
//! `man`): clap's NAME, SYNOPSIS, DESCRIPTION and OPTIONS, then a COMMANDS section that gives
//! each subcommand its synopsis and options in place, then the binary's own sections (FILES,
//! ENVIRONMENT, SIGNALS, EXIT STATUS, SEE ALSO) and the version.
//!
//! clap_mangen alone would list the subcommands as `speedrackd-run(1)` pages that nobody ships;
//! here every subcommand is documented on the one page that is installed.

use clap_mangen::Man;

/// The roff text of `command`'s page, with `sections` (roff, each starting `.SH`) after the
/// commands. clap's `after_help` text is left out: `sections` says it properly.
pub fn page(command: clap::Command, sections: &str) -> std::io::Result<String> {
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let man = Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if command.get_arguments().any(|arg| !arg.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    let subcommands: Vec<&clap::Command> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .collect();
    if !subcommands.is_empty() {
        page.extend_from_slice(b".SH COMMANDS\n");
        for sub in subcommands {
            page.extend_from_slice(&subcommand(sub)?);
        }
    }
    page.extend_from_slice(sections.as_bytes());
    man.render_version_section(&mut page)?;
    String::from_utf8(page).map_err(std::io::Error::other)
}

/// A subcommand as a subsection: its name, what it does, its synopsis and its options.
fn subcommand(sub: &clap::Command) -> std::io::Result<Vec<u8>> {
    let name = sub.get_bin_name().unwrap_or_else(|| sub.get_name());
    // Global options and --help are documented once, on the page's own OPTIONS.
    let own = sub.clone().mut_args(|arg| {
        let shared = arg.is_global_set() || arg.get_id() == "help";
        arg.hide(shared)
    });
    let man = Man::new(own);
    let mut text = format!(".SS \"{}\"\n", name.replace('-', "\\-")).into_bytes();
    let mut body = Vec::new();
    man.render_synopsis_section(&mut body)?;
    man.render_description_section(&mut body)?;
    man.render_options_section(&mut body)?;
    // Each part is a section of its own page; here they are paragraphs of one subsection.
    let body = String::from_utf8(body).map_err(std::io::Error::other)?;
    for line in body.lines() {
        match line.strip_prefix(".SH ") {
            Some("SYNOPSIS") => {}
            Some("DESCRIPTION") => text.extend_from_slice(b".PP\n"),
            Some(heading) => text.extend_from_slice(format!(".PP\n\\fI{heading}\\fR\n").as_bytes()),
            None => text.extend_from_slice(format!("{line}\n").as_bytes()),
        }
    }
    text.extend_from_slice(b".PP\n");
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> clap::Command {
        clap::Command::new("tool")
            .version("1.2")
            .about("Does things")
            .after_help("Exit status: 0 ok")
            .arg(
                clap::Arg::new("verbose")
                    .long("verbose")
                    .action(clap::ArgAction::SetTrue),
            )
            .subcommand(
                clap::Command::new("run-now")
                    .about("Runs a task now")
                    .arg(clap::Arg::new("task").required(true).help("The task")),
            )
    }

    #[test]
    fn subcommands_are_documented_in_place_not_as_other_pages() {
        let page = page(demo(), ".SH \"EXIT STATUS\"\n0 ok\n").expect("renders");
        assert!(page.contains(".SS \"tool run\\-now\"\n"), "{page}");
        assert!(page.contains("Runs a task now"), "{page}");
        assert!(page.contains("The task"), "{page}");
        assert!(!page.contains("tool\\-run\\-now(1)"), "{page}");
        assert!(!page.contains("tool\\-help"), "{page}");
        assert!(!page.contains("EXTRA"), "{page}");
        let commands = page.find(".SH COMMANDS").expect("commands");
        let status = page.find(".SH \"EXIT STATUS\"").expect("sections");
        let version = page.find(".SH VERSION").expect("version");
        assert!(commands < status && status < version, "{page}");
    }
}
