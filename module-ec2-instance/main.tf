# EC2 instances with least privilege: no inbound access unless asked for,
# IMDSv2 only, encrypted root volumes, and an instance profile that allows
# SSM Session Manager and nothing else.

# AWS publishes AMI ids as plain String parameters, so insecure_value (not
# marked sensitive) is the right attribute to read.
data "aws_ssm_parameter" "ami" {
  name = var.ami_ssm_parameter
}

data "aws_subnet" "this" {
  id = var.subnet_id
}

data "aws_partition" "current" {}

locals {
  ingress = {
    for pair in setproduct(var.ingress_cidr_blocks, var.ingress_ports) :
    "${pair[0]}:${pair[1]}" => { cidr = pair[0], port = pair[1] }
  }
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = "tfcompute instances ${var.name}"
  vpc_id      = data.aws_subnet.this.vpc_id
  tags        = merge(var.tags, { Name = var.name })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "this" {
  for_each = local.ingress

  security_group_id = aws_security_group.this.id
  description       = "tcp/${each.value.port} from ${each.value.cidr}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
  tags              = var.tags
}

# Outbound HTTPS lets the SSM agent and package managers reach AWS endpoints.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to anywhere"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name_prefix        = "${substr(var.name, 0, 32)}-"
  description        = "tfcompute instances ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "this" {
  name_prefix = "${substr(var.name, 0, 32)}-"
  role        = aws_iam_role.this.name
  tags        = var.tags
}

resource "aws_instance" "this" {
  count = var.instance_count

  ami                         = data.aws_ssm_parameter.ami.insecure_value
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = [aws_security_group.this.id]
  iam_instance_profile        = aws_iam_instance_profile.this.name
  associate_public_ip_address = var.associate_public_ip_address
  monitoring                  = var.detailed_monitoring
  ebs_optimized               = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    encrypted             = true
    kms_key_id            = var.kms_key_id
    volume_size           = var.root_volume_size
    volume_type           = var.root_volume_type
    delete_on_termination = true
    tags                  = merge(var.tags, { Name = "${var.name}-${count.index}" })
  }

  tags = merge(var.tags, { Name = "${var.name}-${count.index}" })

  lifecycle {
    # A newer AMI in the SSM parameter must not replace running instances.
    ignore_changes = [ami]
  }
}
