# Region and credentials come from the standard AWS environment variables
# (AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, ...), which tfcompute workers
# pass through to Terraform.
provider "aws" {
  default_tags {
    tags = local.reserved_tags
  }
}
