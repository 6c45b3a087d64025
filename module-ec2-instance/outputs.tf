output "instance_ids" {
  description = "Ids of the instances, in index order."
  value       = aws_instance.this[*].id
}

output "private_ips" {
  description = "Private IPv4 addresses of the instances, in index order."
  value       = aws_instance.this[*].private_ip
}

output "security_group_id" {
  description = "Id of the instances' security group."
  value       = aws_security_group.this.id
}

output "iam_role_name" {
  description = "Name of the instances' IAM role (SSM core policy only)."
  value       = aws_iam_role.this.name
}

output "ami_id" {
  description = "AMI the instances were launched from."
  value       = data.aws_ssm_parameter.ami.insecure_value
}
