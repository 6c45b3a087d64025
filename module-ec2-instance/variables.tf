variable "name" {
  description = "Name prefix of every object the module creates; instances are named \"<name>-<index>\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-]{1,48}$", var.name))
    error_message = "name must be 1-48 letters, digits or hyphens."
  }
}

variable "instance_type" {
  description = "EC2 instance type, such as t3.micro or m7i-flex.large. It must support x86_64, the AMI's architecture (checked against EC2 at plan time)."
  type        = string
  default     = "t3.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like an EC2 instance type, such as t3.micro or m7i-flex.large."
  }
}

variable "instance_count" {
  description = "Number of instances."
  type        = number
  default     = 1

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 10 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number from 1 to 10."
  }
}

variable "subnet_ids" {
  description = "Subnets to launch in, all in one VPC; instance i goes to subnet i modulo their number, so subnets in several availability zones spread the instances. Each subnet's zone must offer instance_type. Empty (the default): the default VPC's default subnets in the zones that offer instance_type, one per zone."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "Every subnet_ids entry must be a subnet id, such as subnet-0123456789abcdef0."
  }
  validation {
    condition     = length(distinct(var.subnet_ids)) == length(var.subnet_ids)
    error_message = "subnet_ids must not repeat a subnet."
  }
}

variable "ingress_cidr_blocks" {
  description = "IPv4 networks allowed to reach ingress_ports, such as 203.0.113.0/24 (repeats are ignored). Empty (the default) opens nothing; use SSM Session Manager for shell access."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for cidr in var.ingress_cidr_blocks :
      can(regex("^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$", cidr)) && can(cidrhost(cidr, 0)) && try(cidrhost(cidr, 0) == split("/", cidr)[0], false)
    ])
    error_message = "ingress_cidr_blocks must be IPv4 networks with no host bits set, such as 10.0.0.0/24 (IPv6 is not supported); these are not: ${join(", ", [for cidr in var.ingress_cidr_blocks : cidr if !(can(regex("^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$", cidr)) && can(cidrhost(cidr, 0)) && try(cidrhost(cidr, 0) == split("/", cidr)[0], false))])}."
  }
}

variable "ingress_ports" {
  description = "TCP ports opened to ingress_cidr_blocks."
  type        = list(number)
  default     = [22]

  validation {
    condition     = alltrue([for port in var.ingress_ports : port >= 1 && port <= 65535 && floor(port) == port])
    error_message = "Every ingress port must be a whole number from 1 to 65535."
  }
}

variable "associate_public_ip_address" {
  description = "Give each instance a public IPv4 address. null (the default): only on the default-VPC path, whose subnets route out through an internet gateway alone, so the public address is the instances' way to SSM and package repositories. Private subnets need a NAT gateway or VPC endpoints (ssm, ssmmessages, ec2messages) instead."
  type        = bool
  default     = null
}

variable "root_volume_size" {
  description = "Size of each instance's root volume, in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size >= 8 && var.root_volume_size <= 1024
    error_message = "root_volume_size must be between 8 and 1024 GiB."
  }
}

variable "root_volume_type" {
  description = "EBS volume type of the root volume: gp3 or gp2 (io1 and io2 need provisioned IOPS, which this module does not set)."
  type        = string
  default     = "gp3"

  validation {
    condition     = contains(["gp3", "gp2"], var.root_volume_type)
    error_message = "root_volume_type must be gp3 or gp2."
  }
}

variable "cpu_credits" {
  description = "CPU credits of burstable types (t2, t3, t3a, t4g): standard, or unlimited (bursts beyond the credits are billed). Other types ignore it."
  type        = string
  default     = "standard"

  validation {
    condition     = contains(["standard", "unlimited"], var.cpu_credits)
    error_message = "cpu_credits must be standard or unlimited."
  }
}

variable "kms_key_id" {
  description = "KMS key ARN for the root volume's encryption; null uses the account's default EBS key."
  type        = string
  default     = null
}

variable "ami_ssm_parameter" {
  description = "Public SSM parameter naming the AMI: by default the latest Amazon Linux 2023 for x86_64."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

variable "detailed_monitoring" {
  description = "Enable one-minute CloudWatch metrics (billed)."
  type        = bool
  default     = false
}

variable "reserved_tags" {
  description = "Tags the caller reserves (such as its provider's default_tags): applied to every object, volumes included, over tags. tags may not hold their keys, in any case."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags applied to every object the module creates, volumes at launch included."
  type        = map(string)
  default     = {}

  validation {
    # IAM compares tag keys without regard to case: "env" and "Env" on one role fail.
    condition     = length(distinct([for key in keys(var.tags) : lower(key)])) == length(var.tags)
    error_message = "Tag keys must differ in more than case (IAM treats env and Env as one key): ${join(", ", sort(keys(var.tags)))}."
  }
  validation {
    condition     = alltrue([for key in keys(var.tags) : !contains([for reserved in concat(["Name"], keys(var.reserved_tags)) : lower(reserved)], lower(key))])
    error_message = "tags may not set Name (the module names every object) or a key of reserved_tags, in any case: ${join(", ", concat(["Name"], keys(var.reserved_tags)))}."
  }
}
