# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_speedrackd_global_optspecs
    string join \n s/settings= y/tasks= socket= data-dir= listen= p/port= no-web log-format= h/help V/version
end

function __fish_speedrackd_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_speedrackd_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_speedrackd_using_subcommand
    set -l cmd (__fish_speedrackd_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c speedrackd -n "__fish_speedrackd_needs_command" -s s -l settings -d 'Settings file: YAML, or Speedrack 0.6.1\'s Python settings when it ends in .py; all defaults when absent' -r -F
complete -c speedrackd -n "__fish_speedrackd_needs_command" -s y -l tasks -d 'Tasks file (YAML) [default: the settings\' tasks_file (0.6.1\'s CONFIG_YAML), else demo mode]' -r -F
complete -c speedrackd -n "__fish_speedrackd_needs_command" -l socket -d 'API socket path [default: /run/speedrack/speedrackd.sock for root, $XDG_RUNTIME_DIR/speedrack/speedrackd.sock otherwise]' -r -F
complete -c speedrackd -n "__fish_speedrackd_needs_command" -l data-dir -d 'Where history and run output are kept [default: /var/lib/speedrack for root, $XDG_STATE_HOME/speedrack otherwise]' -r -F
complete -c speedrackd -n "__fish_speedrackd_needs_command" -l listen -d 'Where the web UI listens [default: the settings\' `listen`, 127.0.0.1:8118]' -r
complete -c speedrackd -n "__fish_speedrackd_needs_command" -s p -l port -d 'The web UI\'s port, on the address of the settings\' `listen` (0.6.1\'s `run --port`)' -r
complete -c speedrackd -n "__fish_speedrackd_needs_command" -l log-format -d 'Log line format: text (journald\'s form when stderr is the journal), or json lines' -r -f -a "text\t''
json\t''"
complete -c speedrackd -n "__fish_speedrackd_needs_command" -l no-web -d 'Do not serve the web UI (run `speedrack-web` separately, or not at all)'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -s h -l help -d 'Print help'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -s V -l version -d 'Print version'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -f -a "run" -d 'Run the daemon (the default)'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -f -a "check" -d 'Validate the settings and tasks files, show each task\'s next fire, list conf errors'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -f -a "schedule" -d 'Print the next fire times of a schedule, one RFC 3339 timestamp per line'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -f -a "init" -d 'Write commented settings and a tasks file that runs nothing yet into DIR (the current directory by default); --demo writes the demo tasks instead'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -f -a "hash-password" -d 'Read a password on stdin and print its argon2 hash, for web.users in the settings'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -f -a "import-history" -d 'Import Speedrack 0.6.1\'s run history and suspended tasks (daemon stopped; see MIGRATING.md)'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c speedrackd -n "__fish_speedrackd_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand run" -s s -l settings -d 'Settings file: YAML, or Speedrack 0.6.1\'s Python settings when it ends in .py; all defaults when absent' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand run" -s y -l tasks -d 'Tasks file (YAML) [default: the settings\' tasks_file (0.6.1\'s CONFIG_YAML), else demo mode]' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand run" -l socket -d 'API socket path [default: /run/speedrack/speedrackd.sock for root, $XDG_RUNTIME_DIR/speedrack/speedrackd.sock otherwise]' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand run" -l data-dir -d 'Where history and run output are kept [default: /var/lib/speedrack for root, $XDG_STATE_HOME/speedrack otherwise]' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand run" -l listen -d 'Where the web UI listens [default: the settings\' `listen`, 127.0.0.1:8118]' -r
complete -c speedrackd -n "__fish_speedrackd_using_subcommand run" -s p -l port -d 'The web UI\'s port, on the address of the settings\' `listen` (0.6.1\'s `run --port`)' -r
complete -c speedrackd -n "__fish_speedrackd_using_subcommand run" -l log-format -d 'Log line format: text (journald\'s form when stderr is the journal), or json lines' -r -f -a "text\t''
json\t''"
complete -c speedrackd -n "__fish_speedrackd_using_subcommand run" -l no-web -d 'Do not serve the web UI (run `speedrack-web` separately, or not at all)'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand run" -s h -l help -d 'Print help'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand check" -s s -l settings -d 'Settings file: YAML, or Speedrack 0.6.1\'s Python settings when it ends in .py; all defaults when absent' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand check" -s y -l tasks -d 'Tasks file (YAML) [default: the settings\' tasks_file (0.6.1\'s CONFIG_YAML)]' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand check" -l log-format -d 'Log line format: text (journald\'s form when stderr is the journal), or json lines' -r -f -a "text\t''
json\t''"
complete -c speedrackd -n "__fish_speedrackd_using_subcommand check" -s h -l help -d 'Print help'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand schedule" -l cron -d 'A cron schedule: a crontab text (\'*/5 * * * *\', \'@daily\') or a YAML mapping (\'{day_of_week: 2, hour: 23}\')' -r
complete -c speedrackd -n "__fish_speedrackd_using_subcommand schedule" -l interval -d 'An interval like 21s or 1h10m (units M w d h m s)' -r
complete -c speedrackd -n "__fish_speedrackd_using_subcommand schedule" -l tz -d 'IANA time zone for cron schedules [default: the settings\' `timezone`, else the system\'s]' -r
complete -c speedrackd -n "__fish_speedrackd_using_subcommand schedule" -l from -d 'Fires strictly after this instant (RFC 3339) [default: now]' -r
complete -c speedrackd -n "__fish_speedrackd_using_subcommand schedule" -l count -d 'How many fires to print' -r
complete -c speedrackd -n "__fish_speedrackd_using_subcommand schedule" -l settings -d 'Settings file, for its `timezone`' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand schedule" -l log-format -d 'Log line format: text (journald\'s form when stderr is the journal), or json lines' -r -f -a "text\t''
json\t''"
complete -c speedrackd -n "__fish_speedrackd_using_subcommand schedule" -s h -l help -d 'Print help'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand init" -l group -d 'Make the files readable by this group (tasks file 0640 instead of 0600)' -r
complete -c speedrackd -n "__fish_speedrackd_using_subcommand init" -l log-format -d 'Log line format: text (journald\'s form when stderr is the journal), or json lines' -r -f -a "text\t''
json\t''"
complete -c speedrackd -n "__fish_speedrackd_using_subcommand init" -l force -d 'Overwrite files that exist'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand init" -l demo -d 'Write the demo tasks (some fail on purpose, three are conf errors) instead of the skeleton whose examples are commented out'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand init" -s h -l help -d 'Print help'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand hash-password" -l log-format -d 'Log line format: text (journald\'s form when stderr is the journal), or json lines' -r -f -a "text\t''
json\t''"
complete -c speedrackd -n "__fish_speedrackd_using_subcommand hash-password" -s h -l help -d 'Print help'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand import-history" -l settings -d 'Settings file (0.6.1\'s .py works), for `timezone`, `output_max_bytes`, `fail_by_*`, `data_dir` and where 0.6.1\'s state is (JOB_ROOT_DIR, SUSPENDED_FILE, SPEEDRACK_DIR)' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand import-history" -l jobs -d 'Speedrack 0.6.1\'s job directory [default: the settings\' JOB_ROOT_DIR, by default SPEEDRACK_DIR/jobs]' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand import-history" -l suspended -d 'Its suspended-tasks file [default: the settings\' SUSPENDED_FILE, else speedrack.suspended beside DIR/jobs]' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand import-history" -l data-dir -d 'The stopped daemon\'s data dir [default: as for `run`]' -r -F
complete -c speedrackd -n "__fish_speedrackd_using_subcommand import-history" -l log-format -d 'Log line format: text (journald\'s form when stderr is the journal), or json lines' -r -f -a "text\t''
json\t''"
complete -c speedrackd -n "__fish_speedrackd_using_subcommand import-history" -s h -l help -d 'Print help'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand completions" -l log-format -d 'Log line format: text (journald\'s form when stderr is the journal), or json lines' -r -f -a "text\t''
json\t''"
complete -c speedrackd -n "__fish_speedrackd_using_subcommand completions" -s h -l help -d 'Print help'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand man" -l log-format -d 'Log line format: text (journald\'s form when stderr is the journal), or json lines' -r -f -a "text\t''
json\t''"
complete -c speedrackd -n "__fish_speedrackd_using_subcommand man" -s h -l help -d 'Print help'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand help; and not __fish_seen_subcommand_from run check schedule init hash-password import-history completions man help" -f -a "run" -d 'Run the daemon (the default)'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand help; and not __fish_seen_subcommand_from run check schedule init hash-password import-history completions man help" -f -a "check" -d 'Validate the settings and tasks files, show each task\'s next fire, list conf errors'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand help; and not __fish_seen_subcommand_from run check schedule init hash-password import-history completions man help" -f -a "schedule" -d 'Print the next fire times of a schedule, one RFC 3339 timestamp per line'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand help; and not __fish_seen_subcommand_from run check schedule init hash-password import-history completions man help" -f -a "init" -d 'Write commented settings and a tasks file that runs nothing yet into DIR (the current directory by default); --demo writes the demo tasks instead'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand help; and not __fish_seen_subcommand_from run check schedule init hash-password import-history completions man help" -f -a "hash-password" -d 'Read a password on stdin and print its argon2 hash, for web.users in the settings'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand help; and not __fish_seen_subcommand_from run check schedule init hash-password import-history completions man help" -f -a "import-history" -d 'Import Speedrack 0.6.1\'s run history and suspended tasks (daemon stopped; see MIGRATING.md)'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand help; and not __fish_seen_subcommand_from run check schedule init hash-password import-history completions man help" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand help; and not __fish_seen_subcommand_from run check schedule init hash-password import-history completions man help" -f -a "man" -d 'Print the man page (roff)'
complete -c speedrackd -n "__fish_speedrackd_using_subcommand help; and not __fish_seen_subcommand_from run check schedule init hash-password import-history completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
