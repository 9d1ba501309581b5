#!/usr/bin/env bash
# Put the ODDS .mat files into data/, checked against data/SHA256SUMS.
# Copies from ../shared/data/odds when it is there (or from $ODDS_DIR), else
# downloads from the files' public ODDS links.
# usage: bash scripts/get_data.sh [DATASET ...]      (default: all 16)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/data"
SUMS="$DATA/SHA256SUMS"
LOCAL="${ODDS_DIR:-$(cd "$ROOT/.." && pwd)/shared/data/odds}"

url_of() {  # the ODDS site links each .mat file to this Dropbox address
    case "$1" in
        annthyroid) echo https://www.dropbox.com/s/aifk51owxbogwav/annthyroid.mat?dl=1 ;;
        arrhythmia) echo https://www.dropbox.com/s/lmlwuspn1sey48r/arrhythmia.mat?dl=1 ;;
        cardio)     echo https://www.dropbox.com/s/galg3ihvxklf0qi/cardio.mat?dl=1 ;;
        glass)      echo https://www.dropbox.com/s/iq3hjxw77gpbl7u/glass.mat?dl=1 ;;
        ionosphere) echo https://www.dropbox.com/s/lpn4z73fico4uup/ionosphere.mat?dl=1 ;;
        letter)     echo https://www.dropbox.com/s/rt9i95h9jywrtiy/letter.mat?dl=1 ;;
        lympho)     echo https://www.dropbox.com/s/ag469ssk0lmctco/lympho.mat?dl=1 ;;
        mnist)      echo https://www.dropbox.com/s/n3wurjt8v9qi6nc/mnist.mat?dl=1 ;;
        musk)       echo https://www.dropbox.com/s/we6aqhb0m38i60t/musk.mat?dl=1 ;;
        optdigits)  echo https://www.dropbox.com/s/w52ndgz5k75s514/optdigits.mat?dl=1 ;;
        pendigits)  echo https://www.dropbox.com/s/1x8rzb4a0lia6t1/pendigits.mat?dl=1 ;;
        pima)       echo https://www.dropbox.com/s/mvlwu7p0nyk2a2r/pima.mat?dl=1 ;;
        satellite)  echo https://www.dropbox.com/s/dpzxp8jyr9h93k5/satellite.mat?dl=1 ;;
        satimage-2) echo https://www.dropbox.com/s/hckgvu9m6fs441p/satimage-2.mat?dl=1 ;;
        shuttle)    echo https://www.dropbox.com/s/mk8ozgisimfn3dw/shuttle.mat?dl=1 ;;
        vowels)     echo https://www.dropbox.com/s/pa26odoq6atq9vx/vowels.mat?dl=1 ;;
    esac
}

sum_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ $# -eq 0 ]; then
    set -- $(sed 's/.* \(.*\)\.mat$/\1/' "$SUMS")
fi

status=0
for name in "$@"; do
    expected="$(awk -v f="$name.mat" '$2 == f {print $1}' "$SUMS")"
    if [ -z "$expected" ]; then
        echo "error: $name is not one of the ODDS sets listed in data/SHA256SUMS" >&2
        status=2; continue
    fi
    target="$DATA/$name.mat"
    if [ -f "$target" ] && [ "$(sum_of "$target")" = "$expected" ]; then
        echo "$name: present"; continue
    fi
    tmp="$(mktemp "$DATA/.$name.XXXXXX")"
    trap 'rm -f "$tmp"; exit 130' INT TERM   # an interrupted copy leaves no partial file
    if [ -f "$LOCAL/$name.mat" ]; then
        cp "$LOCAL/$name.mat" "$tmp"; how="copied from $LOCAL"
    elif curl -fsSL --retry 3 -o "$tmp" "$(url_of "$name")"; then
        how="downloaded"
    else
        echo "error: $name: download from $(url_of "$name") failed" >&2
        rm -f "$tmp"; status=1; continue
    fi
    if [ "$(sum_of "$tmp")" != "$expected" ]; then
        echo "error: $name.mat ($how) does not match its SHA256 in data/SHA256SUMS; not installed" >&2
        rm -f "$tmp"; status=1; continue
    fi
    mv "$tmp" "$target"
    trap - INT TERM
    echo "$name: $how, checksum ok"
done
exit $status
