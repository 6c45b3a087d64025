# EC2 instances with least privilege: no inbound access unless asked for,
# IMDSv2 only, encrypted root volumes tagged at launch, and an instance
# profile that allows SSM Session Manager and nothing else. Where the
# instances go and what is checked first: rules.tf, from facts.tf.

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = "tfcompute instances ${var.name}"
  vpc_id      = try(local.vpc_ids[0], null)
  tags        = merge(local.tags, { Name = var.name })

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
  tags              = local.tags
}

# Outbound HTTPS lets the SSM agent and package managers reach AWS endpoints.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to anywhere"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
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
  tags               = local.tags
}

# What Session Manager needs of an instance, and no more. AWS's managed
# AmazonSSMManagedInstanceCore also allows ssm:GetParameter(s) on every
# parameter of the account, which would let anyone with a shell on an
# instance read them all.
data "aws_iam_policy_document" "session_manager" {
  statement {
    sid = "SessionManager"
    actions = [
      "ssm:UpdateInstanceInformation",
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "session_manager" {
  name_prefix = "session-manager-"
  role        = aws_iam_role.this.id
  policy      = data.aws_iam_policy_document.session_manager.json
}

resource "aws_iam_instance_profile" "this" {
  name_prefix = "${substr(var.name, 0, 32)}-"
  role        = aws_iam_role.this.name
  tags        = local.tags
}

resource "aws_instance" "this" {
  count = var.instance_count

  ami                         = data.aws_ssm_parameter.ami.insecure_value
  instance_type               = var.instance_type
  subnet_id                   = local.instance_subnets[count.index]
  vpc_security_group_ids      = [aws_security_group.this.id]
  iam_instance_profile        = aws_iam_instance_profile.this.name
  associate_public_ip_address = local.public_ip
  monitoring                  = var.detailed_monitoring
  ebs_optimized               = local.ebs_optimized

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  # Burstable types only; T3 would otherwise default to unlimited credits.
  dynamic "credit_specification" {
    for_each = local.facts.burstable ? [var.cpu_credits] : []
    content {
      cpu_credits = credit_specification.value
    }
  }

  root_block_device {
    encrypted             = true
    kms_key_id            = var.kms_key_id
    volume_size           = var.root_volume_size
    volume_type           = var.root_volume_type
    delete_on_termination = true
  }

  # Tagged in the launch request itself, so policies that require tags on
  # create let the launch through (root_block_device tags come after it).
  volume_tags = local.instance_tags[count.index]
  tags        = local.instance_tags[count.index]

  lifecycle {
    # A newer AMI in the SSM parameter must not replace running instances.
    ignore_changes = [ami]
  }
}
