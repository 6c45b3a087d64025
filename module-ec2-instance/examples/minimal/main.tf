# The least to set: a name. Two t3.micro instances in the region's default
# VPC, spread over the zones that offer the type, reachable only through
# SSM Session Manager (aws ssm start-session --target <instance id>).

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.72.0, < 7.0.0"
    }
  }
}

provider "aws" {}

module "ec2" {
  source = "../.."

  name           = "example-minimal"
  instance_count = 2
}

output "instance_ids" {
  value = module.ec2.instance_ids
}
