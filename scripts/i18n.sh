#!/usr/bin/env bash
# Translations of our own (Chinese) strings into English.
#   scripts/i18n.sh extract   pybabel extract → portal/translations/messages.pot, then update
#                             the en catalogue (existing translations are kept; new msgids
#                             arrive with an empty msgstr — translate them)
#   scripts/i18n.sh compile   compile the .po files into the .mo files that are committed
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYBABEL=.venv/bin/pybabel
DIR=portal/translations
POT=$DIR/messages.pot
LOCALES=(en)

extract() {
    "$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext \
        --project=crm-portal --copyright-holder="CRM portal" \
        --sort-by-file -o "$POT" .
    for locale in "${LOCALES[@]}"; do
        if [[ -f $DIR/$locale/LC_MESSAGES/messages.po ]]; then
            # No fuzzy guesses: a new string stays untranslated until someone translates it.
            "$PYBABEL" update -i "$POT" -d "$DIR" -l "$locale" \
                --no-fuzzy-matching --ignore-obsolete
        else
            "$PYBABEL" init -i "$POT" -d "$DIR" -l "$locale"
        fi
    done
}

compile() {
    "$PYBABEL" compile -d "$DIR" --statistics
}

case "${1:-}" in
    extract) extract ;;
    compile) compile ;;
    *) echo "usage: $0 extract|compile" >&2; exit 2 ;;
esac
