# What the module plans for the instances and around them, through the real
# module and the AWS provider's schema and validators, with the provider
# mocked (tests/aws): the arguments that depend on the instance type, the
# security group's rules, metadata options, root volume, tags, and the
# variables' validations that need a real plan to matter. Each refusal has
# a passing twin that differs in that input alone.

mock_provider "aws" {
  source = "./tests/aws"
}

variables {
  name = "stack"
}

run "a_t3_type_is_ebs_optimised_with_standard_credits_imdsv2_and_an_encrypted_root_volume" {
  command = plan

  assert {
    condition     = aws_instance.this[0].instance_type == "t3.micro"
    error_message = "The default instance type is t3.micro."
  }
  assert {
    condition     = aws_instance.this[0].ami == "ami-0123456789abcdef0"
    error_message = "The AMI is the SSM parameter's."
  }
  assert {
    condition     = aws_instance.this[0].ebs_optimized == true
    error_message = "A type whose EBS optimisation is on by default asks for it."
  }
  assert {
    condition     = length(aws_instance.this[0].credit_specification) == 1 && aws_instance.this[0].credit_specification[0].cpu_credits == "standard"
    error_message = "A burstable type gets standard credits unless asked."
  }
  assert {
    condition = aws_instance.this[0].metadata_options[0] == {
      http_endpoint               = "enabled"
      http_protocol_ipv6          = aws_instance.this[0].metadata_options[0].http_protocol_ipv6
      http_tokens                 = "required"
      http_put_response_hop_limit = 1
      instance_metadata_tags      = "disabled"
    }
    error_message = "IMDSv2 only, hop limit 1, no tags in the metadata: ${jsonencode(aws_instance.this[0].metadata_options[0])}."
  }
  assert {
    condition = (
      aws_instance.this[0].root_block_device[0].encrypted == true &&
      aws_instance.this[0].root_block_device[0].volume_size == 20 &&
      aws_instance.this[0].root_block_device[0].volume_type == "gp3" &&
      aws_instance.this[0].root_block_device[0].delete_on_termination == true
    )
    error_message = "An encrypted 20 GiB gp3 root volume, deleted with the instance."
  }
  assert {
    condition     = aws_instance.this[0].monitoring == false
    error_message = "No detailed monitoring unless asked."
  }
}

# Applied, against the mock: what is known only once the objects exist.
run "applied_the_instances_get_the_profile_and_security_group_and_the_outputs_name_them" {
  variables {
    instance_count = 2
  }

  assert {
    condition     = alltrue([for instance in aws_instance.this : instance.iam_instance_profile == aws_iam_instance_profile.this.name])
    error_message = "The instances get the module's instance profile."
  }
  assert {
    condition     = alltrue([for instance in aws_instance.this : tolist(instance.vpc_security_group_ids) == tolist([aws_security_group.this.id])])
    error_message = "The instances are in the module's security group alone."
  }
  assert {
    condition     = aws_iam_instance_profile.this.role == aws_iam_role.this.name && aws_iam_role_policy.session_manager.role == aws_iam_role.this.id
    error_message = "The profile holds the role, and the Session Manager policy is the role's."
  }
  assert {
    condition     = output.instance_ids == aws_instance.this[*].id && output.security_group_id == aws_security_group.this.id
    error_message = "The outputs name the objects."
  }
  assert {
    condition     = output.module_version == trimspace(file("VERSION"))
    error_message = "module_version is the VERSION file's."
  }
}

run "a_t2_type_does_not_ask_for_ebs_optimisation" {
  command = plan

  override_data {
    target = data.aws_ec2_instance_type.this
    values = {
      supported_architectures         = ["i386", "x86_64"]
      burstable_performance_supported = true
      ebs_optimized_support           = "unsupported"
    }
  }

  variables {
    instance_type = "t2.micro"
  }

  assert {
    condition     = aws_instance.this[0].ebs_optimized == false
    error_message = "t2 types fail to launch when asked for EBS optimisation."
  }
  assert {
    condition     = aws_instance.this[0].credit_specification[0].cpu_credits == "standard"
    error_message = "t2 is burstable."
  }
}

run "a_type_where_ebs_optimisation_is_optional_asks_for_it" {
  command = plan

  override_data {
    target = data.aws_ec2_instance_type.this
    values = {
      supported_architectures         = ["x86_64"]
      burstable_performance_supported = false
      ebs_optimized_support           = "supported"
    }
  }

  variables {
    instance_type = "m4.large"
  }

  assert {
    condition     = aws_instance.this[0].ebs_optimized == true
    error_message = "Where it is optional, EBS optimisation is asked for."
  }
}

run "a_non_burstable_type_gets_no_credit_specification" {
  command = plan

  override_data {
    target = data.aws_ec2_instance_type.this
    values = {
      supported_architectures         = ["x86_64"]
      burstable_performance_supported = false
      ebs_optimized_support           = "default"
    }
  }

  variables {
    instance_type = "m7i-flex.large"
    cpu_credits   = "unlimited"
  }

  assert {
    condition     = length(aws_instance.this[0].credit_specification) == 0
    error_message = "Only burstable types take a credit specification."
  }
}

run "a_burstable_type_gets_the_credits_asked_for" {
  command = plan

  variables {
    cpu_credits = "unlimited"
  }

  assert {
    condition     = aws_instance.this[0].credit_specification[0].cpu_credits == "unlimited"
    error_message = "cpu_credits reaches the burstable instance."
  }
}

run "ingress_rules_one_per_network_and_port_repeats_merged_and_https_out" {
  command = plan

  variables {
    ingress_cidr_blocks = ["10.0.0.0/8", "203.0.113.0/24", "10.0.0.0/8"]
    ingress_ports       = [22, 443, 22]
  }

  assert {
    condition     = toset(keys(aws_vpc_security_group_ingress_rule.this)) == toset(["10.0.0.0/8:22", "10.0.0.0/8:443", "203.0.113.0/24:22", "203.0.113.0/24:443"])
    error_message = "One rule per network and port: ${jsonencode(keys(aws_vpc_security_group_ingress_rule.this))}."
  }
  assert {
    condition = alltrue([
      for key, rule in aws_vpc_security_group_ingress_rule.this :
      rule.ip_protocol == "tcp" && "${rule.cidr_ipv4}:${rule.from_port}" == key && rule.to_port == rule.from_port
    ])
    error_message = "Each rule opens one TCP port to one network."
  }
  assert {
    condition = (
      aws_vpc_security_group_egress_rule.https.ip_protocol == "tcp" &&
      aws_vpc_security_group_egress_rule.https.from_port == 443 &&
      aws_vpc_security_group_egress_rule.https.to_port == 443 &&
      aws_vpc_security_group_egress_rule.https.cidr_ipv4 == "0.0.0.0/0"
    )
    error_message = "Outbound HTTPS only."
  }
}

run "no_ingress_networks_open_nothing" {
  command = plan

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.this) == 0
    error_message = "No inbound rule unless asked."
  }
}

run "an_ingress_network_with_host_bits_is_refused" {
  command = plan

  variables {
    ingress_cidr_blocks = ["10.0.0.5/24"]
  }

  expect_failures = [var.ingress_cidr_blocks]
}

run "the_same_network_without_host_bits_is_opened" {
  command = plan

  variables {
    ingress_cidr_blocks = ["10.0.0.0/24"]
  }

  assert {
    condition     = keys(aws_vpc_security_group_ingress_rule.this) == ["10.0.0.0/24:22"]
    error_message = "The network is opened on the default port."
  }
}

run "a_tag_with_a_reserved_key_in_another_case_is_refused" {
  command = plan

  variables {
    tags          = { team = "platform", "Managed-By" = "me" }
    reserved_tags = { "managed-by" = "tfcompute" }
  }

  expect_failures = [var.tags]
}

run "tags_and_reserved_tags_reach_every_object_with_the_module_naming_them" {
  command = plan

  variables {
    instance_count = 2
    tags           = { team = "platform" }
    reserved_tags  = { "managed-by" = "tfcompute" }
  }

  assert {
    condition = [for instance in aws_instance.this : instance.tags] == [
      tomap({ team = "platform", "managed-by" = "tfcompute", Name = "stack-0" }),
      tomap({ team = "platform", "managed-by" = "tfcompute", Name = "stack-1" }),
    ]
    error_message = "Each instance is tagged and named by its index: ${jsonencode(aws_instance.this[*].tags)}."
  }
  assert {
    condition     = alltrue([for instance in aws_instance.this : instance.volume_tags == instance.tags])
    error_message = "The volumes are tagged in the launch request with the instance's tags."
  }
  assert {
    condition     = aws_security_group.this.tags == tomap({ team = "platform", "managed-by" = "tfcompute", Name = "stack" })
    error_message = "The security group is tagged and named."
  }
  assert {
    condition = alltrue([
      for tags in [aws_iam_role.this.tags, aws_iam_instance_profile.this.tags, aws_vpc_security_group_egress_rule.https.tags] :
      tags == tomap({ team = "platform", "managed-by" = "tfcompute" })
    ])
    error_message = "The role, the instance profile and the rules are tagged."
  }
}

run "a_48_character_name_fits_every_name_prefix_the_provider_validates" {
  command = plan

  variables {
    name = "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcd"
  }

  assert {
    condition     = aws_iam_role.this.name_prefix == "abcdefghij-abcdefghij-abcdefghij-"
    error_message = "The role's name prefix is cut to 32 characters and a hyphen: ${aws_iam_role.this.name_prefix}."
  }
  assert {
    condition     = aws_security_group.this.name_prefix == "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcd-"
    error_message = "The security group's name prefix is the whole name and a hyphen."
  }
}

run "the_complete_examples_inputs_plan" {
  command = plan

  override_data {
    target = data.aws_ec2_instance_type.this
    values = {
      supported_architectures         = ["x86_64"]
      burstable_performance_supported = false
      ebs_optimized_support           = "default"
    }
  }

  variables {
    name                        = "example-complete"
    instance_type               = "m7i-flex.large"
    instance_count              = 4
    subnet_ids                  = ["subnet-0000000a", "subnet-0000000b"]
    associate_public_ip_address = false
    ingress_cidr_blocks         = ["10.20.0.0/16"]
    ingress_ports               = [22, 443]
    root_volume_size            = 40
    kms_key_id                  = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    detailed_monitoring         = true
    tags                        = { team = "platform", env = "staging" }
    reserved_tags               = { "managed-by" = "example" }
  }

  assert {
    condition = alltrue([
      for instance in aws_instance.this :
      instance.root_block_device[0].kms_key_id == "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" && instance.root_block_device[0].volume_size == 40 && instance.monitoring
    ])
    error_message = "The KMS key, the volume size and detailed monitoring reach every instance."
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.this) == 2
    error_message = "SSH and HTTPS from one network."
  }
}
