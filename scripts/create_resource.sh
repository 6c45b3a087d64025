#!/usr/bin/env bash
# Create an EC2 stack through the tfcompute API, wait until it is ready and
# print it as JSON (id, status, outputs such as private_ips).
#
#   scripts/create_resource.sh [--instance-type TYPE] [--node-count N] [--tag KEY=VALUE]... [--ttl 2h]
#
# TFCOMPUTE_URL (default http://localhost:8080) is the API's base URL,
# TFCOMPUTE_TOKEN an API token with the write and read scopes, and
# TFCOMPUTE_TIMEOUT (default 3600) how many seconds to wait. Terraform's log
# is followed live on stderr. Exits 0 when the stack is ready, 1 otherwise.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

require_tools
body='{}'
while [ $# -gt 0 ]; do
  case "$1" in
    --instance-type)
      [ $# -ge 2 ] || usage 2
      body=$(jq --arg v "$2" '.instance_type = $v' <<<"$body")
      shift 2
      ;;
    --node-count)
      [ $# -ge 2 ] || usage 2
      [[ "$2" =~ ^[0-9]+$ ]] || die "--node-count takes a whole number"
      body=$(jq --argjson v "$2" '.node_count = $v' <<<"$body")
      shift 2
      ;;
    --tag)
      [ $# -ge 2 ] || usage 2
      [[ "$2" == *=* ]] || die "--tag takes KEY=VALUE"
      body=$(jq --arg k "${2%%=*}" --arg v "${2#*=}" '.tags[$k] = $v' <<<"$body")
      shift 2
      ;;
    --ttl)
      [ $# -ge 2 ] || usage 2
      body=$(jq --arg v "$2" '.ttl = $v' <<<"$body")
      shift 2
      ;;
    -h | --help) usage 0 ;;
    *)
      echo "unknown argument: $1" >&2
      usage 2
      ;;
  esac
done

resource=$(api POST /api/ec2instance "$body")
finish "$resource" ready created
