complete --keep-order --exclusive --command speedrackctl --arguments "(COMPLETE=fish speedrackctl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
