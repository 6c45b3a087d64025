#!/usr/bin/env bash
# Shared by the create, update and delete scripts: talk to the tfcompute
# API with curl, follow a job until it finishes, print the resource as JSON.

TFCOMPUTE_URL="${TFCOMPUTE_URL:-http://localhost:8080}"
TFCOMPUTE_TIMEOUT="${TFCOMPUTE_TIMEOUT:-3600}"
TFCOMPUTE_POLL="${TFCOMPUTE_POLL:-1}" # seconds before a broken log stream is resumed
TFCOMPUTE_TOKEN="${TFCOMPUTE_TOKEN:-}"

# curl with the API token, which goes to curl on its standard input rather
# than its command line, where other users of the machine could read it.
curl_api() {
  if [ -n "$TFCOMPUTE_TOKEN" ]; then
    printf 'Authorization: Bearer %s\n' "$TFCOMPUTE_TOKEN" | curl -H @- "$@"
  else
    curl "$@"
  fi
}

die() {
  echo "error: $*" >&2
  exit 1
}

require_tools() {
  local tool
  for tool in curl jq; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required (apt-get install $tool)"
  done
}

# api METHOD PATH [BODY] -> prints the body; exits non-zero with the problem's detail on 4xx/5xx.
api() {
  local method=$1 path=$2 body=${3:-} response status
  local args=(--silent --show-error --max-time 30 -X "$method" -w '\n%{http_code}')
  if [ -n "$body" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  response=$(curl_api "${args[@]}" "${TFCOMPUTE_URL}${path}") || die "cannot reach ${TFCOMPUTE_URL}"
  status=${response##*$'\n'}
  response=${response%$'\n'*}
  if [ "$status" -ge 400 ]; then
    local detail
    detail=$(jq -r '"\(.title // "error"): \(.detail // "")"' <<<"$response" 2>/dev/null) || detail=$response
    die "$method $path answered $status: $detail"
  fi
  printf '%s\n' "$response"
}

# follow_job JOB_ID [OFFSET]: streams the job's Terraform log from byte OFFSET
# (default 0) to stderr (Server-Sent Events) until the job finishes or waits
# for approval; prints its status then. A broken stream is resumed where it
# stopped (Last-Event-ID).
follow_job() {
  local job_id=$1 deadline offset=${2:-0} status='' event='' line remaining
  deadline=$(($(date +%s) + TFCOMPUTE_TIMEOUT))
  while :; do
    remaining=$((deadline - $(date +%s)))
    [ "$remaining" -gt 0 ] || die "gave up after ${TFCOMPUTE_TIMEOUT}s; job ${job_id} has not finished"
    while IFS= read -r line; do
      line=${line%$'\r'}
      case "$line" in
        'id: '*) offset=${line#id: } ;;
        'event: '*) event=${line#event: } ;;
        'data: '*)
          if [ "$event" = end ]; then
            status=$(jq -r .status <<<"${line#data: }")
          else
            printf '%s\n' "${line#data: }" >&2
          fi
          ;;
        '') event='' ;;
      esac
    done < <(curl_api --silent --no-buffer --max-time "$remaining" -H 'Accept: text/event-stream' \
      -H "Last-Event-ID: ${offset}" "${TFCOMPUTE_URL}/api/jobs/${job_id}/log")
    if [ -z "$status" ]; then
      status=$(api GET "/api/jobs/${job_id}" | jq -r .status) || exit 1
    fi
    case "$status" in
      succeeded | failed | cancelled | discarded | planned)
        echo "$status"
        return 0
        ;;
    esac
    status=''
    sleep "$TFCOMPUTE_POLL"
  done
}

# log_size JOB_ID: the length in bytes of the job's log so far.
log_size() {
  curl_api --silent --show-error --max-time 30 "${TFCOMPUTE_URL}/api/jobs/$1/log" | wc -c
}

# finish RESOURCE_JSON EXPECTED_STATUS VERB: follows the resource's job, prints
# the resource (id, status, outputs, error) as JSON, and fails unless it ended
# in EXPECTED_STATUS.
finish() {
  local id job_id final
  id=$(jq -r .id <<<"$1")
  job_id=$(jq -r .job.id <<<"$1")
  echo "$3 ${id}; waiting for job ${job_id}" >&2
  follow_job "$job_id" >/dev/null
  api GET "/api/jobs/${job_id}" |
    jq -r '"\(.action) \(.resource_id): \(.status), \(.progress.completed)/\(.progress.total // "?") resources, attempt \(.attempts)"' >&2
  final=$(api GET "/api/ec2instance/${id}" | jq '{id, status, outputs, job: .job.id} + (if .error then {error} else {} end)')
  printf '%s\n' "$final"
  [ "$(jq -r .status <<<"$final")" = "$2" ]
}
