#!/usr/bin/env bash
# Every capture of ../shared/corpus/pcap replayed through slowpath: the reaction its MANIFEST
# describes, no crash or sanitizer report, clean frames, and a valid ping answered afterwards.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/corpus_replay.py"
