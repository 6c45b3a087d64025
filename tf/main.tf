# One tfcompute resource: a set of EC2 instances in the workspace named by
# the resource id.

data "aws_vpc" "default" {
  count   = var.subnet_id == null ? 1 : 0
  default = true
}

data "aws_subnets" "default" {
  count = var.subnet_id == null ? 1 : 0

  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default[0].id]
  }

  filter {
    name   = "default-for-az"
    values = ["true"]
  }
}

module "ec2" {
  source = "../module-ec2-instance"

  name                = "tfcompute-${var.resource_id}"
  instance_type       = var.instance_type
  instance_count      = var.node_count
  subnet_id           = var.subnet_id != null ? var.subnet_id : sort(data.aws_subnets.default[0].ids)[0]
  ingress_cidr_blocks = var.ingress_cidr_blocks
  root_volume_size    = var.root_volume_size
  tags                = var.tags
}
