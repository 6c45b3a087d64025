#!/usr/bin/env bash
# Installs what `npm run dev` and `npm test` need from the system on
# Debian/Ubuntu when it is missing: redis-server (the queue and store; the
# failover test runs its sentinels as `redis-server --sentinel`, so the
# redis-sentinel package is not needed), redis-cli (redis-tools: the cluster
# test creates its cluster with it), curl
# and jq (used by scripts/create_resource.sh and delete_resource.sh), and
# the linter shellcheck (the test suite lints the scripts).
# Terraform itself must already be on PATH (or named by TF_BIN).
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: ${missing[*]} not found; install them with your package manager (e.g. brew install redis jq shellcheck)" >&2
    exit 1
  fi
  echo "installing ${missing[*]} with apt-get" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v "${TF_BIN:-terraform}" >/dev/null 2>&1; then
  echo "error: ${TF_BIN:-terraform} is not on PATH; install Terraform (or OpenTofu and set TF_BIN=tofu)" >&2
  exit 1
fi
