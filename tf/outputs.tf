output "resource_id" {
  description = "tfcompute resource id."
  value       = var.resource_id
}

output "private_ips" {
  description = "Private IPv4 addresses of the instances."
  value       = module.ec2.private_ips
}

output "instance_ids" {
  description = "EC2 instance ids."
  value       = module.ec2.instance_ids
}

output "module_version" {
  description = "Version of module-ec2-instance that built the stack."
  value       = module.ec2.module_version
}
