variable "name" {
  description = "Name prefix of every object the module creates; instances are named \"<name>-<index>\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-]{1,48}$", var.name))
    error_message = "name must be 1-48 letters, digits or hyphens."
  }
}

variable "instance_type" {
  description = "EC2 instance type. The AMI is x86_64, so the type must be too."
  type        = string
  default     = "t3.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like an EC2 instance type, such as t3.micro."
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

variable "subnet_id" {
  description = "Subnet the instances are launched in; its VPC holds the security group."
  type        = string

  validation {
    condition     = can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "subnet_id must be a subnet id such as subnet-0123456789abcdef0."
  }
}

variable "ingress_cidr_blocks" {
  description = "IPv4 CIDR blocks allowed to reach ingress_ports. Empty (the default) opens nothing; use SSM Session Manager for shell access."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.ingress_cidr_blocks : can(cidrhost(cidr, 0))])
    error_message = "Every ingress_cidr_blocks entry must be an IPv4 CIDR block."
  }
}

variable "ingress_ports" {
  description = "TCP ports opened to ingress_cidr_blocks."
  type        = list(number)
  default     = [22]

  validation {
    condition     = alltrue([for port in var.ingress_ports : port >= 1 && port <= 65535])
    error_message = "Every ingress port must be between 1 and 65535."
  }
}

variable "associate_public_ip_address" {
  description = "Give each instance a public IPv4 address."
  type        = bool
  default     = false
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
  description = "EBS volume type of the root volume."
  type        = string
  default     = "gp3"

  validation {
    condition     = contains(["gp3", "gp2", "io1", "io2"], var.root_volume_type)
    error_message = "root_volume_type must be gp3, gp2, io1 or io2."
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

variable "tags" {
  description = "Tags applied to every object the module creates."
  type        = map(string)
  default     = {}
}
