# Set by tfcompute for every job.

variable "resource_id" {
  description = "tfcompute resource id; also the Terraform workspace name."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-z]{16}$", var.resource_id))
    error_message = "resource_id must be 16 characters of 0-9 and a-z."
  }
}

variable "instance_type" {
  description = "EC2 instance type: current-generation x86_64 only, as the module picks an x86_64 AMI."
  type        = string
  default     = "t3.micro"

  validation {
    condition = contains([
      "t3.nano", "t3.micro", "t3.small", "t3.medium", "t3.large", "t3.xlarge", "t3.2xlarge",
      "t3a.nano", "t3a.micro", "t3a.small", "t3a.medium", "t3a.large", "t3a.xlarge", "t3a.2xlarge",
      "m7i.large", "m7i.xlarge", "m7i.2xlarge", "m7i-flex.large", "m7i-flex.xlarge", "m7i-flex.2xlarge",
      "c7i.large", "c7i.xlarge", "c7i.2xlarge",
      "r7i.large", "r7i.xlarge", "r7i.2xlarge",
    ], var.instance_type)
    error_message = "instance_type must be one of the allowed current-generation x86_64 types."
  }
}

variable "node_count" {
  description = "Number of instances, 1-10."
  type        = number
  default     = 1

  validation {
    condition     = var.node_count >= 1 && var.node_count <= 10 && floor(var.node_count) == var.node_count
    error_message = "node_count must be a whole number from 1 to 10."
  }
}

variable "tags" {
  description = "Tags applied to every AWS object of the stack (at most 20; keys 1-128, values 0-256 characters)."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 20
    error_message = "At most 20 tags."
  }
  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be 1-128 characters and values at most 256."
  }
  validation {
    condition     = alltrue([for k, v in var.tags : can(regex("^[\\p{L}\\p{N} _.:/=+\\-@]*$", k)) && can(regex("^[\\p{L}\\p{N} _.:/=+\\-@]*$", v))])
    error_message = "Tag keys and values may hold letters, digits, spaces and _ . : / = + - @."
  }
  validation {
    condition     = alltrue([for k in keys(var.tags) : !can(regex("^[aA][wW][sS]:", k))])
    error_message = "The aws: tag prefix is reserved by AWS."
  }
  validation {
    condition     = alltrue([for k in keys(var.tags) : !can(regex("^([nN][aA][mM][eE]|[mM][aA][nN][aA][gG][eE][dD]-[bB][yY]|[tT][fF][cC][oO][mM][pP][uU][tT][eE]:.*)$", k))])
    error_message = "Name, managed-by and the tfcompute: prefix are set by tfcompute (in any case)."
  }
  validation {
    # IAM compares tag keys without regard to case: "env" and "Env" on one role fail.
    condition     = length(distinct([for k in keys(var.tags) : lower(k)])) == length(var.tags)
    error_message = "Tag keys must differ in more than case (IAM treats env and Env as one key)."
  }
}

# Operator settings (template.json: "expose": false): never part of the API;
# set them for all stacks with TF_VAR_<name> in the workers' environment.

variable "subnet_ids" {
  description = "Subnets to launch in, in one VPC (the instances spread over them); empty: the default VPC's default subnets in zones that offer the instance type, with public addresses."
  type        = list(string)
  default     = []
}

variable "ingress_cidr_blocks" {
  description = "IPv4 networks allowed to reach the instances on port 22; empty opens nothing."
  type        = list(string)
  default     = []
}

variable "root_volume_size" {
  description = "Root volume size in GiB."
  type        = number
  default     = 20
}
