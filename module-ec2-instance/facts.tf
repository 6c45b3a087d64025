# What the module needs to know of the account and region before it plans,
# gathered in local.facts. rules.tf decides from them alone, so its checks
# can be tested without AWS (test/module-rules.test.ts replaces this file
# with a variable of the same shape).

# AWS publishes AMI ids as plain String parameters, so insecure_value (not
# marked sensitive) is the right attribute to read.
data "aws_ssm_parameter" "ami" {
  name = var.ami_ssm_parameter
}

data "aws_ec2_instance_type" "this" {
  instance_type = var.instance_type
}

data "aws_ec2_instance_type_offerings" "zones" {
  location_type = "availability-zone"

  filter {
    name   = "instance-type"
    values = [var.instance_type]
  }
}

# Only without subnet_ids: the default VPC, and its default subnets (one per zone).
data "aws_vpcs" "default" {
  count = length(var.subnet_ids) == 0 ? 1 : 0

  filter {
    name   = "is-default"
    values = ["true"]
  }
}

data "aws_subnets" "default" {
  count = length(var.subnet_ids) == 0 ? 1 : 0

  filter {
    name   = "default-for-az"
    values = ["true"]
  }
}

data "aws_subnet" "candidates" {
  for_each = toset(length(var.subnet_ids) > 0 ? var.subnet_ids : data.aws_subnets.default[0].ids)

  id = each.value
}

locals {
  facts = {
    # Whether the region has a default VPC (true when subnet_ids are given: not asked).
    default_vpc   = length(var.subnet_ids) > 0 || length(try(data.aws_vpcs.default[0].ids, [])) > 0
    subnets       = { for id, subnet in data.aws_subnet.candidates : id => { zone = subnet.availability_zone, vpc = subnet.vpc_id } }
    offered_zones = data.aws_ec2_instance_type_offerings.zones.locations
    architectures = data.aws_ec2_instance_type.this.supported_architectures
    burstable     = data.aws_ec2_instance_type.this.burstable_performance_supported
    # "unsupported", "supported" (off unless asked) or "default" (always on).
    ebs_optimized_support = data.aws_ec2_instance_type.this.ebs_optimized_support
  }
}
