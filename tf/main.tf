# One tfcompute resource: a set of EC2 instances in the workspace named by
# the resource id. Without subnet_ids the module launches them in the
# region's default VPC, in the default subnets of zones that offer the
# instance type, with public addresses (their way out to SSM).

locals {
  # Also the provider's default_tags: given to the module too, so that they
  # win over the caller's tags and reach the volumes at launch.
  reserved_tags = {
    "tfcompute:resource-id" = var.resource_id
    "managed-by"            = "tfcompute"
  }
}

module "ec2" {
  source = "../module-ec2-instance"

  name                = "tfcompute-${var.resource_id}"
  instance_type       = var.instance_type
  instance_count      = var.node_count
  subnet_ids          = var.subnet_ids
  ingress_cidr_blocks = var.ingress_cidr_blocks
  root_volume_size    = var.root_volume_size
  tags                = var.tags
  reserved_tags       = local.reserved_tags
}
