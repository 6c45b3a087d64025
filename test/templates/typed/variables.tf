# A template whose variables cover every type constraint tfcompute maps, and
# the validation shapes it translates. outputs.tf echoes each one back, so a
# test can see what Terraform read.

variable "resource_id" {
  type = string
}

variable "name" {
  description = "Required: no default."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.name)) && length(var.name) >= 3 && length(var.name) <= 20
    error_message = "name: 3-20 of a-z, 0-9 and -, starting with a letter."
  }
}

variable "size" {
  type    = string
  default = "small"

  validation {
    condition     = contains(["small", "medium", "large"], var.size)
    error_message = "size: small, medium or large."
  }
}

variable "replicas" {
  type    = number
  default = 2

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 9 && floor(var.replicas) == var.replicas
    error_message = "replicas: a whole number, 1-9."
  }
}

variable "ratio" {
  type    = number
  default = 0.5

  validation {
    condition     = var.ratio > 0 && var.ratio < 1
    error_message = "ratio: strictly between 0 and 1."
  }
}

variable "enabled" {
  type    = bool
  default = true
}

variable "labels" {
  type    = map(string)
  default = { team = "platform" }

  validation {
    condition     = length(var.labels) <= 5
    error_message = "labels: at most 5."
  }
  validation {
    condition     = alltrue([for k, v in var.labels : length(k) >= 1 && length(k) <= 16 && length(v) <= 32])
    error_message = "labels: keys 1-16, values up to 32 characters."
  }
  validation {
    condition     = alltrue([for k in keys(var.labels) : !can(regex("^[aA][wW][sS]:", k))])
    error_message = "labels: the aws: prefix is reserved."
  }
  validation {
    condition     = length(distinct([for k in keys(var.labels) : lower(k)])) == length(var.labels)
    error_message = "labels: keys must differ in more than case."
  }
}

variable "zones" {
  type    = list(string)
  default = ["a"]

  validation {
    condition     = length(var.zones) >= 1 && length(var.zones) <= 3
    error_message = "zones: 1-3."
  }
  validation {
    condition     = alltrue([for z in var.zones : contains(["a", "b", "c"], z)])
    error_message = "zones: each a, b or c."
  }
}

variable "ports" {
  type    = set(number)
  default = [22]

  validation {
    condition     = alltrue([for p in var.ports : p >= 1 && p <= 65535 && floor(p) == p])
    error_message = "ports: whole numbers 1-65535."
  }
}

variable "network" {
  type = object({
    cidr    = string
    private = optional(bool, true)
    dns     = optional(list(string))
    mtu     = optional(number, 1500)
  })
  default = { cidr = "10.0.0.0/16" }
}

variable "pair" {
  type    = tuple([string, number])
  default = ["x", 1]
}

variable "extra" {
  description = "Anything at all."
  type        = any
  default     = null
}

variable "notes" {
  description = "Nullable, with a null default: null is a value here."
  type        = string
  default     = null

  validation {
    condition     = var.notes == null ? true : length(var.notes) <= 40
    error_message = "notes: at most 40 characters."
  }
}

variable "strict_flag" {
  description = "Not nullable: null would read as the default, so the API refuses it."
  type        = bool
  default     = false
  nullable    = false
}

variable "password" {
  description = "A secret: accepted on create, never shown."
  type        = string
  default     = "unset"
  sensitive   = true
}

variable "subnet_id" {
  description = "Operator-set (template.json: expose false); the worker gives it with TF_VAR_subnet_id."
  type        = string
}

variable "checked_late" {
  description = "A validation the API does not translate: Terraform checks it when the job runs."
  type        = string
  default     = "ok"

  validation {
    condition     = upper(var.checked_late) != "FORBIDDEN"
    error_message = "checked_late must not be forbidden, in any case."
  }
}
