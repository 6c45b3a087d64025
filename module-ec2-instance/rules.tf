# Decisions made from the inputs and local.facts (facts.tf) alone, and the
# checks that stop a plan before AWS would refuse the apply, each with a
# message that says what to change. Nothing here calls AWS, so every rule
# is tested with real Terraform and no provider (test/module-rules.test.ts,
# which reads the messages), and through the whole module with the provider
# mocked (tests/*.tftest.hcl).

locals {
  on_default_vpc = length(var.subnet_ids) == 0

  # The subnets in zones that offer the instance type: on the default-VPC
  # path one per zone, ordered by zone, so the instances spread over zones.
  offering = [for id in(local.on_default_vpc ? sort(keys(local.facts.subnets)) : var.subnet_ids) : id if contains(local.facts.offered_zones, try(local.facts.subnets[id].zone, ""))]
  subnet_ids = local.on_default_vpc ? [
    for zone in sort(distinct([for id in local.offering : local.facts.subnets[id].zone])) :
    [for id in local.offering : id if local.facts.subnets[id].zone == zone][0]
  ] : var.subnet_ids
  not_offering = [for id in var.subnet_ids : "${id} (${try(local.facts.subnets[id].zone, "unknown zone")})" if !contains(local.offering, id)]
  vpc_ids      = distinct([for id in local.subnet_ids : try(local.facts.subnets[id].vpc, "")])

  # Instance i's subnet.
  instance_subnets = [for i in range(var.instance_count) : length(local.subnet_ids) > 0 ? local.subnet_ids[i % length(local.subnet_ids)] : null]

  # Asking for EBS optimisation on a type without it (t2, among others)
  # plans cleanly and then fails at launch.
  ebs_optimized = local.facts.ebs_optimized_support != "unsupported"

  public_ip = var.associate_public_ip_address == null ? local.on_default_vpc : var.associate_public_ip_address

  # Repeated CIDR blocks or ports would make duplicate rule keys.
  ingress = {
    for pair in setproduct(distinct(var.ingress_cidr_blocks), distinct(var.ingress_ports)) :
    "${pair[0]}:${pair[1]}" => { cidr = pair[0], port = pair[1] }
  }

  # The caller's reserved tags, then the module's Name, win over tags.
  tags          = merge(var.tags, var.reserved_tags)
  instance_tags = [for i in range(var.instance_count) : merge(local.tags, { Name = "${var.name}-${i}" })]
}

# The checks, on the subnets the module chose (an output, so that a failing
# check stops the plan with its message).
output "subnet_ids" {
  description = "The subnets the instances are launched in; instance i is in subnet i modulo their number."
  value       = local.subnet_ids

  precondition {
    condition     = local.facts.default_vpc
    error_message = "This region has no default VPC (usual in accounts under AWS Control Tower): set subnet_ids to the subnets to launch in. For tfcompute's ec2instance template, set TF_VAR_subnet_ids on the workers, such as [\"subnet-0123456789abcdef0\"]."
  }
  precondition {
    condition     = !local.facts.default_vpc || !local.on_default_vpc || length(local.facts.subnets) > 0
    error_message = "The default VPC has no default subnets: set subnet_ids to the subnets to launch in (for tfcompute's ec2instance template, TF_VAR_subnet_ids on the workers)."
  }
  precondition {
    condition     = !local.on_default_vpc || length(local.facts.subnets) == 0 || length(local.subnet_ids) > 0
    error_message = "No default subnet is in a zone that offers ${var.instance_type} (it is offered in: ${join(", ", sort(local.facts.offered_zones))}): choose another instance_type, or set subnet_ids to subnets in those zones."
  }
  precondition {
    condition     = length(local.not_offering) == 0
    error_message = "${var.instance_type} is not offered in the zone of these subnets: ${join(", ", local.not_offering)}. It is offered in: ${join(", ", sort(local.facts.offered_zones))}."
  }
  precondition {
    condition     = length(local.vpc_ids) <= 1
    error_message = "subnet_ids must all be in one VPC (the instances share a security group); they are in: ${join(", ", local.vpc_ids)}."
  }
  precondition {
    condition     = contains(local.facts.architectures, "x86_64")
    error_message = "${var.instance_type} runs ${join(", ", local.facts.architectures)}, and the AMI is x86_64: choose an x86_64 instance type (such as t3, m7i or c7i; not t4g, m7g or c7g)."
  }
}
