# SPDX-License-Identifier: Apache-2.0
# Completes lines in an interactive zsh on a pseudo-terminal (zsh/zpty), as a user at a prompt:
# `zsh -f zsh-complete.zsh SCRIPT LINE…` loads the completion SCRIPT under compinit, types each
# LINE with a Tab and then a key whose widget prints the edited line as <<LINE>>, and prints
# each line after completion, one per line. zle handles keys in order and finishes a completion
# before it reads the next key, so no wait is needed; the caller's timeout is the deadline.
zmodload zsh/zpty
script=$1; shift
zpty z 'zsh -f -i'
zpty -w z "PS1='> '; autoload -U compinit; compinit -u -D; source ${(q)script}; show-line() { print -rn -- \$'\\n<<'\"\$BUFFER\"\$'>>\\n'; BUFFER=; }; zle -N show-line; bindkey '^X^B' show-line; echo READ''Y"
zpty -r z line '*READY*'
for l in "$@"; do
  zpty -w -n z "$l"$'\t\C-x\C-b'
  zpty -r z out '*<<*>>*'
  print -r -- "${${out##*<<}%%>>*}"
done
zpty -d z
