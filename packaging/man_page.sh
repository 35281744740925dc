#!/usr/bin/env bash
# Writes the man page ektp(1) from the binary's own command table: `ektp help`
# lists the commands, `ektp help <command>` gives each one's flags. Run by the
# build (packaging/CMakeLists.txt); never edit the output by hand.
#
#   packaging/man_page.sh path/to/ektp out/ektp.1
set -euo pipefail
ektp="$1"
out="$2"

# Roff-safe text: backslashes, and a leading dot or quote.
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

version="$("$ektp" --version | awk '{print $2}')"
{
  echo ".TH EKTP 1 \"\" \"ektp $version\" \"User Commands\""
  echo ".SH NAME"
  echo "ektp \\- e\\-KTP issuance platform: central, station and tools in one binary"
  echo ".SH SYNOPSIS"
  echo ".B ektp"
  echo ".I command"
  echo "[\\fIflags\\fR]"
  echo ".br"
  echo ".B ektp help"
  echo "[\\fIcommand\\fR]"
  echo ".SH DESCRIPTION"
  echo "One binary is central (the authority: register, de\\-duplication, print queue, blank\\-card ledger),"
  echo "station (the node in each office and van, which works offline and syncs) and every tool."
  echo "Each command's flags follow; serving commands also read a TOML file given with \\fB\\-\\-config\\fR."
  echo ".SH COMMANDS"
  # Command lines of `ektp help`: two spaces, the words, two or more spaces, the summary.
  "$ektp" help | awk '/^Commands:/ { listing = 1; next } listing && /^  [a-z]/' |
    while IFS= read -r line; do
      command="$(sed -E 's/^  ([a-z0-9 -]+[a-z0-9])  +.*/\1/' <<<"$line")"
      summary="$(sed -E 's/^  [a-z0-9 -]+[a-z0-9]  +//' <<<"$line")"
      echo ".SS ektp $command"
      roff <<<"$summary"
      # shellcheck disable=SC2086  # a command is several words
      flags="$("$ektp" help $command | awk '/^Options:/ { listing = 1; next } listing && NF && !/^  -h,--help/')"
      if [ -n "$flags" ]; then
        echo ".PP"
        echo ".nf"
        roff <<<"$flags"
        echo ".fi"
      fi
    done
  echo ".SH FILES"
  echo ".TP"
  echo ".I /etc/ektp/central.toml, /etc/ektp/station.toml"
  echo "every key of \\fBektp central serve\\fR and \\fBektp station serve\\fR, commented, with its default"
  echo ".TP"
  echo ".I /var/lib/ektp"
  echo "data directories (keys, databases), owned by the system user \\fBektp\\fR, mode 0700"
  echo ".TP"
  echo ".I /lib/systemd/system/ektp\\-central.service, ektp\\-station.service"
  echo "the services; \\fBjournalctl \\-u ektp\\-central\\fR shows their logs"
  echo ".SH SEE ALSO"
  echo ".BR systemctl (1),"
  echo ".BR journalctl (1),"
  echo ".I /usr/share/doc/ektp/operations.md"
} >"$out"
