#!/usr/bin/env bash
# --print-config: the effective configuration without a device, a request or a key. The provider
# defaults are the official endpoints, as the SDKs have them; *_BASE_URL overrides them and
# --llm-url overrides both; a key is reported as set or not, never printed. No namespace needed.
set -euo pipefail
SP_BIN=${SP_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
fail() { echo "test_print_config: FAIL: $*" >&2; exit 1; }
# sp ENV... -- ARGS...: slowpath --print-config ARGS with a clean provider environment plus ENV.
sp() {
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env -u ANTHROPIC_API_KEY -u ANTHROPIC_BASE_URL -u OPENAI_API_KEY -u OPENAI_BASE_URL "${envs[@]}" \
        "$SP_BIN/slowpath" --print-config "$@"
}
has() {   # has OUTPUT LINE
    grep -qxF -- "$2" <<<"$1" || fail "no line '$2' in:
$1"
}

out=$(sp -- --llm anthropic) || fail "exit $? for --llm anthropic"
has "$out" "llm: anthropic"
has "$out" "llm_url: https://api.anthropic.com"
has "$out" "llm_url_from: default"
has "$out" "llm_endpoint: https://api.anthropic.com/v1/messages"
has "$out" "llm_api_key: not set (ANTHROPIC_API_KEY)"
has "$out" "llm_timeout_ms: 10000"
has "$out" "llm_retries: 3"
has "$out" "delegate: icmp=native,arp=native,tcp=native"

out=$(sp -- --llm openai)
has "$out" "llm_url: https://api.openai.com/v1"
has "$out" "llm_endpoint: https://api.openai.com/v1/chat/completions"
has "$out" "llm_api_key: not set (OPENAI_API_KEY)"

out=$(sp ANTHROPIC_BASE_URL=http://127.0.0.1:8181 -- --llm anthropic)
has "$out" "llm_url: http://127.0.0.1:8181"
has "$out" "llm_url_from: ANTHROPIC_BASE_URL"
out=$(sp OPENAI_BASE_URL=http://127.0.0.1:8080/v1 -- --llm openai --delegate icmp=llm,tcp=shadow)
has "$out" "llm_url: http://127.0.0.1:8080/v1"
has "$out" "llm_url_from: OPENAI_BASE_URL"
has "$out" "delegate: icmp=llm,arp=native,tcp=shadow"
out=$(sp OPENAI_BASE_URL=http://127.0.0.1:8080/v1 -- --llm openai --llm-url http://127.0.0.1:11434/v1)
has "$out" "llm_url: http://127.0.0.1:11434/v1"
has "$out" "llm_url_from: --llm-url"

out=$(sp ANTHROPIC_API_KEY=sk-ant-do-not-print -- --llm anthropic --delegate icmp=llm --model claude-haiku-4-5 \
    --llm-timeout 15000 --llm-retries 1 --tap tap9 --ip 192.0.2.2/24 --metrics 127.0.0.1:9464 --log-format json)
has "$out" "llm_api_key: set (ANTHROPIC_API_KEY)"
grep -q "do-not-print" <<<"$out" && fail "the key was printed"
has "$out" "llm_model: claude-haiku-4-5"
has "$out" "llm_timeout_ms: 15000"
has "$out" "decision_timeout_ms: 15100"
has "$out" "llm_retries: 1"
has "$out" "tap: tap9"
has "$out" "ip: 192.0.2.2/24"
has "$out" "mac: 02:53:50:00:02:02"
has "$out" "metrics: 127.0.0.1:9464"
has "$out" "log_format: json"

out=$(sp -- --llm sim)
has "$out" "llm: sim"
has "$out" "llm_sim_seed: 1"

# Without --print-config a missing key is still an error, and a bad URL in the environment too.
err=$(env -u ANTHROPIC_API_KEY "$SP_BIN/slowpath" --tap tap9 --ip 192.0.2.2/24 --delegate icmp=llm --llm anthropic 2>&1) &&
    fail "ran without a key"
grep -q "needs ANTHROPIC_API_KEY" <<<"$err" || fail "missing-key message: $err"
err=$(sp ANTHROPIC_BASE_URL="not a url" -- --llm anthropic 2>&1) && fail "printed with a bad ANTHROPIC_BASE_URL"
grep -q "ANTHROPIC_BASE_URL" <<<"$err" || fail "bad-URL message: $err"
echo "test_print_config: PASS"
