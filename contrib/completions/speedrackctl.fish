# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_speedrackctl_global_optspecs
    string join \n socket= json h/help V/version
end

function __fish_speedrackctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_speedrackctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_speedrackctl_using_subcommand
    set -l cmd (__fish_speedrackctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -s V -l version -d 'Print version'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "status" -d 'Show the daemon\'s version, paths and task counts'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "tasks" -d 'List every task with its status, schedule, next and last run'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "runs" -d 'List the runs of a task, newest first'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "output" -d 'Write a run\'s stdout (or stderr, or speedrack\'s error text) to stdout, raw'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "run-now" -d 'Start a run of a task now; its schedule does not move'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "suspend" -d 'Stop the scheduled runs of a task until `resume`'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "resume" -d 'Restart the scheduled runs of a suspended task'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "reload" -d 'Re-read the settings and tasks files and show what changed'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "test-notify" -d 'Send a test notification for a task through every configured channel'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "kill" -d 'End a task\'s running runs (SIGTERM to their process groups, SIGKILL after the kill grace)'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "next" -d 'Show the next fire times of a task, one RFC 3339 timestamp per line'
complete -c speedrackctl -n "__fish_speedrackctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand status" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand status" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand tasks" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand tasks" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand tasks" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand runs" -l limit -d 'Show at most this many runs' -r
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand runs" -l before-token -d 'Show the runs older than a previous page (the token printed below it)' -r
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand runs" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand runs" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand runs" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand output" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand output" -l stderr -d 'Write the run\'s stderr instead of its stdout'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand output" -l op-error -d 'Write speedrack\'s own text about the run (why it could not start, what it killed)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand output" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand output" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand run-now" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand run-now" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand run-now" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand suspend" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand suspend" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand suspend" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand resume" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand resume" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand resume" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand reload" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand reload" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand reload" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand completions" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand completions" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand man" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand man" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand man" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand test-notify" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand test-notify" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand test-notify" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand kill" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand kill" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand kill" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand next" -l count -d 'How many fire times to show' -r
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand next" -l socket -d 'The daemon\'s Unix socket [default: the system daemon\'s /run/speedrack/speedrackd.sock when it is there (unless you may not use it and have a daemon of your own), else $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a default socket owned by neither root nor you is refused]' -r -F
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand next" -l json -d 'Print one JSON document instead of text (not with `output`, which writes raw bytes)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand next" -s h -l help -d 'Print help'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "status" -d 'Show the daemon\'s version, paths and task counts'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "tasks" -d 'List every task with its status, schedule, next and last run'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "runs" -d 'List the runs of a task, newest first'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "output" -d 'Write a run\'s stdout (or stderr, or speedrack\'s error text) to stdout, raw'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "run-now" -d 'Start a run of a task now; its schedule does not move'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "suspend" -d 'Stop the scheduled runs of a task until `resume`'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "resume" -d 'Restart the scheduled runs of a suspended task'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "reload" -d 'Re-read the settings and tasks files and show what changed'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "man" -d 'Print the man page (roff)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "test-notify" -d 'Send a test notification for a task through every configured channel'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "kill" -d 'End a task\'s running runs (SIGTERM to their process groups, SIGKILL after the kill grace)'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "next" -d 'Show the next fire times of a task, one RFC 3339 timestamp per line'
complete -c speedrackctl -n "__fish_speedrackctl_using_subcommand help; and not __fish_seen_subcommand_from status tasks runs output run-now suspend resume reload completions man test-notify kill next help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
