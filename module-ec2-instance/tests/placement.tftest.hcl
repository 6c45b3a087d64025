# Where the instances go, and the checks that stop the plan first (rules.tf),
# through the real module and the AWS provider's schema, with the provider
# mocked and its answers (tests/aws) changed one at a time: each failing run
# has a passing twin that differs in that answer alone, so the check that
# fails is the one the run is about. The checks' messages are asserted by
# test/module-rules.test.ts (expect_failures cannot see them).

mock_provider "aws" {
  source = "./tests/aws"
}

variables {
  name = "stack"
}

run "default_vpc_one_default_subnet_per_offering_zone_instances_spread" {
  command = plan

  variables {
    instance_count = 4
  }

  assert {
    condition     = output.subnet_ids == tolist(["subnet-0000000a", "subnet-0000000b", "subnet-0000000c"])
    error_message = "One default subnet per zone, in zone order: ${jsonencode(output.subnet_ids)}."
  }
  assert {
    condition     = tolist(aws_instance.this[*].subnet_id) == tolist(["subnet-0000000a", "subnet-0000000b", "subnet-0000000c", "subnet-0000000a"])
    error_message = "Instance i goes to subnet i modulo their number: ${jsonencode(aws_instance.this[*].subnet_id)}."
  }
  assert {
    condition     = alltrue(aws_instance.this[*].associate_public_ip_address)
    error_message = "On the default VPC the instances' way out is a public address."
  }
  assert {
    condition     = aws_security_group.this.vpc_id == "vpc-0000000000000000d"
    error_message = "The security group is in the subnets' VPC."
  }
}

run "no_default_vpc_stops_the_plan" {
  command = plan

  override_data {
    target = data.aws_vpcs.default
    values = {
      ids = []
    }
  }
  override_data {
    target = data.aws_subnets.default
    values = {
      ids = []
    }
  }

  expect_failures = [output.subnet_ids]
}

run "no_default_vpc_given_subnets_pass" {
  command = plan

  override_data {
    target = data.aws_vpcs.default
    values = {
      ids = []
    }
  }
  override_data {
    target = data.aws_subnets.default
    values = {
      ids = []
    }
  }

  variables {
    subnet_ids = ["subnet-0000000b"]
  }

  assert {
    condition     = output.subnet_ids == tolist(["subnet-0000000b"])
    error_message = "Given subnets are used as given."
  }
}

run "default_vpc_without_default_subnets_stops_the_plan" {
  command = plan

  override_data {
    target = data.aws_subnets.default
    values = {
      ids = []
    }
  }

  expect_failures = [output.subnet_ids]
}

run "default_vpc_with_one_default_subnet_passes" {
  command = plan

  override_data {
    target = data.aws_subnets.default
    values = {
      ids = ["subnet-0000000b"]
    }
  }

  assert {
    condition     = output.subnet_ids == tolist(["subnet-0000000b"])
    error_message = "The one default subnet is used."
  }
}

run "no_default_subnet_in_a_zone_offering_the_type_stops_the_plan" {
  command = plan

  override_data {
    target = data.aws_ec2_instance_type_offerings.zones
    values = {
      locations = ["eu-west-1d"]
    }
  }

  expect_failures = [output.subnet_ids]
}

run "default_subnets_only_in_offering_zones_are_used" {
  command = plan

  override_data {
    target = data.aws_ec2_instance_type_offerings.zones
    values = {
      locations = ["eu-west-1c", "eu-west-1d"]
    }
  }

  assert {
    condition     = output.subnet_ids == tolist(["subnet-0000000c"])
    error_message = "Only the subnet in a zone that offers the type: ${jsonencode(output.subnet_ids)}."
  }
}

run "a_given_subnet_in_a_zone_without_the_type_stops_the_plan" {
  command = plan

  override_data {
    target = data.aws_ec2_instance_type_offerings.zones
    values = {
      locations = ["eu-west-1a", "eu-west-1b"]
    }
  }

  variables {
    subnet_ids = ["subnet-0000000a", "subnet-0000000c"]
  }

  expect_failures = [output.subnet_ids]
}

run "given_subnets_in_offering_zones_keep_their_order_and_get_no_public_address" {
  command = plan

  override_data {
    target = data.aws_ec2_instance_type_offerings.zones
    values = {
      locations = ["eu-west-1a", "eu-west-1b"]
    }
  }

  variables {
    subnet_ids     = ["subnet-0000000b", "subnet-0000000a"]
    instance_count = 3
  }

  assert {
    condition     = tolist(aws_instance.this[*].subnet_id) == tolist(["subnet-0000000b", "subnet-0000000a", "subnet-0000000b"])
    error_message = "Given subnets keep their order: ${jsonencode(aws_instance.this[*].subnet_id)}."
  }
  assert {
    condition     = !anytrue(aws_instance.this[*].associate_public_ip_address)
    error_message = "Given subnets are private unless asked."
  }
}

run "given_subnets_in_two_vpcs_stop_the_plan" {
  command = plan

  override_data {
    target = data.aws_subnet.candidates["subnet-0000000b"]
    values = {
      availability_zone = "eu-west-1b"
      vpc_id            = "vpc-00000000000000002"
    }
  }

  variables {
    subnet_ids = ["subnet-0000000a", "subnet-0000000b"]
  }

  expect_failures = [output.subnet_ids]
}

run "given_subnets_in_one_vpc_share_its_security_group" {
  command = plan

  override_data {
    target = data.aws_subnet.candidates["subnet-0000000a"]
    values = {
      availability_zone = "eu-west-1a"
      vpc_id            = "vpc-00000000000000002"
    }
  }
  override_data {
    target = data.aws_subnet.candidates["subnet-0000000b"]
    values = {
      availability_zone = "eu-west-1b"
      vpc_id            = "vpc-00000000000000002"
    }
  }

  variables {
    subnet_ids                  = ["subnet-0000000a", "subnet-0000000b"]
    associate_public_ip_address = true
  }

  assert {
    condition     = aws_security_group.this.vpc_id == "vpc-00000000000000002"
    error_message = "The security group is in the subnets' VPC."
  }
  assert {
    condition     = alltrue(aws_instance.this[*].associate_public_ip_address)
    error_message = "A public address when asked, in given subnets too."
  }
}

run "a_type_without_x86_64_stops_the_plan" {
  command = plan

  override_data {
    target = data.aws_ec2_instance_type.this
    values = {
      supported_architectures         = ["arm64"]
      burstable_performance_supported = true
      ebs_optimized_support           = "default"
    }
  }

  variables {
    instance_type = "t4g.micro"
  }

  expect_failures = [output.subnet_ids]
}
