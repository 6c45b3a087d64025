# What the mocked AWS provider answers in every run unless the run says
# otherwise: a region with a default VPC whose three default subnets are in
# zones a, b and c, and t3.micro (x86_64, burstable, EBS-optimised by
# default) offered in all three.

override_data {
  target = data.aws_ssm_parameter.ami
  values = {
    insecure_value = "ami-0123456789abcdef0"
  }
}

override_data {
  target = data.aws_ec2_instance_type.this
  values = {
    supported_architectures         = ["i386", "x86_64"]
    burstable_performance_supported = true
    ebs_optimized_support           = "default"
  }
}

override_data {
  target = data.aws_ec2_instance_type_offerings.zones
  values = {
    locations = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  }
}

override_data {
  target = data.aws_vpcs.default
  values = {
    ids = ["vpc-0000000000000000d"]
  }
}

override_data {
  target = data.aws_subnets.default
  values = {
    ids = ["subnet-0000000c", "subnet-0000000a", "subnet-0000000b"]
  }
}

override_data {
  target = data.aws_subnet.candidates["subnet-0000000a"]
  values = {
    availability_zone = "eu-west-1a"
    vpc_id            = "vpc-0000000000000000d"
  }
}

override_data {
  target = data.aws_subnet.candidates["subnet-0000000b"]
  values = {
    availability_zone = "eu-west-1b"
    vpc_id            = "vpc-0000000000000000d"
  }
}

override_data {
  target = data.aws_subnet.candidates["subnet-0000000c"]
  values = {
    availability_zone = "eu-west-1c"
    vpc_id            = "vpc-0000000000000000d"
  }
}

# The provider's own validators still run on the planned arguments, and the
# role's and its policy's need a JSON policy document.
mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}
