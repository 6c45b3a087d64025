# Every input: your own private subnets in two zones (with a NAT gateway or
# VPC endpoints for SSM), SSH from one network, a customer-managed KMS key,
# detailed monitoring, and tags, with the provider's default tags reserved
# so that they win.

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.72.0, < 7.0.0"
    }
  }
}

locals {
  reserved_tags = { "managed-by" = "example" }
}

provider "aws" {
  default_tags {
    tags = local.reserved_tags
  }
}

module "ec2" {
  source = "../.."

  name                        = "example-complete"
  instance_type               = "m7i-flex.large"
  instance_count              = 4
  subnet_ids                  = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  associate_public_ip_address = false
  ingress_cidr_blocks         = ["10.20.0.0/16"]
  ingress_ports               = [22, 443]
  root_volume_size            = 40
  root_volume_type            = "gp3"
  cpu_credits                 = "standard"
  kms_key_id                  = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  ami_ssm_parameter           = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
  detailed_monitoring         = true
  tags                        = { team = "platform", env = "staging" }
  reserved_tags               = local.reserved_tags
}

output "instances" {
  value = {
    ids   = module.ec2.instance_ids
    ips   = module.ec2.private_ips
    zones = module.ec2.availability_zones
    amis  = module.ec2.ami_ids
  }
}
