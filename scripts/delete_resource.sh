#!/usr/bin/env bash
# Destroy an EC2 stack through the tfcompute API, wait until it is deleted and
# print it as JSON.
#
#   scripts/delete_resource.sh ID
#
# TFCOMPUTE_URL (default http://localhost:8080) is the API's base URL,
# TFCOMPUTE_TOKEN an API token with the write and read scopes, and
# TFCOMPUTE_TIMEOUT (default 3600) how many seconds to wait. Terraform's log
# is followed live on stderr. Exits 0 when the stack is deleted, 1 otherwise.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ $# -ne 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exit 2
fi
id=$1
[[ "$id" =~ ^[0-9a-z]{16}$ ]] || die "'$id' is not a resource id (16 characters of 0-9 and a-z)"

require_tools
resource=$(api DELETE "/api/ec2instance/${id}")
finish "$resource" deleted deleting
