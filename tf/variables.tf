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
  description = "EC2 instance type, from the API's allow-list."
  type        = string
  default     = "t3.micro"
}

variable "node_count" {
  description = "Number of instances, 1-10."
  type        = number
  default     = 1
}

variable "tags" {
  description = "Tags from the API request, applied to every object."
  type        = map(string)
  default     = {}
}

# Operator settings: set them for all resources with TF_VAR_<name> in the
# workers' environment.

variable "subnet_id" {
  description = "Subnet to launch instances in; null picks a default subnet of the region's default VPC."
  type        = string
  default     = null
}

variable "ingress_cidr_blocks" {
  description = "IPv4 CIDR blocks allowed to reach the instances on port 22; empty opens nothing."
  type        = list(string)
  default     = []
}

variable "root_volume_size" {
  description = "Root volume size in GiB."
  type        = number
  default     = 20
}
