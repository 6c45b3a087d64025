#!/usr/bin/env bash
# Change an EC2 stack through the tfcompute API: plan the change, show the
# plan, and apply it once you type "yes" (or at once with --auto-approve).
#
#   scripts/update_resource.sh ID [--instance-type TYPE] [--node-count N] [--tag KEY=VALUE]... [--untag KEY]... [--auto-approve]
#
# Inputs not named keep their values; --untag removes a tag. Without
# --auto-approve the plan waits for your answer at the terminal; with stdin
# not a terminal the script refuses to guess and changes nothing.
# TFCOMPUTE_URL (default http://localhost:8080) is the API's base URL,
# TFCOMPUTE_TOKEN an API token with the write and read scopes, and
# TFCOMPUTE_TIMEOUT (default 3600) how many seconds to wait. Terraform's log
# is followed live on stderr. Exits 0 when the stack is ready with the change
# (or nothing needed changing), 1 otherwise (a discarded plan included).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

[ $# -ge 1 ] || usage 2
case "$1" in -h | --help) usage 0 ;; esac
id=$1
shift
[[ "$id" =~ ^[0-9a-z]{16}$ ]] || die "'$id' is not a resource id (16 characters of 0-9 and a-z)"

require_tools
inputs='{}'
auto_approve=false
while [ $# -gt 0 ]; do
  case "$1" in
    --instance-type)
      [ $# -ge 2 ] || usage 2
      inputs=$(jq --arg v "$2" '.instance_type = $v' <<<"$inputs")
      shift 2
      ;;
    --node-count)
      [ $# -ge 2 ] || usage 2
      [[ "$2" =~ ^[0-9]+$ ]] || die "--node-count takes a whole number"
      inputs=$(jq --argjson v "$2" '.node_count = $v' <<<"$inputs")
      shift 2
      ;;
    --tag)
      [ $# -ge 2 ] || usage 2
      [[ "$2" == *=* ]] || die "--tag takes KEY=VALUE"
      inputs=$(jq --arg k "${2%%=*}" --arg v "${2#*=}" '.tags[$k] = $v' <<<"$inputs")
      shift 2
      ;;
    --untag)
      [ $# -ge 2 ] || usage 2
      inputs=$(jq --arg k "$2" '.tags[$k] = null' <<<"$inputs")
      shift 2
      ;;
    --auto-approve)
      auto_approve=true
      shift
      ;;
    -h | --help) usage 0 ;;
    *)
      echo "unknown argument: $1" >&2
      usage 2
      ;;
  esac
done

# Asked before anything is queued, so a refusal changes nothing.
if [ "$auto_approve" = false ] && [ ! -t 0 ]; then
  die "stdin is not a terminal, so nobody can approve the plan; nothing was changed. Run it at a terminal, or pass --auto-approve to apply whatever the plan is"
fi

# show_plan JOB_JSON: Terraform's counts and each resource's action, on stderr.
show_plan() {
  jq -r '.plan // empty |
    "Plan: \(.add) to add, \(.change) to change, \(.destroy) to destroy (\(.replace) replaced).",
    (.resources[] | "  \({create: "+", update: "~", replace: "-/+", delete: "-"}[.action] // "?") \(.address) (\(.action))"),
    (if (.drift | length) > 0 then "Changed outside Terraform:", (.drift[] | "  \(.address) (\(.action))") else empty end)' <<<"$1" >&2
}

body=$(jq -n --argjson inputs "$inputs" --argjson auto "$auto_approve" '{inputs: $inputs, auto_apply: $auto}')
resource=$(api PATCH "/api/ec2instance/${id}" "$body")
job_id=$(jq -r .job.id <<<"$resource")
echo "planning the change of ${id}; job ${job_id}" >&2
status=$(follow_job "$job_id")
job=$(api GET "/api/jobs/${job_id}")
show_plan "$job"

if [ "$status" = planned ]; then
  printf 'Apply this plan to %s? Only "yes" applies it: ' "$id" >&2
  answer=''
  read -r answer || true
  if [ "$answer" != yes ]; then
    api POST "/api/jobs/${job_id}/discard" >/dev/null
    echo "plan discarded; nothing was changed" >&2
    api GET "/api/ec2instance/${id}" | jq '{id, status, inputs, job: .job.id}'
    exit 1
  fi
  offset=$(log_size "$job_id")
  api POST "/api/jobs/${job_id}/apply" >/dev/null
  status=$(follow_job "$job_id" "$offset")
fi
echo "update ${id}: ${status}" >&2
final=$(api GET "/api/ec2instance/${id}" | jq '{id, status, inputs, outputs, job: .job.id} + (if .error then {error} else {} end)')
printf '%s\n' "$final"
[ "$(jq -r .status <<<"$final")" = ready ] && [ "$status" = succeeded ]
