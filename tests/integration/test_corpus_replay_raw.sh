#!/usr/bin/env bash
# The shared corpus replayed as raw IP, as captures made on a TUN are: the IPv4 frames without
# their Ethernet header, in files of link types 101, 228 and 12 (corpus_replay.py --raw). Same
# reactions as over Ethernet, a raw-IP capture of what slowpath sent, and no ARP in it.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/corpus_replay.py" --raw
