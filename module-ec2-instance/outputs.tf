output "instance_ids" {
  description = "Ids of the instances, in index order."
  value       = aws_instance.this[*].id
}

output "private_ips" {
  description = "Private IPv4 addresses of the instances, in index order."
  value       = aws_instance.this[*].private_ip
}

output "public_ips" {
  description = "Public IPv4 addresses of the instances, in index order (empty strings without one)."
  value       = aws_instance.this[*].public_ip
}

output "availability_zones" {
  description = "Availability zones of the instances, in index order."
  value       = aws_instance.this[*].availability_zone
}

output "security_group_id" {
  description = "Id of the instances' security group."
  value       = aws_security_group.this.id
}

output "iam_role_name" {
  description = "Name of the instances' IAM role (Session Manager permissions only)."
  value       = aws_iam_role.this.name
}

output "ami_ids" {
  description = "AMI each instance runs, in index order: the parameter's AMI when it was launched (a newer one does not replace it)."
  value       = aws_instance.this[*].ami
}

output "module_version" {
  description = "This module's version (its VERSION file), recorded with each stack it builds."
  value       = trimspace(file("${path.module}/VERSION"))
}
